/**
 * Where a body read from S3 goes, chosen once its size is known: memory, or a spill file when it
 * is larger than the memory left; refused outright over its limit (size-limits.ts), before a byte
 * of it is allocated.
 */
import { invalidModel } from './errors';
import type { TargetChoice } from './part-sink';
import { sizeProblem } from './size-limits';
import type { SourceReadOptions } from './types';
import type { SpillFolder } from '../../support/tmp-folders';

/** The memory a load may hold in bodies: `read.maxInMemoryBytes` (config.ts, `MODEL_MAX_IN_MEMORY_BYTES`). */
type MemoryBudget = Pick<SourceReadOptions, 'read'>;

/**
 * Where the ONNX body goes: memory, or the load's spill folder when larger than the memory left
 * (`inMemoryBeside`: bytes the tokenizer and config hold, when known). Refused over the ceiling.
 */
export function targetFor(
  options: MemoryBudget,
  spill: SpillFolder,
  name: string,
  uri: string,
  inMemoryBeside = 0,
): TargetChoice {
  return async (bytes) => {
    const problem = sizeProblem(name, bytes, options.read.maxInMemoryBytes);
    if (problem) throw invalidModel(uri, problem);
    return bytes > options.read.maxInMemoryBytes - inMemoryBeside
      ? { kind: 'file', path: await spill.file(name) }
      : { kind: 'buffer' };
  };
}

/** A body that must be held in memory (tokenizer.json, config.json, the manifest): refused over its limit before allocation. */
export function inMemory(uri: string, problemOf: (bytes: number) => string | null): TargetChoice {
  return async (bytes) => {
    const problem = problemOf(bytes);
    if (problem) throw invalidModel(uri, problem);
    return { kind: 'buffer' };
  };
}

/** inMemory for a model file, by its name's limit (size-limits.ts). */
export function fileInMemory(options: MemoryBudget, name: string, uri: string): TargetChoice {
  return inMemory(uri, (bytes) => sizeProblem(name, bytes, options.read.maxInMemoryBytes));
}
