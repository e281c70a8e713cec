/**
 * What a pushed version holds (pure): the ONNX file the loader will serve, the standard file it was
 * made from as the fallback any onnxruntime version reads, and every file that is not a graph
 * (tokenizer, config and their small companions). Other graphs (the other precision, the
 * `.optimized.onnx` when an `.ort` is served) are left out unless `all` is asked for. Why:
 * docs/decisions/2026-12-06-what-a-version-holds.md.
 */
import {
  FULL_ONNX,
  QUANTIZED_ONNX,
  isOptimizedName,
  onnxCandidates,
  optimizedName,
  ortFormatName,
} from '../../src/model/loading/model-files';

/** How the loader that will read the version chooses (its MODEL_QUANTIZED / MODEL_OPTIMIZED and onnxruntime). */
export interface VersionChoice {
  preferQuantized: boolean;
  preferOptimized: boolean;
  /** The onnxruntime version whose ORT-format file may be served. */
  onnxruntimeVersion: string | undefined;
  /** Every file of the folder, as before versions held only what is served. */
  all?: boolean;
}

const isGraph = (file: string): boolean => /\.(onnx|ort)$/i.test(file);

/** The standard names the loader knows, under onnx/ and at the root. */
const STANDARD = [QUANTIZED_ONNX, FULL_ONNX, ...[QUANTIZED_ONNX, FULL_ONNX].map((p) => p.slice('onnx/'.length))];

/** The standard file `served` was made from (itself when it is one), or undefined. */
export function standardOf(served: string, onnxruntimeVersion: string | undefined): string | undefined {
  return STANDARD.find(
    (std) =>
      served === std ||
      served === optimizedName(std) ||
      (onnxruntimeVersion !== undefined && served === ortFormatName(std, onnxruntimeVersion)),
  );
}

/**
 * The files of a folder (relative, posix) a version holds, in the folder's order. A folder whose
 * graphs the loader would not pick at all keeps every file: the push then shows what it holds
 * (`model info`), and the load's error names the candidates.
 */
export function chooseVersionFiles(files: readonly string[], choice: VersionChoice): string[] {
  if (choice.all) return [...files];
  const present = new Set(files);
  const served = servedGraph(files, choice);
  if (!served) return [...files];
  const fallback = standardOf(served, choice.onnxruntimeVersion);
  const graphs = new Set([served, ...(fallback && present.has(fallback) ? [fallback] : [])]);
  return files.filter((f) => !isGraph(f) || graphs.has(f));
}

/** The graph a loader with `choice` serves from these files (the first candidate present), or undefined. */
export function servedGraph(files: readonly string[], choice: VersionChoice): string | undefined {
  const present = new Set(files);
  return onnxCandidates(choice.preferQuantized, choice.preferOptimized, choice.onnxruntimeVersion).find((c) =>
    present.has(c),
  );
}

/**
 * A note for the person pushing when the version will serve a standard file although the loader
 * prefers `model optimize`'s graph: every cold start then parses and optimizes it. Null otherwise
 * (an optimized graph is served, or MODEL_OPTIMIZED=false asked for the standard file).
 */
export function unoptimizedNotice(dir: string, files: readonly string[], choice: VersionChoice): string | null {
  const served = servedGraph(files, choice);
  if (!choice.preferOptimized || !served || isOptimizedName(served)) return null;
  return (
    `note: this version serves ${served}, the standard file: every cold start parses and optimizes it. ` +
    `\`npm run model -- optimize ${dir}\` first saves onnxruntime's optimized graph, which the function ` +
    `then loads in place (docs/deploy.md, step 1).\n`
  );
}
