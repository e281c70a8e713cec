/**
 * `model optimize <dir>`: onnxruntime's offline graph optimization of a standard Hugging Face ONNX
 * export. For each standard file present (`onnx/model_quantized.onnx`, `onnx/model.onnx`, or the
 * same names at the folder's root) a session
 * is created at level `extended` with `optimizedModelFilePath`, and the graph onnxruntime would have
 * built at every cold start is saved beside it as `*.optimized.onnx` (see model-files.ts). The loader
 * prefers that file and creates its session without re-optimizing.
 *
 * Level `extended`, not `all`: the levels above add layout transforms that onnxruntime itself warns
 * are hardware-specific when serialized; `extended` (constant folding, LayerNorm/GELU/MatMul fusions,
 * MatMulInteger→MatMulIntegerToFloat/DynamicQuantizeMatMul) is portable across x86_64 and arm64.
 *
 * Each rewrite is checked by running both graphs on the same windows (the engine's own tokenizer and
 * windowing on the demo text) and comparing their logits; a file that disagrees beyond `tolerance`
 * is removed and the command fails. A sidecar `*.optimized.json` records what made the file.
 *
 * The same graph is also saved in onnxruntime's ORT format, named for this onnxruntime version
 * (`*.onnxruntime-<version>.ort`, model-files.ts), and checked the same way, its session created as
 * the engine creates it (bytes used in place). The loader prefers it while the version matches.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { DEMO_CONTEXT, DEMO_QUESTIONS } from '../../src/demo/example';
import {
  TOKENIZER_FILE,
  CONFIG_FILE,
  onnxCandidates,
  optimizedName,
  ortFormatName,
} from '../../src/model/loading/model-files';
import { installedOnnxRuntimeVersion } from '../../src/model/onnxruntime/version';
import { ORT_BYTES_IN_PLACE, sessionOptions, windowFeeds } from '../../src/model/onnx-model';
import { QATokenizer } from '../../src/model/tokenizer';
import type { Window } from '../../src/model/windows';
import { defaultWindows } from '../../src/model/default-windows';

/** The level saved offline (see the header). */
export const OFFLINE_LEVEL = 'extended' as const;
/** Largest logit difference accepted between the standard and the optimized graph. */
export const DEFAULT_TOLERANCE = 1e-3;

export interface LogitComparison {
  windows: number;
  /** Tokens per window, in order. */
  lengths: number[];
  /** Largest |standard − optimized| over start and end logits of every window. */
  maxAbsDiff: number;
  /** Windows whose argmax start and argmax end are the same in both graphs. */
  sameArgmax: number;
}

export interface OptimizedFile {
  /** The standard file, relative to the folder. */
  from: string;
  /** The optimized file written beside it. */
  path: string;
  bytes: number;
  /** Session creation + save, ms. */
  optimizeMs: number;
  check: LogitComparison;
}

export interface OptimizeOptions {
  tolerance?: number;
  /** Threads of the sessions that optimize and check (default 1). */
  threads?: number;
  /** Inputs to check on; default: the engine's windows of the demo questions on the demo text. */
  windows?: Window[];
}

/** The check's inputs: demo questions on a short, a medium and a two-window context. */
export async function checkWindows(dir: string): Promise<Window[]> {
  const tokenizer = QATokenizer.fromJson(await readFile(path.join(dir, TOKENIZER_FILE), 'utf8'));
  const config = JSON.parse(await readFile(path.join(dir, CONFIG_FILE), 'utf8').catch(() => '{}')) as Record<
    string,
    unknown
  >;
  const maxPositions = typeof config.max_position_embeddings === 'number' ? config.max_position_embeddings : 512;
  const contexts = [DEMO_CONTEXT.split('\n\n')[0]!, DEMO_CONTEXT, `${DEMO_CONTEXT}\n\n${DEMO_CONTEXT}`];
  const out: Window[] = [];
  for (const context of contexts) {
    for (const question of DEMO_QUESTIONS)
      out.push(...(await defaultWindows(tokenizer, question, context, maxPositions)));
  }
  return out;
}

