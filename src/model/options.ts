/**
 * Defaults and validation of the per-request options. Defaults are the reference pipeline's;
 * every rejection names the option, the value and what would be accepted.
 */
import { QAInputError } from './errors';
import type { QAOptions } from './types';

export const DEFAULT_QA_OPTIONS: Readonly<QAOptions> = Object.freeze({
  topK: 1,
  maxAnswerLength: 15,
  docStride: 128,
  maxSeqLength: 384,
  handleImpossibleAnswer: false,
  alignToWords: true,
});

/** Position embeddings of DistilBERT and BERT: a model's longest sequence when config.json does not say. */
export const DEFAULT_MAX_POSITIONS = 512;

/** The default window for a model of `maxPositions`: the reference's min(model_max_length, 384). */
export function defaultMaxSeqLength(maxPositions: number): number {
  return Math.min(DEFAULT_QA_OPTIONS.maxSeqLength, maxPositions);
}

function integerAtLeast(name: keyof QAOptions, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new QAInputError(`${name} must be an integer from ${min} to ${max} (got ${String(value)})`, name);
  }
  return value;
}

function boolean(name: keyof QAOptions, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new QAInputError(`${name} must be true or false (got ${String(value)})`, name);
  }
  return value;
}

/**
 * Fills in defaults and checks ranges. `maxPositions` is the longest sequence the model accepts
 * (its position embeddings); `minSeqLength` the special tokens plus one question and one context token.
 */
export function resolveOptions(
  options: Partial<QAOptions> | undefined,
  limits: { maxPositions: number; minSeqLength: number },
): QAOptions {
  const merged = { ...DEFAULT_QA_OPTIONS };
  for (const [key, value] of Object.entries(options ?? {})) {
    // GraphQL and JSON clients send null for "not given".
    if (value === undefined || value === null) continue;
    if (!(key in DEFAULT_QA_OPTIONS)) throw new QAInputError(`Unknown option ${key}`, key);
    (merged as Record<string, unknown>)[key] = value;
  }
  // A smaller model keeps its own limit.
  if (options?.maxSeqLength == null) merged.maxSeqLength = defaultMaxSeqLength(limits.maxPositions);
  const maxSeqLength = integerAtLeast('maxSeqLength', merged.maxSeqLength, limits.minSeqLength, limits.maxPositions);
  if (options?.docStride == null) merged.docStride = Math.min(merged.docStride, Math.floor(maxSeqLength / 2));
  return {
    topK: integerAtLeast('topK', merged.topK, 1, Number.MAX_SAFE_INTEGER),
    maxAnswerLength: integerAtLeast('maxAnswerLength', merged.maxAnswerLength, 1, Number.MAX_SAFE_INTEGER),
    maxSeqLength,
    docStride: integerAtLeast('docStride', merged.docStride, 0, maxSeqLength - 1),
    handleImpossibleAnswer: boolean('handleImpossibleAnswer', merged.handleImpossibleAnswer),
    alignToWords: boolean('alignToWords', merged.alignToWords),
  };
}
