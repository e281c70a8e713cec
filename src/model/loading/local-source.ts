/**
 * The local sources: a Hugging Face style folder, or a `.tar.gz` bundle, on disk. Every read is
 * bounded (local-file.ts); onnxruntime reads a folder's ONNX file itself, by its path.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { fromBundle, unpackModelBundle, unpackOptions } from './archive';
import { invalidModel, isLoadFailure, missingModelFile } from './errors';
import { idleBounded, readLocalFile, requireRegularFile, statLocal, withinMs } from './local-file';
import {
  CONFIG_FILE,
  TOKENIZER_FILE,
  candidatesFor,
  isQuantizedName,
  onnxCandidates,
  parseConfig,
} from './model-files';
import { sizeProblem } from './size-limits';
import type { ModelSource } from './source-uri';
import type { FetchedFiles, SourceReadOptions } from './types';
import type { SpillFolder } from '../../support/tmp-folders';

/** A local `.tar.gz` bundle, unpacked as it is read; its large entries go to the load's spill folder. */
export async function fetchLocalArchive(
  source: Extract<ModelSource, { kind: 'local-archive' }>,
  options: SourceReadOptions,
  spill: SpillFolder,
): Promise<FetchedFiles> {
  const archive = await statLocal(source.path, options.read);
  requireRegularFile(source.path, archive);
  const size = archive.size;
  const chunks = idleBounded(
    createReadStream(source.path, { highWaterMark: 1 << 20 }),
    source.path,
    options.read.idleTimeoutMs,
  );
  const bundle = await unpackModelBundle(chunks, source.uri, await unpackOptions(options, spill, source.uri));
  return fromBundle(source.uri, bundle, size, null);
}

/** A local Hugging Face style folder. */
export async function fetchLocalFolder(dir: string, options: SourceReadOptions): Promise<FetchedFiles> {
  const dirStat = await statLocal(dir, options.read);
  if (!dirStat.isDirectory()) throw invalidModel(dir, 'not a directory (expected a model folder or a .tar.gz)');
  const limit = (name: string) => (bytes: number) => sizeProblem(name, bytes, options.read.maxInMemoryBytes);
  const tokenizerObject = path.join(dir, TOKENIZER_FILE);
  const tokenizer = await readLocalFile(tokenizerObject, limit(TOKENIZER_FILE), options.read);
  const configPath = path.join(dir, CONFIG_FILE);
  // Optional: absent is no config; anything else wrong with it (a FIFO, too large, a stall) fails the load.
  const config = await readLocalFile(configPath, limit(CONFIG_FILE), options.read).catch((err: unknown) => {
    if (isLoadFailure(err, 'MISSING_FILE')) return undefined;
    throw err;
  });
  for (const candidate of candidatesFor(options)) {
    const file = path.join(dir, candidate);
    const s = await withinMs(stat(file), options.read.idleTimeoutMs, file, 'stat').catch((err: unknown) => {
      if (isLoadFailure(err, 'TIMEOUT')) throw err;
      return undefined;
    });
    if (!s?.isFile()) continue;
    const problem = sizeProblem(candidate, s.size, options.read.maxInMemoryBytes);
    if (problem) throw invalidModel(file, problem);
    return {
      source: dir,
      modelObject: file,
      tokenizerObject,
      // A path, not bytes: onnxruntime reads the file itself, so it is never held twice.
      model: file,
      tokenizerJson: tokenizer.toString('utf8'),
      config: config ? parseConfig(config.toString('utf8'), configPath) : undefined,
      quantized: isQuantizedName(candidate),
      bytes: s.size + tokenizer.length + (config?.length ?? 0),
      etag: null,
      version: null,
    };
  }
  throw missingModelFile(path.join(dir, onnxCandidates(options.preferQuantized)[0]!), `no ONNX model in ${dir}`);
}
