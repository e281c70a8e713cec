/**
 * Deterministic DistilBERT/BERT-for-QA test models with seeded random weights, written as Hugging
 * Face repo folders (config.json, tokenizer files, onnx/model.onnx, onnx/model_quantized.onnx).
 * No pretrained weights can be downloaded here, so tests and benchmarks use these: the same graph
 * interface and cost as the real export, with answers that mean nothing (or, for the `pointer`
 * variant, answers a test chooses).
 *
 *   const dir = await ensureTestModel({ size: 'tiny', variant: 'distilbert' });
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, writeHfFiles } from './hf-files';
import { buildPointerModel, makePointerTables } from './pointer-graph';
import { normalizeSpec, NormalizedSpec, specKey, TestModelSpec } from './spec';
import { buildTransformerModel } from './transformer-graph';
import { configFor, makeWeights, TransformerWeights } from './weights';

export { normalizeSpec, specKey, GENERATOR_VERSION, DEFAULT_SEED } from './spec';
export type { TestModelSpec, TestModelVariant, NormalizedSpec } from './spec';
export type { ModelSize, TransformerConfig, TransformerWeights } from './weights';

/** Where `ensureTestModel` caches models: `<repo>/test-models/` (gitignored). */
export const TEST_MODELS_DIR = path.join(REPO_ROOT, 'test-models');
export const MODEL_FILE = path.join('onnx', 'model.onnx');
export const QUANTIZED_MODEL_FILE = path.join('onnx', 'model_quantized.onnx');

export interface GeneratedModel {
  dir: string;
  spec: NormalizedSpec;
  /** Absolute path of onnx/model.onnx. */
  modelPath: string;
  /** Absolute path of onnx/model_quantized.onnx, or null with `fp32Only`. */
  quantizedModelPath: string | null;
  /** Operator types of the fp32 and int8 graphs. */
  opTypes: { fp32: string[]; int8: string[] | null };
  bytes: { fp32: number; int8: number | null };
  /** Wall time of the whole generation. */
  ms: number;
}

/**
 * The exact weights a distilbert/bert spec's ONNX files hold (fp32 file; the int8 file holds their
 * quantisation). For independent forward passes in tests.
 */
export function weightsForSpec(spec: TestModelSpec): TransformerWeights {
  const n = normalizeSpec(spec);
  if (n.variant === 'pointer') throw new TypeError('the pointer variant has no transformer weights');
  return makeWeights(configFor(n.size, n.variant === 'bert'), n.seed);
}

/**
 * Writes the model repo for `spec` into `dir` (created if missing; files there are overwritten).
 * Same spec → byte-identical files.
 */
export async function generateTestModel(dir: string, spec: TestModelSpec): Promise<GeneratedModel> {
  const t0 = performance.now();
  const n = normalizeSpec(spec);
  const config = configFor(n.size, n.variant === 'bert');
  await fs.mkdir(path.join(dir, 'onnx'), { recursive: true });
  await writeHfFiles(dir, n, config);

  // Build one file at a time and drop its buffer before the next: a full fp32 file is ~265 MB.
  let build: (quantized: boolean) => { bytes: Buffer; opTypes: string[] };
  if (n.variant === 'pointer') {
    const tables = makePointerTables(n.seed, n.startTokenIds, n.endTokenIds, n.highLogit);
    build = (quantized) => buildPointerModel(tables, { quantized });
  } else {
    const weights = makeWeights(config, n.seed);
    build = (quantized) => buildTransformerModel(weights, { quantized });
  }
  const modelPath = path.join(dir, MODEL_FILE);
  const fp32 = build(false);
  await fs.writeFile(modelPath, fp32.bytes);
  const result: GeneratedModel = {
    dir,
    spec: n,
    modelPath,
    quantizedModelPath: null,
    opTypes: { fp32: fp32.opTypes, int8: null },
    bytes: { fp32: fp32.bytes.byteLength, int8: null },
    ms: 0,
  };
  if (!n.fp32Only) {
    const int8 = build(true);
    result.quantizedModelPath = path.join(dir, QUANTIZED_MODEL_FILE);
    await fs.writeFile(result.quantizedModelPath, int8.bytes);
    result.opTypes.int8 = int8.opTypes;
    result.bytes.int8 = int8.bytes.byteLength;
  }
  result.ms = performance.now() - t0;
  return result;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

const inFlight = new Map<string, Promise<string>>();
/** A temporary build folder this old belongs to a process that died (far longer than any build takes). */
const STALE_TMP_MS = 60 * 60 * 1000;

/** Removes build folders left behind by killed processes; never one that may still be in use. */
async function removeStaleTemps(cacheDir: string): Promise<void> {
  const now = Date.now();
  for (const name of await fs.readdir(cacheDir).catch(() => [] as string[])) {
    if (!name.startsWith('.tmp-')) continue;
    const p = path.join(cacheDir, name);
    const stat = await fs.stat(p).catch(() => null);
    if (stat && now - stat.mtimeMs > STALE_TMP_MS) await fs.rm(p, { recursive: true, force: true });
  }
}

async function ensureUncached(spec: TestModelSpec, cacheDir: string): Promise<string> {
  const target = path.join(cacheDir, specKey(spec));
  // The folder only ever appears through an atomic rename of a complete build, so it is complete.
  if (await isDir(target)) return target;
  await fs.mkdir(cacheDir, { recursive: true });
  await removeStaleTemps(cacheDir);
  const tmp = path.join(cacheDir, `.tmp-${path.basename(target)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await generateTestModel(tmp, spec);
    try {
      await fs.rename(tmp, target);
    } catch (err) {
      // Another process (a parallel jest worker) finished first: its copy has the same bytes.
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await isDir(target))) return target;
      throw err;
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  return target;
}

/**
 * The cached model folder for `spec`, generating it on first use under `<repo>/test-models/<key>/`
 * (or `options.cacheDir`). Safe when several processes ask at once: each builds into a private
 * temporary folder and renames it into place; whoever loses the race uses the winner's folder.
 */
export function ensureTestModel(spec: TestModelSpec, options: { cacheDir?: string } = {}): Promise<string> {
  const cacheDir = path.resolve(options.cacheDir ?? TEST_MODELS_DIR);
  const key = path.join(cacheDir, specKey(spec));
  let pending = inFlight.get(key);
  if (!pending) {
    pending = ensureUncached(spec, cacheDir);
    inFlight.set(key, pending);
    // Forget failures so a later call can retry; successes stay memoised for this process.
    pending.catch(() => inFlight.delete(key));
  }
  return pending;
}

/**
 * The demo model `npm start` falls back to when the Hub cannot be reached: the tiny DistilBERT.
 * scripts/start.ts hands it to the loader (`demoModel`), so production code never imports this
 * generator and the Lambda bundle cannot contain it.
 */
export function ensureDemoModel(): Promise<string> {
  return ensureTestModel({ size: 'tiny', variant: 'distilbert' });
}
