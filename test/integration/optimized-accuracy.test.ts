/**
 * The accuracy guard of the optimized graph (`model optimize`), measured: on the reference cases and
 * on a larger generated set at full size, the optimized int8 graph's top-1 answer must agree with
 * fp32's (same span) at least as often as the standard int8 export's does. The largest logit
 * difference from fp32 and from the standard int8 file is printed. fp32 is the yardstick here, not
 * code under test: it is the graph both int8 files were quantized from.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cp, link, mkdtemp, mkdir, readFile, realpath, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { defaultWindows } from '../../src/model/default-windows';
import { compareLogits, saveOptimizedGraph } from '../../scripts/model-cli/optimize';
import { ensureTestModel } from '../../scripts/model-generator';
import { FULL_ONNX, QUANTIZED_ONNX, optimizedName, ortFormatName } from '../../src/model/loading/model-files';
import { installedOnnxRuntimeVersion } from '../../src/model/onnxruntime/version';
import { sessionOptions } from '../../src/model/onnx-model';
import { QuestionAnswerer } from '../../src/model/question-answerer';
import { QATokenizer } from '../../src/model/tokenizer';
import type { QAInput } from '../../src/model/types';
import type { Window } from '../../src/model/windows';
import { REFERENCE_MODEL_DIR, answerInput, referenceCases } from '../helpers/reference-qa';

const OPTIMIZED_INT8 = optimizedName(QUANTIZED_ONNX);
const ORT_INT8 = ortFormatName(QUANTIZED_ONNX, installedOnnxRuntimeVersion());
/** `ort`: the same optimized graph in onnxruntime's ORT format, as the engine serves it (bytes used in place). */
const GRAPHS = { fp32: FULL_ONNX, int8: QUANTIZED_ONNX, optimized: OPTIMIZED_INT8, ort: ORT_INT8 } as const;
type Graph = keyof typeof GRAPHS;

let work: string;
const report: string[] = [];

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'optimized-accuracy-'));
});
afterAll(async () => {
  process.stdout.write(`\noptimized graph accuracy guard\n${report.join('\n')}\n`);
  await rm(work, { recursive: true, force: true });
});

/** The reference cases as engine inputs (the pipeline's options, top_k 1 unless the case says). */
function referenceInputs(): QAInput[] {
  return referenceCases().map((c) => {
    const input = answerInput(c) as {
      question: string;
      context: string;
      topK: number;
      options?: Record<string, unknown>;
    };
    return { question: input.question, context: input.context, options: { ...input.options, topK: 1 } };
  });
}

/**
 * A larger set: every reference question against slices of the reference contexts (licence texts)
 * of ~150 and ~380 tokens' worth of characters, so each input is one window at the bench's lengths.
 */
function generatedInputs(count: number): QAInput[] {
  const cases = referenceCases();
  const long = cases.map((c) => c.context).filter((t) => t.length > 2_000);
  const out: QAInput[] = [];
  for (let i = 0; out.length < count; i++) {
    const text = long[i % long.length]!;
    const chars = i % 2 === 0 ? 600 : 1_550;
    const from = (i * 977) % Math.max(1, text.length - chars);
    out.push({
      question: cases[(i * 7) % cases.length]!.question,
      context: text.slice(from, from + chars),
      options: { topK: 1 },
    });
  }
  return out;
}

/** Top-1 span of every input, on one graph. */
async function topSpans(dir: string, graph: Graph, inputs: readonly QAInput[]): Promise<string[]> {
  const engine = await QuestionAnswerer.create({
    model: path.join(dir, GRAPHS[graph]),
    tokenizerJson: await readFile(path.join(dir, 'tokenizer.json'), 'utf8'),
    config: JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')),
    intraOpNumThreads: 1,
    preOptimized: graph === 'optimized' || graph === 'ort',
  });
  try {
    const spans: string[] = [];
    for (const input of inputs) {
      const [best] = await engine.answer(input);
      spans.push(best ? `${best.start}:${best.end}` : 'none');
    }
    return spans;
  } finally {
    await engine.dispose();
  }
}

