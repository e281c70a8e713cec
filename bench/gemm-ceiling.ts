/**
 * What this CPU's GEMMs reach through onnxruntime itself, measured rather than estimated from a clock
 * and an instruction table: one-GEMM graphs with the model's own shapes, built with the test-model
 * tooling and run with the engine's session options, so the "ceiling" a model run is read against is
 * the same kernels (MLAS) at their best on this machine, under the same load.
 * - int8 as the model runs it: the exporter's DynamicQuantizeLinear → MatMulInteger → Cast → Mul →
 *   Add pattern (TransformerGraph.linear, as in model_quantized.onnx), which onnxruntime fuses into
 *   `DynamicQuantizeMatMul`: quantizing the activations and scaling the result are included.
 * - int8 GEMM alone: `MatMulInteger` on uint8 activations fed as they are, int32 out.
 * - fp32: the attention products' `MatMul` shapes (QKᵀ and AV, 12 heads of 64).
 */
import * as ort from 'onnxruntime-node';
import { sessionOptions } from '../src/model/onnx-model';
import { GraphBuilder, int } from '../scripts/model-generator/graph-builder';
import { DataType } from '../scripts/model-generator/onnx-proto';
import { streamFor, uniformFill } from '../scripts/model-generator/random';
import { OPSET, TransformerGraph } from '../scripts/model-generator/transformer-graph';
import type { KernelEvent, Profiled } from './ort-profile';
import { summarize, type Summary } from './stats';

export type Precision = 'int8' | 'fp32';

export interface CeilingKernel {
  /** Stable id for the bench's cases. */
  id: string;
  /** What runs, for the table. */
  label: string;
  precision: Precision;
  /** The operator the timed node runs as, after onnxruntime's graph optimization. */
  op: string;
  macs: number;
  model: Uint8Array;
  feeds: Record<string, ort.Tensor>;
}

const SEED = 16;
const randomFloats = (n: number, name: string) => uniformFill(new Float32Array(n), SEED, name, 1);

/**
 * The graph's output: the GEMM's result summed to a scalar. A large graph output would be a fresh
 * allocation on every run, page faults the model's intermediate tensors (reused from onnxruntime's
 * arena) do not pay; the sum is a node of its own, not timed.
 */
function sumAsOutput(g: GraphBuilder, x: string, type: typeof DataType.FLOAT | typeof DataType.INT32): void {
  g.node('ReduceSum', [x], { keepdims: int(0) }, 'y');
  g.output('y', type, []);
}

function randomBytes<T extends Uint8Array | Int8Array>(out: T, name: string): T {
  const next = streamFor(SEED, name);
  for (let i = 0; i < out.length; i++) out[i] = next() & 0xff;
  return out;
}

/** x [m, k] (fp32) × W [k, n] through the exporter's int8 pattern (fused by onnxruntime into DynamicQuantizeMatMul). */
function quantizedLinear(m: number, k: number, n: number): CeilingKernel {
  const t = new TransformerGraph(true, 'int8 linear');
  const x = t.g.input('x', DataType.FLOAT, [m, k]);
  const lin = { name: 'w', inDim: k, outDim: n, weight: randomFloats(k * n, 'w'), bias: randomFloats(n, 'b') };
  sumAsOutput(t.g, t.linear(x, lin), DataType.FLOAT);
  return {
    id: `dqmm-${m}x${k}x${n}`,
    label: `int8 \`DynamicQuantizeMatMul\` [${m},${k}]×[${k},${n}]`,
    precision: 'int8',
    op: 'DynamicQuantizeMatMul',
    macs: m * k * n,
    model: t.g.encode(OPSET, 'bench: int8 GEMM ceiling'),
    feeds: { x: new ort.Tensor('float32', randomFloats(m * k, 'x'), [m, k]) },
  };
}

