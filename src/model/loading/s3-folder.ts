/**
 * A model in an S3 folder, in either layout: the version a manifest lists (`model push`), each file
 * checked against its size and SHA-256, or a Hugging Face folder without one, its file names tried
 * in order. The files are read at once; tokenizer.json is announced as soon as it lands, so that it
 * is parsed while the ONNX file is still arriving.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { missingModelFile, isLoadFailure } from './errors';
import { MAX_MANIFEST_BYTES } from './size-limits';
import { MODEL_MANIFEST, parseManifest, type ManifestFile, type ModelManifest } from './manifest';
import {
  CONFIG_FILE,
  TOKENIZER_FILE,
  candidatesFor,
  isQuantizedName,
  onnxCandidates,
  parseConfig,
} from './model-files';
import type { TargetChoice } from './part-sink';
import { fileInMemory, inMemory, targetFor } from './read-targets';
import { readS3Object, type ExpectedContent, type ObjectRead, type ReadDependencies } from './s3-object';
import { s3Uri, type ModelSource } from './source-uri';
import type { FetchedFiles, SourceReadOptions } from './types';
import type { SpillFolder } from '../../support/tmp-folders';

/** What reading a folder needs from the load's options (fetch-model-files.ts, FetchOptions). */
export interface S3FolderOptions extends SourceReadOptions {
  /** Creates spill files; injectable to test a full disk (default: fs.promises.open). */
  openFile?: ReadDependencies['openFile'];
  /** Called once the model file's GETs are in flight; see ReadDependencies.onRequested. */
  onModelRequested?: () => void;
  /**
   * Called with tokenizer.json's text as soon as it is read, while the ONNX file may still be
   * arriving, so that it can be parsed meanwhile. Must not throw.
   */
  onTokenizerJson?: (json: string) => void;
}

/** tokenizer.json read, and its text (decoded once, for the early parse and for the engine alike). */
interface TokenizerRead {
  read: ObjectRead;
  json: string;
}

/** The tokenizer's read, decoded and announced to `onTokenizerJson` as soon as it is done. */
async function readTokenizer(options: S3FolderOptions, read: Promise<ObjectRead>): Promise<TokenizerRead> {
  const done = await read;
  const json = (done.data as Buffer).toString('utf8');
  options.onTokenizerJson?.(json);
  return { read: done, json };
}

/** One load of an S3 folder: what the manifest and the Hugging Face layout readers share. */
export interface S3FolderLoad {
  source: Extract<ModelSource, { kind: 's3-folder' }>;
  client: S3Client;
  options: S3FolderOptions;
  spill: SpillFolder;
  /** Aborts every read of the load (settleAll calls it on the first failure). */
  stop: () => void;
  signal: AbortSignal;
}

/** Reads one object of the load, into memory or a spill file as `target` chooses. */
function readFromLoad(
  load: S3FolderLoad,
  key: string,
  target: TargetChoice,
  expected?: ExpectedContent,
  onRequested?: () => void,
) {
  const { client, source, options, signal } = load;
  return readS3Object(client, source.bucket, key, options.read, target, expected, {
    signal,
    openFile: options.openFile,
    onRequested,
  });
}

/** The files of a folder read, as FetchedFiles (both layouts). */
function folderFiles(
  load: S3FolderLoad,
  tokenizerObject: string,
  onnxName: string,
  onnx: ObjectRead,
  tok: TokenizerRead,
  cfg: ObjectRead | undefined,
  version: string | null,
): FetchedFiles {
  return {
    source: load.source.uri,
    modelObject: onnx.uri,
    tokenizerObject,
    model: onnx.data,
    tokenizerJson: tok.json,
    config: cfg ? parseConfig((cfg.data as Buffer).toString('utf8'), cfg.uri) : undefined,
    quantized: isQuantizedName(onnxName),
    bytes: onnx.bytes + tok.read.bytes + (cfg?.bytes ?? 0),
    etag: onnx.etag,
    version,
  };
}

export async function fetchS3Folder(load: S3FolderLoad): Promise<FetchedFiles> {
  const { source } = load;
  const { bucket, prefix } = source;
  const manifestObject = s3Uri(bucket, prefix + MODEL_MANIFEST);
  let manifest: ModelManifest | undefined;
  try {
    const read = await readFromLoad(
      load,
      prefix + MODEL_MANIFEST,
      inMemory(manifestObject, (bytes) =>
        bytes > MAX_MANIFEST_BYTES ? `${bytes} bytes, over the limit of ${MAX_MANIFEST_BYTES} for a manifest` : null,
      ),
    );
    manifest = parseManifest((read.data as Buffer).toString('utf8'), manifestObject);
  } catch (err) {
    // No manifest: a folder uploaded by other means, read the Hugging Face way below. Without
    // s3:ListBucket S3 answers a missing key with 403, not 404: that folder layout never needed
    // the permission, so a 403 here falls back too (a real denial then shows on its files).
    if (!isLoadFailure(err, 'OBJECT_NOT_FOUND') && !isLoadFailure(err, 'ACCESS_DENIED')) throw err;
  }
  return manifest ? fetchManifestFolder(load, manifest, manifestObject) : fetchHubLayoutFolder(load);
}

