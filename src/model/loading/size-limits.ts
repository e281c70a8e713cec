/**
 * How many bytes the loader accepts for each file, whatever a manifest, a tar header or a
 * Content-Length says (pure). A size read from outside is checked here before anything is
 * allocated or planned for it.
 *
 * `tokenizer.json` and `config.json` are parsed as strings, so they are always held in memory: they
 * count toward `MODEL_MAX_IN_MEMORY_BYTES` and are refused above it (a model's tokenizer.json is
 * well under a few MiB; the largest vocabularies published are tens of MiB). The ONNX file may go
 * to disk, so it is bounded only by MAX_MODEL_FILE_BYTES, a ceiling above anything Lambda can hold
 * (10,240 MB of memory, 10,240 MB of /tmp) that keeps a lying manifest from planning millions of
 * ranged parts.
 */
import { CONFIG_FILE, TOKENIZER_FILE } from './model-files';

/** The most a tokenizer.json may have, below the memory budget. */
export const MAX_TOKENIZER_BYTES = 64 * 1024 * 1024;
/** The most a config.json may have: a few KiB in every published model. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** The most any model file (or bundle) may have. */
export const MAX_MODEL_FILE_BYTES = 16 * 1024 * 1024 * 1024;
/** The most a model manifest may have (a few hundred bytes per file listed). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

/** The byte limit of a file by its name: tokenizer and config within the memory budget, anything else the ceiling. */
export function byteLimitOf(name: string, maxInMemoryBytes: number): number {
  const file = name.split('/').pop();
  if (file === TOKENIZER_FILE) return Math.min(MAX_TOKENIZER_BYTES, maxInMemoryBytes);
  if (file === CONFIG_FILE) return Math.min(MAX_CONFIG_BYTES, maxInMemoryBytes);
  return MAX_MODEL_FILE_BYTES;
}

/** Why `bytes` is not an acceptable size for `name`, or null. */
export function sizeProblem(name: string, bytes: number, maxInMemoryBytes: number): string | null {
  if (!Number.isSafeInteger(bytes) || bytes < 0) return `its size ${bytes} is not a byte count`;
  const limit = byteLimitOf(name, maxInMemoryBytes);
  if (bytes <= limit) return null;
  const inMemory = limit === maxInMemoryBytes && limit < MAX_MODEL_FILE_BYTES;
  return `${bytes} bytes, over the limit of ${limit}${inMemory ? ' (MODEL_MAX_IN_MEMORY_BYTES: it is held in memory)' : ''}`;
}