/** a [m, k] (uint8) × W [k, n] (int8) → int32: the int8 GEMM alone. */
function matMulInteger(m: number, k: number, n: number): CeilingKernel {
  const g = new GraphBuilder('int8 GEMM');
  const a = g.input('a', DataType.UINT8, [m, k]);
  const w = g.initializer('w', DataType.INT8, [k, n], randomBytes(new Int8Array(k * n), 'w'));
  const aZp = g.initializer('a_zp', DataType.UINT8, [], new Uint8Array([128]));
  const wZp = g.initializer('w_zp', DataType.INT8, [], new Int8Array([0]));
  sumAsOutput(g, g.node('MatMulInteger', [a, w, aZp, wZp]), DataType.INT32);
  return {
    id: `mmi-${m}x${k}x${n}`,
    label: `int8 \`MatMulInteger\` [${m},${k}]×[${k},${n}]`,
    precision: 'int8',
    op: 'MatMulInteger',
    macs: m * k * n,
    model: g.encode(OPSET, 'bench: int8 GEMM ceiling'),
    feeds: { a: new ort.Tensor('uint8', randomBytes(new Uint8Array(m * k), 'a'), [m, k]) },
  };
}

/** Batched fp32 [h, m, k] × [h, k, n]: the attention products' shapes. */
function batchedMatMul(h: number, m: number, k: number, n: number): CeilingKernel {
  const g = new GraphBuilder('fp32 batched MatMul');
  const a = g.input('a', DataType.FLOAT, [h, m, k]);
  const b = g.input('b', DataType.FLOAT, [h, k, n]);
  sumAsOutput(g, g.node('MatMul', [a, b]), DataType.FLOAT);
  return {
    id: `fp32-${h}x${m}x${k}x${n}`,
    label: `fp32 \`MatMul\` [${h},${m},${k}]×[${h},${k},${n}]`,
    precision: 'fp32',
    op: 'MatMul',
    macs: h * m * k * n,
    model: g.encode(OPSET, 'bench: fp32 GEMM ceiling'),
    feeds: {
      a: new ort.Tensor('float32', randomFloats(h * m * k, 'a'), [h, m, k]),
      b: new ort.Tensor('float32', randomFloats(h * k * n, 'b'), [h, k, n]),
    },
  };
}

/**
 * The kernels, for a model of width `dim`, feed-forward width `ff` and `heads` heads, at `tokens`
 * rows (the bench's ~380 window) and at 512 (the most a window holds): the feed-forward pair, the
 * model's largest GEMMs, in both int8 forms; the attention products in fp32 at `tokens`.
 */
export function ceilingKernels(dim: number, ff: number, heads: number, tokens: number): CeilingKernel[] {
  const rows = [...new Set([tokens, 512])];
  const head = dim / heads;
  return [
    ...rows.flatMap((m) => [quantizedLinear(m, dim, ff), quantizedLinear(m, ff, dim)]),
    ...rows.flatMap((m) => [matMulInteger(m, dim, ff), matMulInteger(m, ff, dim)]),
    batchedMatMul(heads, tokens, head, tokens),
    batchedMatMul(heads, tokens, tokens, head),
  ];
}

/** Profiled sessions of `kernel` on `threads` threads with the engine's options, keyed `${id}/${threads}`. */
export function ceilingProfiled(kernel: CeilingKernel, threads: number): Profiled {
  return {
    key: `${kernel.id}/${threads}`,
    open: (profiling) => ort.InferenceSession.create(kernel.model, { ...sessionOptions(threads), ...profiling }),
    run: (session) => session.run(kernel.feeds),
    // The third of three runs in a row: inputs and weights in cache, the kernel at its best.
    repeat: 3,
  };
}

/**
 * The GEMM node's kernel time per run (onnxruntime's profiler: the node alone, no session.run
 * overhead, no output to JS), from `profileRuns`' events of that kernel.
 */
export function gemmTimes(kernel: CeilingKernel, runs: readonly KernelEvent[][]): Summary {
  const ms = runs.map((events) => {
    const gemm = events.filter((e) => e.op === kernel.op);
    // One GEMM node per run, or onnxruntime did not optimize the graph as the module comment says.
    if (gemm.length !== 1)
      throw new Error(
        `${kernel.id}: expected one ${kernel.op} node per run, got ${events.map((e) => e.op).join(', ')}`,
      );
    return gemm[0]!.ms;
  });
  return summarize(ms);
}
