import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3ReadOptions } from './config';
import { InvalidModelError, MissingModelFileError, ModelLoadError, ModelObjectNotFoundError } from './errors';
import { unpackModelBundle, type UnpackedBundle } from './archive';
import { CONFIG_FILE, TOKENIZER_FILE, isQuantizedName, onnxCandidates } from './model-files';
import { collectToBuffer, collectToFile, openS3Object, type OpenedObject } from './s3-object';
import { s3Uri, type ModelSource } from './source-uri';

/** Everything needed to create an engine, plus where it came from and what reading it cost. */
export interface ModelFiles {
  source: string;
  /** URI or path of the ONNX file (`archive!/entry` inside a bundle), for error messages. */
  modelObject: string;
  tokenizerObject: string;
  /** ONNX bytes, or a file path (local folders, and bodies spilled to disk). */
  model: Uint8Array | string;
  tokenizerJson: string;
  config: Record<string, unknown> | undefined;
  quantized: boolean;
  /** Bytes of model + tokenizer (+ config) read, or the archive's size. */
  bytes: number;
  /** ETag of the ONNX object (or of the archive), when from S3. */
  etag: string | null;
  downloadMs: number;
  /** Temporary files to delete once the session has been created. */
  tempFiles: string[];
}

/** What fetching needs; the S3 client is injected (one per process, configured by the caller). */
export interface FetchOptions {
  s3?: S3Client;
  preferQuantized: boolean;
  read: S3ReadOptions;
}

/** Reads a model's files from any supported source. */
export async function fetchModelFiles(source: ModelSource, options: FetchOptions): Promise<ModelFiles> {
  const started = performance.now();
  let files: Omit<ModelFiles, 'downloadMs'>;
  switch (source.kind) {
    case 's3-folder':
      files = await fetchS3Folder(source, requireClient(options, source.uri), options);
      break;
    case 's3-archive': {
      const client = requireClient(options, source.uri);
      const obj = await openS3Object(client, source.bucket, source.key, options.read);
      const bundle = await unpackModelBundle(obj.chunks, source.uri, unpackOptions(options));
      files = fromBundle(source.uri, bundle, obj.contentLength, obj.etag);
      break;
    }
    case 'local-archive': {
      const size = (await statOrMissing(source.path)).size;
      const bundle = await unpackModelBundle(createReadStream(source.path), source.uri, unpackOptions(options));
      files = fromBundle(source.uri, bundle, size, null);
      break;
    }
    case 'local-folder':
      files = await fetchLocalFolder(source.path, options.preferQuantized);
      break;
  }
  return { ...files, downloadMs: performance.now() - started };
}

function requireClient(options: FetchOptions, uri: string): S3Client {
  if (!options.s3) throw new ModelLoadError(`No S3 client was provided to read ${uri}`, uri);
  return options.s3;
}

function unpackOptions(options: FetchOptions) {
  return {
    preferQuantized: options.preferQuantized,
    maxInMemoryBytes: options.read.maxInMemoryBytes,
    spillDir: options.read.spillDir,
  };
}

