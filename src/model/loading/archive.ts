import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Parser, type ReadEntry } from 'tar';
import { ModelLoadError, ModelLocalStorageError, invalidModel, missingModelFile } from './errors';
import { CONFIG_FILE, TOKENIZER_FILE, isQuantizedName, onnxCandidates, onnxRank, parseConfig } from './model-files';
import { sizeProblem } from './size-limits';
import type { FetchedFiles, SourceReadOptions } from './types';
import type { SpillFolder } from '../../support/tmp-folders';

/** Files of a model bundle, as unpacked from a tar.gz. */
export interface UnpackedBundle {
  /** Entry name of the chosen ONNX file, e.g. `onnx/model_quantized.onnx`. */
  onnxName: string | undefined;
  /** The ONNX bytes, or the path it was spilled to when larger than `maxInMemoryBytes`. */
  onnx: Buffer | string | undefined;
  tokenizer: Buffer | undefined;
  /** Entry name of the tokenizer read, e.g. `bundle/tokenizer.json`. */
  tokenizerName: string | undefined;
  config: Buffer | undefined;
  configName: string | undefined;
  /** Every entry name seen, for error messages. */
  entries: string[];
}

export interface UnpackOptions {
  preferQuantized: boolean;
  /** Rank `model optimize`'s files just before the file they were made from (model-files.ts). */
  preferOptimized?: boolean;
  /** The running onnxruntime's version: only its ORT-format file is a candidate. */
  onnxruntimeVersion?: string;
  /**
   * Bytes the bundle's entries may hold in memory together: tokenizer.json and config.json always
   * (refused above it), the ONNX entry when it fits beside them (else it is spilled).
   */
  maxInMemoryBytes: number;
  /** An existing folder for entries larger than maxInMemoryBytes (the load's private spill folder). */
  spillDir: string;
}