/** Runs two sessions on the same windows and compares their logits. */
export async function compareLogits(
  a: ort.InferenceSession,
  b: ort.InferenceSession,
  windows: readonly Window[],
): Promise<LogitComparison> {
  let maxAbsDiff = 0;
  let sameArgmax = 0;
  for (const w of windows) {
    const [ra, rb] = [
      await a.run(windowFeeds(ort.Tensor, a.inputNames, w)),
      await b.run(windowFeeds(ort.Tensor, b.inputNames, w)),
    ];
    let same = true;
    for (const name of ['start_logits', 'end_logits']) {
      const x = ra[name]!.data as Float32Array;
      const y = rb[name]!.data as Float32Array;
      for (let i = 0; i < x.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(x[i]! - y[i]!));
      if (argmax(x) !== argmax(y)) same = false;
    }
    if (same) sameArgmax++;
  }
  return { windows: windows.length, lengths: windows.map((w) => w.inputIds.length), maxAbsDiff, sameArgmax };
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/**
 * Saves onnxruntime's `extended`-level graph of `source` to `target` (written under a temporary
 * name, then renamed), as ONNX or in the ORT format.
 */
export async function saveOptimizedGraph(
  source: string,
  target: string,
  threads = 1,
  format: 'ONNX' | 'ORT' = 'ONNX',
): Promise<number> {
  // `.incomplete` is skipped by `model push` (listModelFiles) and by nothing else that reads .onnx.
  const partial = `${target}.incomplete`;
  const started = performance.now();
  const session = await ort.InferenceSession.create(source, {
    ...sessionOptions(threads),
    graphOptimizationLevel: OFFLINE_LEVEL,
    optimizedModelFilePath: partial,
    extra: { session: { save_model_format: format } },
  });
  await session.release();
  await rename(partial, target);
  return performance.now() - started;
}

/**
 * Optimizes every standard ONNX file of `dir`; throws (after removing the file) when a rewrite
 * changes the logits by more than `tolerance`.
 */
export async function optimizeModel(dir: string, options: OptimizeOptions = {}): Promise<OptimizedFile[]> {
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const threads = options.threads ?? 1;
  const present: string[] = [];
  // The Hugging Face names, and the same at the root (the tutorial's bundle layout), as the loader reads them.
  for (const rel of onnxCandidates(true)) {
    if ((await stat(path.join(dir, rel)).catch(() => undefined))?.isFile()) present.push(rel);
  }
  if (present.length === 0)
    throw new Error(`No standard ONNX file in ${dir} (looked for ${onnxCandidates(true).join(', ')})`);
  const windows = options.windows ?? (await checkWindows(dir));
  const results: OptimizedFile[] = [];
  for (const rel of present) {
    const result = await saveChecked(dir, rel, optimizedName(rel), 'ONNX', windows, tolerance, threads);
    const ortFormat = await saveChecked(
      dir,
      rel,
      ortFormatName(rel, installedOnnxRuntimeVersion()),
      'ORT',
      windows,
      tolerance,
      threads,
    );
    await writeFile(
      path.join(dir, sidecarName(rel)),
      `${JSON.stringify({ ...result, level: OFFLINE_LEVEL, onnxruntime: ort.env.versions.common, fromSha256: await sha256(path.join(dir, rel)), ortFormat }, null, 2)}\n`,
    );
    results.push(result, ortFormat);
  }
  return results;
}

/**
 * Saves the optimized graph of `rel` as `name` and checks it against `rel`, its session created as
 * the engine creates it (an ORT-format file from its bytes, used in place); removes it and throws
 * when a logit differs by more than `tolerance`.
 */
async function saveChecked(
  dir: string,
  rel: string,
  name: string,
  format: 'ONNX' | 'ORT',
  windows: readonly Window[],
  tolerance: number,
  threads: number,
): Promise<OptimizedFile> {
  const source = path.join(dir, rel);
  const target = path.join(dir, name);
  const optimizeMs = await saveOptimizedGraph(source, target, threads, format);
  const standard = await ort.InferenceSession.create(source, sessionOptions(threads));
  const bytes = await readFile(target);
  const saved =
    format === 'ORT'
      ? await ort.InferenceSession.create(bytes, { ...sessionOptions(threads, true), extra: ORT_BYTES_IN_PLACE })
      : await ort.InferenceSession.create(target, sessionOptions(threads, true));
  let check: LogitComparison;
  try {
    check = await compareLogits(standard, saved, windows);
  } finally {
    await Promise.all([standard.release(), saved.release()]);
  }
  if (!(check.maxAbsDiff <= tolerance)) {
    await rm(target, { force: true });
    throw new Error(`${name} differs from ${rel} by ${check.maxAbsDiff} (> ${tolerance}) in its logits: removed`);
  }
  return { from: rel, path: name, bytes: bytes.length, optimizeMs: Math.round(optimizeMs), check };
}

/** `onnx/model_quantized.onnx` → `onnx/model_quantized.optimized.json`: provenance of the optimized file. */
export function sidecarName(standard: string): string {
  return optimizedName(standard).replace(/\.onnx$/i, '.json');
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