function parseJson(text: string, object: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new InvalidModelError(object, `not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

async function fetchS3Folder(
  source: Extract<ModelSource, { kind: 's3-folder' }>,
  client: S3Client,
  options: FetchOptions,
): Promise<Omit<ModelFiles, 'downloadMs'>> {
  const { bucket, prefix } = source;
  const opened: OpenedObject[] = [];
  const open = async (key: string): Promise<OpenedObject> => {
    const obj = await openS3Object(client, bucket, prefix + key, options.read);
    opened.push(obj);
    return obj;
  };
  const tokenizerObject = s3Uri(bucket, prefix + TOKENIZER_FILE);

  const tokenizer = open(TOKENIZER_FILE)
    .then(collectToBuffer)
    .catch((err: unknown) => {
      throw err instanceof ModelObjectNotFoundError
        ? new MissingModelFileError(tokenizerObject, 'the engine needs a Hugging Face tokenizer.json', { cause: err })
        : err;
    });
  // config.json is optional: absent means defaults (512 positions, not a demo).
  const config = open(CONFIG_FILE)
    .then(collectToBuffer)
    .catch((err: unknown) => {
      if (err instanceof ModelObjectNotFoundError) return undefined;
      throw err;
    });
  const model = (async () => {
    const tried: string[] = [];
    for (const candidate of onnxCandidates(options.preferQuantized)) {
      let obj: OpenedObject;
      try {
        obj = await open(candidate);
      } catch (err) {
        // Only "no such key" means "try the next name"; a missing bucket or a 403 is the answer.
        if (err instanceof ModelObjectNotFoundError) {
          tried.push(candidate);
          continue;
        }
        throw err;
      }
      const data =
        obj.contentLength > options.read.maxInMemoryBytes
          ? await collectToFile(obj, options.read.spillDir, candidate)
          : await collectToBuffer(obj);
      return { name: candidate, obj, data };
    }
    throw new MissingModelFileError(s3Uri(bucket, prefix + onnxCandidates(options.preferQuantized)[0]!), `no ONNX model under ${source.uri}; tried ${tried.join(', ')}`);
  })();

  try {
    const [tok, cfg, onnx] = await Promise.all([tokenizer, config, model]);
    const modelObject = s3Uri(bucket, prefix + onnx.name);
    return {
      source: source.uri,
      modelObject,
      tokenizerObject,
      model: onnx.data,
      tokenizerJson: tok.toString('utf8'),
      config: cfg ? parseJson(cfg.toString('utf8'), s3Uri(bucket, prefix + CONFIG_FILE)) : undefined,
      quantized: isQuantizedName(onnx.name),
      bytes: Math.max(onnx.obj.contentLength, 0) + tok.length + (cfg?.length ?? 0),
      etag: onnx.obj.etag,
      tempFiles: typeof onnx.data === 'string' ? [onnx.data] : [],
    };
  } catch (err) {
    // One failure is the answer: stop the other downloads instead of finishing them for nothing.
    for (const o of opened) o.abort();
    await Promise.allSettled([tokenizer, config, model]);
    throw err;
  }
}

function fromBundle(
  uri: string,
  bundle: UnpackedBundle,
  bytes: number,
  etag: string | null,
): Omit<ModelFiles, 'downloadMs'> {
  const listing = `entries: ${bundle.entries.slice(0, 20).join(', ') || '(none)'}`;
  if (!bundle.tokenizer) throw new MissingModelFileError(`${uri}!/${TOKENIZER_FILE}`, listing);
  if (!bundle.onnx || !bundle.onnxName) throw new MissingModelFileError(`${uri}!/onnx/model.onnx`, `no .onnx entry; ${listing}`);
  return {
    source: uri,
    modelObject: `${uri}!/${bundle.onnxName}`,
    tokenizerObject: `${uri}!/${TOKENIZER_FILE}`,
    model: bundle.onnx,
    tokenizerJson: bundle.tokenizer.toString('utf8'),
    config: bundle.config ? parseJson(bundle.config.toString('utf8'), `${uri}!/${CONFIG_FILE}`) : undefined,
    quantized: isQuantizedName(bundle.onnxName),
    bytes,
    etag,
    tempFiles: typeof bundle.onnx === 'string' ? [bundle.onnx] : [],
  };
}

async function statOrMissing(file: string) {
  try {
    return await stat(file);
  } catch (err) {
    throw new MissingModelFileError(file, (err as NodeJS.ErrnoException).code, { cause: err });
  }
}

async function fetchLocalFolder(dir: string, preferQuantized: boolean): Promise<Omit<ModelFiles, 'downloadMs'>> {
  const dirStat = await statOrMissing(dir);
  if (!dirStat.isDirectory()) throw new InvalidModelError(dir, 'not a directory (expected a model folder or a .tar.gz)');
  const tokenizerObject = path.join(dir, TOKENIZER_FILE);
  const tokenizer = await readFile(tokenizerObject).catch((err: unknown) => {
    throw new MissingModelFileError(tokenizerObject, (err as NodeJS.ErrnoException).code, { cause: err });
  });
  const configPath = path.join(dir, CONFIG_FILE);
  const config = await readFile(configPath).catch(() => undefined);
  for (const candidate of onnxCandidates(preferQuantized)) {
    const file = path.join(dir, candidate);
    const s = await stat(file).catch(() => undefined);
    if (!s?.isFile()) continue;
    return {
      source: dir,
      modelObject: file,
      tokenizerObject,
      // A path, not bytes: onnxruntime reads the file itself, so it is never held twice.
      model: file,
      tokenizerJson: tokenizer.toString('utf8'),
      config: config ? parseJson(config.toString('utf8'), configPath) : undefined,
      quantized: isQuantizedName(candidate),
      bytes: s.size + tokenizer.length + (config?.length ?? 0),
      etag: null,
      tempFiles: [],
    };
  }
  throw new MissingModelFileError(path.join(dir, onnxCandidates(preferQuantized)[0]!), `no ONNX model in ${dir}`);
}
