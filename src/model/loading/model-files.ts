/**
 * Which files make a model, and which ONNX file to pick. Pure: the sources (S3 folder, archive,
 * local folder) ask these functions, so they all choose the same way.
 */

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
 * ONNX paths to try, best first. Hugging Face exports keep them under `onnx/`; the tutorial's bundle
 * and hand-made folders often have `model.onnx` at the root, so those come last. With
 * `preferOptimized`, each standard file's optimized sibling comes just before it: the precision
 * choice stays first, the optimized graph only replaces the file it was made from.
 */
export function onnxCandidates(preferQuantized: boolean, preferOptimized = false): string[] {
  const ordered = preferQuantized ? [QUANTIZED_ONNX, FULL_ONNX] : [FULL_ONNX, QUANTIZED_ONNX];
  const withOptimized = preferOptimized ? ordered.flatMap((p) => [optimizedName(p), p]) : ordered;
  return [...withOptimized, ...withOptimized.map((p) => p.slice('onnx/'.length))];
}

/** True for a graph `model optimize` wrote: its session skips graph optimization. */
export function isOptimizedName(name: string): boolean {
  return name.toLowerCase().endsWith(OPTIMIZED_SUFFIX);
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
export function onnxRank(name: string, preferQuantized: boolean, preferOptimized = false): number {
  const candidates = onnxCandidates(preferQuantized, preferOptimized);
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
  const name = typeof config?._name_or_path === 'string' && config._name_or_path !== '' ? config._name_or_path : undefined;
  const mpe = config?.max_position_embeddings;
  return { name, demo, maxPositionEmbeddings: typeof mpe === 'number' ? mpe : undefined };
}