async function maxLogitDiff(dir: string, a: Graph, b: Graph, windows: readonly Window[]): Promise<number> {
  const open = (g: Graph) =>
    ort.InferenceSession.create(path.join(dir, GRAPHS[g]), sessionOptions(1, g === 'optimized' || g === 'ort'));
  const [sa, sb] = [await open(a), await open(b)];
  try {
    return (await compareLogits(sa, sb, windows)).maxAbsDiff;
  } finally {
    await Promise.all([sa.release(), sb.release()]);
  }
}

async function guard(name: string, dir: string, inputs: readonly QAInput[]): Promise<void> {
  const [fp32, int8, optimized, ortFormat] = [
    await topSpans(dir, 'fp32', inputs),
    await topSpans(dir, 'int8', inputs),
    await topSpans(dir, 'optimized', inputs),
    await topSpans(dir, 'ort', inputs),
  ];
  const agree = (spans: string[]) => spans.filter((s, i) => s === fp32[i]).length;
  const tokenizer = QATokenizer.fromJson(await readFile(path.join(dir, 'tokenizer.json'), 'utf8'));
  const windows: Window[] = [];
  for (const input of inputs.slice(0, 16))
    windows.push(...(await defaultWindows(tokenizer, input.question, input.context)));
  const vsFp32 = await maxLogitDiff(dir, 'fp32', 'optimized', windows);
  const vsInt8 = await maxLogitDiff(dir, 'int8', 'optimized', windows);
  const ortVsInt8 = await maxLogitDiff(dir, 'int8', 'ort', windows);
  report.push(
    `  ${name}: ${inputs.length} inputs; top-1 same span as fp32: standard int8 ${agree(int8)}, optimized ${agree(optimized)}; ` +
      `largest logit difference over ${windows.length} windows: optimized vs fp32 ${vsFp32.toFixed(4)}, vs standard int8 ${vsInt8.toExponential(2)}; ` +
      `ORT format: top-1 same span as fp32 ${agree(ortFormat)}, vs standard int8 ${ortVsInt8.toExponential(2)}`,
  );
  expect(agree(optimized)).toBeGreaterThanOrEqual(agree(int8));
  expect(agree(ortFormat)).toBeGreaterThanOrEqual(agree(int8));
  expect(ortVsInt8).toBeLessThanOrEqual(1e-3);
  // The optimized file is the standard int8 graph as the runtime rewrites it anyway: same kernels.
  expect(vsInt8).toBeLessThanOrEqual(1e-3);
}

/** A folder of links to `dir`'s files plus the optimized int8 graph saved beside them, in both formats. */
async function withOptimized(dir: string, name: string): Promise<string> {
  const copy = path.join(work, name);
  await mkdir(path.join(copy, 'onnx'), { recursive: true });
  for (const f of ['tokenizer.json', 'config.json', FULL_ONNX, QUANTIZED_ONNX]) {
    // realpath: the fixture's tokenizer.json is a relative symlink, which a hard link would break.
    const source = await realpath(path.join(dir, f));
    await link(source, path.join(copy, f)).catch(() => cp(source, path.join(copy, f)));
  }
  await saveOptimizedGraph(path.join(copy, QUANTIZED_ONNX), path.join(copy, OPTIMIZED_INT8));
  await saveOptimizedGraph(path.join(copy, QUANTIZED_ONNX), path.join(copy, ORT_INT8), 1, 'ORT');
  return copy;
}

describe('optimized int8 graph: top-1 agreement with fp32 no lower than the standard int8 export', () => {
  it('on the 120 reference cases (a PyTorch export)', async () => {
    await guard('reference cases', await withOptimized(REFERENCE_MODEL_DIR, 'reference'), referenceInputs());
  });

  it('on 48 generated inputs of ~150 and ~380 tokens, full-size DistilBERT', async () => {
    const dir = await ensureTestModel({ size: 'full', variant: 'distilbert' });
    await guard('full-size generated set', await withOptimized(dir, 'full'), generatedInputs(48));
  }, 600_000);
});