const base = (name: string): string => name.replace(/^\.\//, '');

/** One entry being read: its result, and how to stop it when the bundle is refused meanwhile. */
interface EntryJob {
  done: Promise<void>;
  stop(): void;
}

/**
 * Unpacks a tar.gz bundle while it downloads (gzip detected by tar itself), keeping only what the
 * engine needs: the best-ranked `.onnx`, `tokenizer.json` and `config.json`. Nothing is written to
 * disk unless the ONNX entry exceeds the memory left. `object` names the archive in errors.
 *
 * Every way it can end is an end: a corrupt gzip, a tar error, tar's decompression-ratio limit
 * (1000:1: a bomb stops after 1000 × the compressed bytes read), an entry over its size limit
 * (size-limits.ts), two entries for the same file (refused, naming both: which one would win
 * depends on the order of the archive, not on anything its author can see), or a failed spill. The
 * first failure stops the parser and every entry still flowing, and is the answer.
 */
export async function unpackModelBundle(
  chunks: AsyncIterable<Buffer>,
  object: string,
  options: UnpackOptions,
): Promise<UnpackedBundle> {
  const result: UnpackedBundle = {
    onnxName: undefined,
    onnx: undefined,
    tokenizer: undefined,
    tokenizerName: undefined,
    config: undefined,
    configName: undefined,
    entries: [],
  };
  const jobs: EntryJob[] = [];
  let failure: unknown;
  let inMemory = 0;
  let bestRank = Number.POSITIVE_INFINITY;
  let bestName = '';
  const rank = (name: string): number =>
    onnxRank(name, options.preferQuantized, options.preferOptimized, options.onnxruntimeVersion);
  // Any `.onnx` will do when nothing better is there; an `.ort` only as the candidate of this onnxruntime.
  const unranked = onnxCandidates(options.preferQuantized, options.preferOptimized, options.onnxruntimeVersion).length;
  const isModelEntry = (name: string): boolean =>
    /\.onnx$/i.test(name) || (/\.ort$/i.test(name) && rank(name) < unranked);

  const parser = new Parser({ strict: true });
  let signalFailure: () => void = () => undefined;
  // Resolves on the first failure, whenever it comes (a parser that failed never drains nor closes).
  const failed = new Promise<void>((resolve) => (signalFailure = resolve));
  const fail = (err: unknown): void => {
    if (failure !== undefined) return;
    failure = err;
    signalFailure();
    for (const job of jobs) job.stop();
    parser.abort(err instanceof Error ? err : new Error(String(err)));
  };
  const track = (job: EntryJob): void => {
    jobs.push(job);
    // Observed at once: a failed entry stops the bundle now, never an unhandled rejection later.
    job.done.catch(fail);
  };
  const refuse = (name: string, why: string): void => fail(invalidModel(`${object}!/${name}`, why));
  /** The size check every kept entry passes before a byte of it is stored. */
  const sized = (entry: ReadEntry, name: string): boolean => {
    const problem = sizeProblem(name, entry.size ?? 0, options.maxInMemoryBytes - inMemory);
    if (problem) refuse(name, problem);
    return !problem;
  };

  parser.on('entry', (entry: ReadEntry) => {
    const name = base(entry.path);
    result.entries.push(name);
    if (failure !== undefined || entry.type !== 'File') return void entry.resume();
    const file = name.split('/').pop();
    if (file === TOKENIZER_FILE || file === CONFIG_FILE) {
      const seen = file === TOKENIZER_FILE ? result.tokenizerName : result.configName;
      if (seen !== undefined) return void refuse(name, `two ${file} entries (${seen} and ${name}); keep one`);
      if (file === TOKENIZER_FILE) result.tokenizerName = name;
      else result.configName = name;
      if (!sized(entry, name)) return void entry.resume();
      inMemory += entry.size ?? 0;
      const job = readEntry(entry);
      track({
        done: job.done.then((b) => void (file === TOKENIZER_FILE ? (result.tokenizer = b) : (result.config = b))),
        stop: job.stop,
      });
    } else if (isModelEntry(name) && rank(name) <= bestRank) {
      // Two entries for one candidate name (`onnx/model.onnx` and `old/onnx/model.onnx`): refused.
      // Among files with no candidate name (`model_fp16.onnx`, `model_int8.onnx`), the first by
      // name is taken, whatever the archive's order.
      if (rank(name) === bestRank && bestRank < unranked)
        return void refuse(name, `two entries for the same model file (${bestName} and ${name}); keep one`);
      if (rank(name) === bestRank && name > bestName) return void entry.resume();
      bestRank = rank(name);
      bestName = name;
      if (!sized(entry, name)) return void entry.resume();
      const size = entry.size ?? 0;
      const job =
        size > options.maxInMemoryBytes - inMemory
          ? spillEntry(entry, options.spillDir, name, object)
          : readEntry(entry);
      track({
        done: job.done.then(async (data) => {
          // A better entry may have been chosen while this one was read: then this one is dropped,
          // and a spilled loser must not stay in /tmp until the end of the load.
          if (name === bestName) {
            const replaced = result.onnx;
            result.onnxName = name;
            result.onnx = data;
            if (typeof replaced === 'string') await rm(replaced, { force: true });
          } else if (typeof data === 'string') {
            await rm(data, { force: true });
          }
        }),
        stop: job.stop,
      });
    } else {
      entry.resume();
    }
  });

  // 'close' after the end of the archive; 'abort' (with 'error', strict) on any failure, ours included.
  parser.on('error', fail);
  parser.on('abort', fail);
  const ended = new Promise<void>((resolve) => parser.on('close', () => resolve()));
  try {
    for await (const chunk of chunks) {
      if (failure !== undefined) break;
      if (!parser.write(chunk)) await Promise.race([once(parser, 'drain'), ended, failed]);
    }
    if (failure === undefined) {
      parser.end();
      await Promise.race([ended, failed]);
    }
    await Promise.allSettled(jobs.map((j) => j.done));
  } catch (err) {
    // The source itself failed (a read error or a timeout of the archive, not its content): stop
    // what flows, then answer with that error.
    fail(
      err instanceof ModelLoadError
        ? err
        : new ModelLoadError(`Error reading ${object}: ${(err as Error)?.message ?? err}`, object, 'STORAGE_ERROR', {
            cause: err,
          }),
    );
    await Promise.allSettled(jobs.map((j) => j.done));
  }
  if (failure !== undefined) {
    if (typeof result.onnx === 'string') await rm(result.onnx, { force: true });
    if (failure instanceof ModelLoadError) throw failure;
    throw invalidModel(object, `not a readable tar.gz bundle: ${(failure as Error)?.message ?? failure}`, {
      cause: failure,
    });
  }
  return result;
}

function once(emitter: NodeJS.EventEmitter, event: string): Promise<void> {
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}

/** Reads an entry into a buffer of its declared size; more or fewer bytes than declared fail it. */
function readEntry(entry: ReadEntry): { done: Promise<Buffer>; stop(): void } {
  const out = Buffer.allocUnsafe(entry.size ?? 0);
  let offset = 0;
  let stop: () => void = () => undefined;
  const done = new Promise<Buffer>((resolve, reject) => {
    stop = () => reject(new Error(`stopped reading ${entry.path}`));
    entry.on('data', (c: Buffer) => {
      if (offset + c.length > out.length)
        return reject(new Error(`${entry.path} holds more than its declared ${out.length} bytes`));
      c.copy(out, offset);
      offset += c.length;
    });
    entry.on('end', () =>
      offset === out.length
        ? resolve(out)
        : reject(new Error(`${entry.path} ended after ${offset} of ${out.length} bytes`)),
    );
    entry.on('error', reject);
  });
  return { done, stop: () => stop() };
}

function spillEntry(
  entry: ReadEntry,
  dir: string,
  name: string,
  object: string,
): { done: Promise<string>; stop(): void } {
  // Synchronous on purpose: the entry starts flowing as soon as the 'entry' handler returns. `dir`
  // is the load's own spill folder, which exists already (fetch-model-files.ts).
  const file = path.join(dir, `${randomUUID()}-${path.basename(name)}`);
  const out = createWriteStream(file, { mode: 0o600 });
  let stop: () => void = () => undefined;
  const done = new Promise<string>((resolve, reject) => {
    const failWith = (err: unknown): void => {
      entry.unpipe(out);
      entry.resume();
      out.destroy();
      void rm(file, { force: true }).catch(() => undefined);
      reject(err);
    };
    stop = () => failWith(new Error(`stopped writing ${file}`));
    entry.pipe(out);
    out.on('finish', () => resolve(file));
    // A full /tmp (ENOSPC) arrives here: a coded error naming the entry, never an unhandled 'error'.
    out.on('error', (err) => failWith(new ModelLocalStorageError(`${object}!/${name}`, file, err)));
    entry.on('error', failWith);
  });
  return { done, stop: () => stop() };
}

/** The bundle's large entries go to this load's spill folder (created now: the tar parser cannot wait). */
export async function unpackOptions(
  options: SourceReadOptions,
  spill: SpillFolder,
  object: string,
): Promise<UnpackOptions> {
  let spillDir: string;
  try {
    spillDir = await spill.ensure();
  } catch (err) {
    throw new ModelLocalStorageError(object, options.read.spillDir, err);
  }
  return {
    preferQuantized: options.preferQuantized,
    preferOptimized: options.preferOptimized,
    onnxruntimeVersion: options.onnxruntimeVersion,
    maxInMemoryBytes: options.read.maxInMemoryBytes,
    spillDir,
  };
}

/** The files a bundle holds, as every source returns them; `bytes` and `etag` are the archive's. */
export function fromBundle(uri: string, bundle: UnpackedBundle, bytes: number, etag: string | null): FetchedFiles {
  const listing = `entries: ${bundle.entries.slice(0, 20).join(', ') || '(none)'}`;
  if (!bundle.tokenizer) throw missingModelFile(`${uri}!/${TOKENIZER_FILE}`, listing);
  if (!bundle.onnx || !bundle.onnxName) throw missingModelFile(`${uri}!/onnx/model.onnx`, `no .onnx entry; ${listing}`);
  return {
    source: uri,
    modelObject: `${uri}!/${bundle.onnxName}`,
    tokenizerObject: `${uri}!/${bundle.tokenizerName ?? TOKENIZER_FILE}`,
    model: bundle.onnx,
    tokenizerJson: bundle.tokenizer.toString('utf8'),
    config: bundle.config
      ? parseConfig(bundle.config.toString('utf8'), `${uri}!/${bundle.configName ?? CONFIG_FILE}`)
      : undefined,
    quantized: isQuantizedName(bundle.onnxName),
    bytes,
    etag,
    version: null,
  };
}
