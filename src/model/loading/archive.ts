import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Parser, type ReadEntry } from 'tar';
import { InvalidModelError, ModelLoadError, ModelLocalStorageError } from './errors';
import { CONFIG_FILE, TOKENIZER_FILE, onnxCandidates, onnxRank } from './model-files';

/** Files of a model bundle, as unpacked from a tar.gz. */
export interface UnpackedBundle {
  /** Entry name of the chosen ONNX file, e.g. `onnx/model_quantized.onnx`. */
  onnxName: string | undefined;
  /** The ONNX bytes, or the path it was spilled to when larger than `maxInMemoryBytes`. */
  onnx: Buffer | string | undefined;
  tokenizer: Buffer | undefined;
  config: Buffer | undefined;
  /** Every entry name seen, for error messages. */
  entries: string[];
}

export interface UnpackOptions {
  preferQuantized: boolean;
  /** Rank `model optimize`'s files just before the file they were made from (model-files.ts). */
  preferOptimized?: boolean;
  /** The running onnxruntime's version: only its ORT-format file is a candidate. */
  onnxruntimeVersion?: string;
  maxInMemoryBytes: number;
  /** An existing folder for entries larger than maxInMemoryBytes (the load's private spill folder). */
  spillDir: string;
}

const base = (name: string): string => name.replace(/^\.\//, '');

/**
 * Unpacks a tar.gz bundle while it downloads (gzip detected by tar itself), keeping only what the
 * engine needs: the best-ranked `.onnx`, `tokenizer.json` and `config.json`. Nothing is written to
 * disk unless the ONNX entry exceeds `maxInMemoryBytes`. `object` names the archive in errors.
 */
export async function unpackModelBundle(
  chunks: AsyncIterable<Buffer>,
  object: string,
  options: UnpackOptions,
): Promise<UnpackedBundle> {
  const result: UnpackedBundle = { onnxName: undefined, onnx: undefined, tokenizer: undefined, config: undefined, entries: [] };
  const pending: Promise<void>[] = [];
  let bestRank = Number.POSITIVE_INFINITY;
  const rank = (name: string): number => onnxRank(name, options.preferQuantized, options.preferOptimized, options.onnxruntimeVersion);
  // Any `.onnx` will do when nothing better is there; an `.ort` only as the candidate of this onnxruntime.
  const unranked = onnxCandidates(options.preferQuantized, options.preferOptimized, options.onnxruntimeVersion).length;
  const isModelEntry = (name: string): boolean => /\.onnx$/i.test(name) || (/\.ort$/i.test(name) && rank(name) < unranked);

  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      const name = base(entry.path);
      result.entries.push(name);
      if (entry.type !== 'File') return entry.resume();
      const file = name.split('/').pop();
      if (file === TOKENIZER_FILE && !result.tokenizer) {
        pending.push(readEntry(entry).then((b) => void (result.tokenizer = b)));
      } else if (file === CONFIG_FILE && !result.config) {
        pending.push(readEntry(entry).then((b) => void (result.config = b)));
      } else if (isModelEntry(name) && rank(name) < bestRank) {
        bestRank = rank(name);
        const size = entry.size ?? 0;
        const job =
          size > options.maxInMemoryBytes ? spillEntry(entry, options.spillDir, name, object) : readEntry(entry);
        pending.push(
          job.then(async (data) => {
            // A better-ranked entry may have been chosen while this one was read: then this one is
            // dropped, and a spilled loser must not stay in /tmp until the end of the load.
            if (rank(name) === bestRank) {
              const replaced = result.onnx;
              result.onnxName = name;
              result.onnx = data;
              if (typeof replaced === 'string') await rm(replaced, { force: true });
            } else if (typeof data === 'string') {
              await rm(data, { force: true });
            }
          }),
        );
      } else {
        entry.resume();
      }
    },
  });

  const done = new Promise<void>((resolve, reject) => {
    parser.on('error', reject);
    parser.on('close', () => resolve());
  });
  // Keep the rejection observed even if the feeding loop throws first.
  done.catch(() => undefined);
  try {
    for await (const chunk of chunks) {
      if (!parser.write(chunk)) await new Promise<void>((resolve) => parser.once('drain', resolve));
    }
    parser.end();
    await done;
    await Promise.all(pending);
  } catch (err) {
    if (err instanceof ModelLoadError) throw err;
    throw new InvalidModelError(object, `not a readable tar.gz bundle: ${(err as Error).message}`, { cause: err });
  }
  return result;
}

function readEntry(entry: ReadEntry): Promise<Buffer> {
  const out = Buffer.allocUnsafe(entry.size ?? 0);
  let offset = 0;
  const parts: Buffer[] = [];
  return new Promise((resolve, reject) => {
    entry.on('data', (c: Buffer) => {
      if (offset + c.length <= out.length) c.copy(out, offset);
      else parts.push(c);
      offset += c.length;
    });
    entry.on('end', () => resolve(parts.length ? Buffer.concat([out, ...parts]) : out.subarray(0, offset)));
    entry.on('error', reject);
  });
}

function spillEntry(entry: ReadEntry, dir: string, name: string, object: string): Promise<string> {
  // Synchronous on purpose: the entry starts flowing as soon as onReadEntry returns. `dir` is the
  // load's own spill folder, which exists already (fetch-model-files.ts).
  const file = path.join(dir, `${randomUUID()}-${path.basename(name)}`);
  return new Promise((resolve, reject) => {
    const out = createWriteStream(file, { mode: 0o600 });
    entry.pipe(out);
    out.on('finish', () => resolve(file));
    // A full /tmp (ENOSPC) arrives here: a coded error naming the entry, never an unhandled 'error'.
    out.on('error', (err) => {
      entry.resume();
      reject(new ModelLocalStorageError(`${object}!/${name}`, file, err));
    });
    entry.on('error', reject);
  });
}
