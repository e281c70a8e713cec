/**
 * Which files make a model, and which ONNX file to pick. Pure: the sources (S3 folder, archive,
 * local folder) ask these functions, so they all choose the same way.
 */

import { invalidModel } from './errors';
import type { SourceReadOptions } from './types';

/** The tokenizer the engine needs (Hugging Face fast tokenizer format). */
export const TOKENIZER_FILE = 'tokenizer.json';
/** Model configuration (max_position_embeddings, `_generated.demo`); optional. */
export const CONFIG_FILE = 'config.json';
export const QUANTIZED_ONNX = 'onnx/model_quantized.onnx';
export const FULL_ONNX = 'onnx/model.onnx';
/**
 * What `model optimize` writes beside a standard file: the graph onnxruntime's offline optimizer
 * saved (`optimizedModelFilePath`, level `extended`). The suffix is ours, not optimum's
 * `model_optimized.onnx`, so only files we wrote are created without re-optimization.
 */
export const OPTIMIZED_SUFFIX = '.optimized.onnx';

/** The optimized sibling of a standard ONNX path: `onnx/model_quantized.onnx` → `onnx/model_quantized.optimized.onnx`. */
export function optimizedName(standard: string): string {
  return standard.replace(/\.onnx$/i, OPTIMIZED_SUFFIX);
}

/**
 * The same graph in onnxruntime's own serialization (ORT format, also written by `model optimize`):
 * its session is created from the bytes in place, without parsing protobuf or copying weights. An
 * ORT-format file is only read by the onnxruntime version that wrote it, so its name carries that
 * version and the loader asks only for its own: after an upgrade the old file is simply not a
 * candidate, and the next file is served (never a failed cold start).
 * `onnx/model_quantized.onnx` → `onnx/model_quantized.onnxruntime-1.30.0.ort`.
 */
export function ortFormatName(standard: string, onnxruntimeVersion: string): string {
  return standard.replace(/\.onnx$/i, `.onnxruntime-${onnxruntimeVersion}.ort`);
}

/**
 * ONNX paths to try, best first. Hugging Face exports keep them under `onnx/`; the tutorial's bundle
 * and hand-made folders often have `model.onnx` at the root, so those come last. With
 * `preferOptimized`, each standard file's optimized siblings come just before it (the ORT-format one
 * of `onnxruntimeVersion` first, when given): the precision choice stays first, an optimized graph
 * only replaces the file it was made from.
 */
export function onnxCandidates(
  preferQuantized: boolean,
  preferOptimized = false,
  onnxruntimeVersion?: string,
): string[] {
  const ordered = preferQuantized ? [QUANTIZED_ONNX, FULL_ONNX] : [FULL_ONNX, QUANTIZED_ONNX];
  const siblings = (p: string): string[] => [
    ...(onnxruntimeVersion ? [ortFormatName(p, onnxruntimeVersion)] : []),
    optimizedName(p),
    p,
  ];
  const withOptimized = preferOptimized ? ordered.flatMap(siblings) : ordered;
  return [...withOptimized, ...withOptimized.map((p) => p.slice('onnx/'.length))];
}

/** True for a graph `model optimize` wrote (either format): its session skips graph optimization. */
export function isOptimizedName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.endsWith(OPTIMIZED_SUFFIX) || lower.endsWith('.ort');
}

/** True when the chosen file is the int8 dynamically quantized export. */
export function isQuantizedName(name: string): boolean {
  return /quantized|int8|q8/i.test(name.split('/').pop() ?? name);
}

/**
 * Rank of an ONNX entry name among the candidates, lower is better; names that match none rank
 * last (`candidates.length`). Entries may sit under one top-level directory
 * (`bundle/onnx/model.onnx`), so the match is on the path suffix.
 */
export function onnxRank(
  name: string,
  preferQuantized: boolean,
  preferOptimized = false,
  onnxruntimeVersion?: string,
): number {
  const candidates = onnxCandidates(preferQuantized, preferOptimized, onnxruntimeVersion);
  const i = candidates.findIndex((c) => name === c || name.endsWith(`/${c}`));
  return i === -1 ? candidates.length : i;
}

/** What config.json says about the model, read defensively (it is user-provided JSON). */
export interface ModelConfigSummary {
  name: string | undefined;
  demo: boolean;
  maxPositionEmbeddings: number | undefined;
}

/** Reads name, demo flag (`_generated.demo`, written by the test-model generator) and length limit. */
export function summarizeConfig(config: Record<string, unknown> | undefined): ModelConfigSummary {
  const generated = config?._generated;
  const demo =
    typeof generated === 'object' && generated !== null && (generated as Record<string, unknown>).demo === true;
  const name =
    typeof config?._name_or_path === 'string' && config._name_or_path !== '' ? config._name_or_path : undefined;
  const mpe = config?.max_position_embeddings;
  return { name, demo, maxPositionEmbeddings: typeof mpe === 'number' ? mpe : undefined };
}

/**
 * The most positions a config.json may declare: far above any BERT-family encoder (512), low enough
 * that every window length derived from it is a small integer.
 */
export const MAX_POSITION_EMBEDDINGS = 1 << 20;
/** The fewest positions a model must have to hold a question, a context token and the special tokens. */
export const MIN_POSITION_EMBEDDINGS = 16;

/**
 * Why a parsed config.json cannot describe a model the engine serves, or null. Only the fields the
 * loader reads are checked; the rest of the file is the exporter's business.
 */
export function configProblem(config: Record<string, unknown>): string | null {
  const mpe = config.max_position_embeddings;
  if (
    mpe !== undefined &&
    !(Number.isInteger(mpe) && (mpe as number) >= MIN_POSITION_EMBEDDINGS && (mpe as number) <= MAX_POSITION_EMBEDDINGS)
  ) {
    return `max_position_embeddings must be an integer from ${MIN_POSITION_EMBEDDINGS} to ${MAX_POSITION_EMBEDDINGS}, got ${JSON.stringify(mpe)}`;
  }
  const name = config._name_or_path;
  if (name !== undefined && (typeof name !== 'string' || name.length > 512))
    return '_name_or_path must be a string of at most 512 characters';
  const generated = config._generated;
  if (generated !== undefined && (typeof generated !== 'object' || generated === null || Array.isArray(generated)))
    return '_generated must be an object';
  return null;
}

/** The ONNX names to try for these options, best first. */
export function candidatesFor(
  options: Pick<SourceReadOptions, 'preferQuantized' | 'preferOptimized' | 'onnxruntimeVersion'>,
): string[] {
  return onnxCandidates(options.preferQuantized, options.preferOptimized, options.onnxruntimeVersion);
}

/** A config.json's text, parsed and checked (configProblem); `object` names it in errors. */
export function parseConfig(text: string, object: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
  } catch (err) {
    throw invalidModel(object, `not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const problem = configProblem(parsed as Record<string, unknown>);
  if (problem) throw invalidModel(object, problem);
  return parsed as Record<string, unknown>;
}