/** Exactly the files the manifest lists for its version, each checked against its size and SHA-256. */
async function fetchManifestFolder(
  load: S3FolderLoad,
  manifest: ModelManifest,
  manifestObject: string,
): Promise<FetchedFiles> {
  const { source, options, spill, stop } = load;
  const { bucket } = source;
  const root = source.prefix + manifest.folder;
  const listed = new Map(manifest.files.map((f) => [f.path, f]));
  const tokenizerObject = s3Uri(bucket, root + TOKENIZER_FILE);
  const tokenizerFile = listed.get(TOKENIZER_FILE);
  if (!tokenizerFile) {
    throw missingModelFile(
      tokenizerObject,
      `${manifestObject} (version ${manifest.version}) lists no ${TOKENIZER_FILE}`,
    );
  }
  const onnxName = candidatesFor(options).find((c) => listed.has(c));
  if (!onnxName) {
    throw missingModelFile(
      s3Uri(bucket, root + onnxCandidates(options.preferQuantized)[0]!),
      `${manifestObject} (version ${manifest.version}) lists no ONNX model; files: ${[...listed.keys()].join(', ')}`,
    );
  }
  const onnxFile = listed.get(onnxName)!;
  const configFile = listed.get(CONFIG_FILE);
  const read = (file: ManifestFile, target: TargetChoice, onRequested?: () => void) =>
    readFromLoad(
      load,
      root + file.path,
      target,
      { bytes: file.bytes, sha256: file.sha256, parts: file.parts },
      onRequested,
    );
  const uriOf = (file: ManifestFile): string => s3Uri(bucket, root + file.path);
  // The tokenizer and config are held in memory whatever happens: the ONNX body gets what is left.
  const beside = tokenizerFile.bytes + (configFile?.bytes ?? 0);
  const [tok, cfg, onnx] = await settleAll(stop, [
    readTokenizer(options, read(tokenizerFile, fileInMemory(options, TOKENIZER_FILE, uriOf(tokenizerFile)))),
    configFile ? read(configFile, fileInMemory(options, CONFIG_FILE, uriOf(configFile))) : Promise.resolve(undefined),
    read(onnxFile, targetFor(options, spill, onnxName, uriOf(onnxFile), beside), options.onModelRequested),
  ] as const);
  return folderFiles(load, tokenizerObject, onnxName, onnx, tok, cfg, manifest.version);
}

/**
 * Waits for all reads. The first failure stops the others at once (`stop` aborts the signal they
 * share: finishing them would be for nothing) and is the answer, given once they have all settled,
 * so that no read is still writing into the spill folder when it is removed.
 */
async function settleAll<T extends readonly unknown[]>(
  stop: () => void,
  reads: { [K in keyof T]: Promise<T[K]> },
): Promise<T> {
  // The first failure in time, not in array order: the others may only say they were stopped.
  let first: { reason: unknown } | undefined;
  for (const r of reads as readonly Promise<unknown>[]) {
    r.catch((reason: unknown) => {
      first ??= { reason };
      stop();
    });
  }
  const results = await Promise.allSettled(reads as readonly Promise<unknown>[]);
  if (first) throw first.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** A Hugging Face layout without manifest: names tried in order with GetObject (no ListBucket needed). */
async function fetchHubLayoutFolder(load: S3FolderLoad): Promise<FetchedFiles> {
  const { source, options, spill, stop } = load;
  const { bucket, prefix } = source;
  const read = (key: string, target: TargetChoice, onRequested?: () => void) =>
    readFromLoad(load, prefix + key, target, undefined, onRequested);
  const tokenizerObject = s3Uri(bucket, prefix + TOKENIZER_FILE);

  const tokenizer = readTokenizer(
    options,
    read(TOKENIZER_FILE, fileInMemory(options, TOKENIZER_FILE, tokenizerObject)),
  ).catch((err: unknown) => {
    throw isLoadFailure(err, 'OBJECT_NOT_FOUND')
      ? missingModelFile(tokenizerObject, 'the engine needs a Hugging Face tokenizer.json', { cause: err })
      : err;
  });
  // config.json is optional: absent means defaults (512 positions, not a demo).
  const config = read(CONFIG_FILE, fileInMemory(options, CONFIG_FILE, s3Uri(bucket, prefix + CONFIG_FILE))).catch(
    (err: unknown) => {
      if (isLoadFailure(err, 'OBJECT_NOT_FOUND')) return undefined;
      throw err;
    },
  );
  const model = (async () => {
    const tried: string[] = [];
    for (const candidate of candidatesFor(options)) {
      try {
        return {
          name: candidate,
          read: await read(
            candidate,
            targetFor(options, spill, candidate, s3Uri(bucket, prefix + candidate)),
            options.onModelRequested,
          ),
        };
      } catch (err) {
        // Only "no such key" means "try the next name"; a missing bucket or a 403 is the answer.
        if (!isLoadFailure(err, 'OBJECT_NOT_FOUND')) throw err;
        tried.push(candidate);
      }
    }
    throw missingModelFile(
      s3Uri(bucket, prefix + onnxCandidates(options.preferQuantized)[0]!),
      `no ONNX model under ${source.uri}; tried ${tried.join(', ')}`,
    );
  })();
  const [tok, cfg, onnx] = await settleAll(stop, [tokenizer, config, model] as const);
  return folderFiles(load, tokenizerObject, onnx.name, onnx.read, tok, cfg, null);
}
