/**
 * The DistilBertForQuestionAnswering / BertForQuestionAnswering graph, with the interface of
 * Hugging Face's ONNX export (input_ids, attention_mask[, token_type_ids] → start_logits,
 * end_logits, dynamic axes batch_size × sequence_length), built from plain opset-17 ONNX ops.
 *
 * With `quantized`, the graph is what onnxruntime's `quantize_dynamic` (QInt8, per tensor) makes of
 * the fp32 export, which is what Hugging Face ships as `onnx/model_quantized.onnx`:
 * - every MatMul with a constant weight becomes DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_q,
 *   x_zp, W_zp) → Cast(float) → Mul(x_scale · W_scale), with the bias Add left as it was. This is
 *   the exact pattern onnxruntime's CPU optimiser fuses into DynamicQuantizeMatMul, which is where
 *   the int8 speed-up comes from.
 * - every embedding Gather reads an int8 table and is followed by DequantizeLinear, which is what
 *   makes the file ~4× smaller.
 * Attention's activation×activation MatMuls stay fp32 (they are ~8% of the FLOPs at 384 tokens).
 */
import { float, GraphBuilder, int, ints } from './graph-builder';
import { DataType } from './onnx-proto';
import { quantizeSymmetricInt8 } from './quantize';
import type { Embedding, LayerNormWeights, Linear, TransformerWeights } from './weights';

export const OPSET = 17;
/** torch.finfo(float32).min: what Hugging Face adds to masked attention scores. */
export const MASK_BIAS = -3.4028234663852886e38;

const BATCH = 'batch_size';
const SEQ = 'sequence_length';

export interface BuildOptions {
  quantized: boolean;
}

export interface BuiltModel {
  bytes: Buffer;
  opTypes: string[];
}

export class TransformerGraph {
  readonly g: GraphBuilder;
  /** DynamicQuantizeLinear outputs per activation, so Q/K/V share one quantisation of x (as ORT does). */
  private readonly quantizedActivations = new Map<string, [string, string, string]>();

  constructor(
    private readonly quantized: boolean,
    name: string,
  ) {
    this.g = new GraphBuilder(name);
  }

  embedding(e: Embedding, indices: string): string {
    const g = this.g;
    if (!this.quantized) {
      const table = g.initializer(`${e.name}.weight`, DataType.FLOAT, [e.rows, e.dim], e.table);
      return g.node('Gather', [table, indices], { axis: int(0) });
    }
    const q = quantizeSymmetricInt8(e.table);
    const table = g.initializer(`${e.name}.weight_quantized`, DataType.INT8, [e.rows, e.dim], q.values);
    const scale = g.initializer(`${e.name}.weight_scale`, DataType.FLOAT, [], new Float32Array([q.scale]));
    const zp = g.initializer(`${e.name}.weight_zero_point`, DataType.INT8, [], new Int8Array([0]));
    const gathered = g.node('Gather', [table, indices], { axis: int(0) });
    return g.node('DequantizeLinear', [gathered, scale, zp]);
  }

  layerNorm(x: string, ln: LayerNormWeights, eps: number): string {
    const g = this.g;
    const gamma = g.initializer(`${ln.name}.weight`, DataType.FLOAT, [ln.gamma.length], ln.gamma);
    const beta = g.initializer(`${ln.name}.bias`, DataType.FLOAT, [ln.beta.length], ln.beta);
    return g.node('LayerNormalization', [x, gamma, beta], { axis: int(-1), epsilon: float(eps) });
  }

  private matmulWeight(x: string, lin: Linear): string {
    const g = this.g;
    if (!this.quantized) {
      const w = g.initializer(`${lin.name}.weight`, DataType.FLOAT, [lin.inDim, lin.outDim], lin.weight);
      return g.node('MatMul', [x, w]);
    }
    const q = quantizeSymmetricInt8(lin.weight);
    const w = g.initializer(`${lin.name}.weight_quantized`, DataType.INT8, [lin.inDim, lin.outDim], q.values);
    const wScale = g.initializer(`${lin.name}.weight_scale`, DataType.FLOAT, [], new Float32Array([q.scale]));
    const wZp = g.initializer(`${lin.name}.weight_zero_point`, DataType.INT8, [], new Int8Array([0]));
    let xq = this.quantizedActivations.get(x);
    if (!xq) {
      const outs = g.nodeN('DynamicQuantizeLinear', [x], 3);
      xq = [outs[0]!, outs[1]!, outs[2]!];
      this.quantizedActivations.set(x, xq);
    }
    const [xQuant, xScale, xZp] = xq;
    const mm = g.node('MatMulInteger', [xQuant, w, xZp, wZp]);
    const scale = g.node('Mul', [xScale, wScale]);
    const asFloat = g.node('Cast', [mm], { to: int(DataType.FLOAT) });
    return g.node('Mul', [asFloat, scale]);
  }

  linear(x: string, lin: Linear): string {
    const bias = this.g.initializer(`${lin.name}.bias`, DataType.FLOAT, [lin.outDim], lin.bias);
    return this.g.node('Add', [bias, this.matmulWeight(x, lin)]);
  }

  /** GELU with erf, decomposed exactly as PyTorch's exporter writes it (ORT fuses it back). */
  gelu(x: string): string {
    const g = this.g;
    const div = g.node('Div', [x, g.constFloat(Math.SQRT2)]);
    const erf = g.node('Erf', [div]);
    const add = g.node('Add', [erf, g.constFloat(1)]);
    const mul = g.node('Mul', [x, add]);
    return g.node('Mul', [mul, g.constFloat(0.5)]);
  }
}

/** Serializes the QA model for `weights`; see the module comment for the quantized form. */
export function buildTransformerModel(weights: TransformerWeights, options: BuildOptions): BuiltModel {
  const c = weights.config;
  const bert = weights.tokenType !== null;
  const root = bert ? 'bert' : 'distilbert';
  const t = new TransformerGraph(
    options.quantized,
    bert ? 'BertForQuestionAnswering' : 'DistilBertForQuestionAnswering',
  );
  const g = t.g;
  const headDim = c.dim / c.nHeads;
  if (!Number.isInteger(headDim)) throw new Error(`dim ${c.dim} is not divisible by ${c.nHeads} heads`);

  const inputIds = g.input('input_ids', DataType.INT64, [BATCH, SEQ]);
  const attentionMask = g.input('attention_mask', DataType.INT64, [BATCH, SEQ]);
  const tokenTypeIds = bert ? g.input('token_type_ids', DataType.INT64, [BATCH, SEQ]) : null;

  let x = g.scope(`${root}/embeddings`, () => {
    const shape = g.node('Shape', [inputIds]);
    const seqLen = g.node('Gather', [shape, g.constInt64(1)], { axis: int(0) });
    const positions = g.node('Range', [g.constInt64(0), seqLen, g.constInt64(1)]);
    let sum = g.node('Add', [t.embedding(weights.word, inputIds), t.embedding(weights.position, positions)]);
    if (weights.tokenType && tokenTypeIds) {
      sum = g.node('Add', [sum, t.embedding(weights.tokenType, tokenTypeIds)]);
    }
    return t.layerNorm(sum, weights.embeddingLayerNorm, c.layerNormEps);
  });

  // attention_mask (1 = attend, 0 = padding) → additive bias [batch, 1, 1, seq]: 0 or finfo.min.
  const maskBias = g.scope(`${root}/mask`, () => {
    const m = g.node('Cast', [attentionMask], { to: int(DataType.FLOAT) });
    const inverted = g.node('Sub', [g.constFloat(1), m]);
    const bias = g.node('Mul', [inverted, g.constFloat(MASK_BIAS)]);
    return g.node('Unsqueeze', [bias, g.constInt64([1, 2])]);
  });

  weights.layers.forEach((layer, l) => {
    x = g.scope(`${root}/transformer/layer.${l}`, () => {
      const attn = g.scope('attention', () => {
        const heads = (v: string, perm: number[]): string =>
          g.node('Transpose', [g.node('Reshape', [v, g.constInt64([0, 0, c.nHeads, headDim])])], { perm: ints(perm) });
        const q = heads(t.linear(x, layer.q), [0, 2, 1, 3]);
        const k = heads(t.linear(x, layer.k), [0, 2, 3, 1]);
        const v = heads(t.linear(x, layer.v), [0, 2, 1, 3]);
        const qScaled = g.node('Div', [q, g.constFloat(Math.sqrt(headDim))]);
        const scores = g.node('Add', [g.node('MatMul', [qScaled, k]), maskBias]);
        const probs = g.node('Softmax', [scores], { axis: int(-1) });
        const context = g.node('Transpose', [g.node('MatMul', [probs, v])], { perm: ints([0, 2, 1, 3]) });
        const merged = g.node('Reshape', [context, g.constInt64([0, 0, c.dim])]);
        return t.linear(merged, layer.out);
      });
      const h = t.layerNorm(g.node('Add', [attn, x]), layer.attnLayerNorm, c.layerNormEps);
      const ffn = g.scope('ffn', () => t.linear(t.gelu(t.linear(h, layer.ffn1)), layer.ffn2));
      return t.layerNorm(g.node('Add', [ffn, h]), layer.outputLayerNorm, c.layerNormEps);
    });
  });

  g.scope('qa_outputs', () => {
    const logits = t.linear(x, weights.qa);
    const [start, end] = g.nodeN('Split', [logits, g.constInt64([1, 1])], 2, { axis: int(-1) });
    const axes = g.constInt64([-1]);
    g.node('Squeeze', [start!, axes], undefined, 'start_logits');
    g.node('Squeeze', [end!, axes], undefined, 'end_logits');
  });
  g.output('start_logits', DataType.FLOAT, [BATCH, SEQ]);
  g.output('end_logits', DataType.FLOAT, [BATCH, SEQ]);

  const doc =
    'Generated test model with seeded random weights (scripts/model-generator): answers mean nothing.' +
    (options.quantized ? ' Int8 dynamic quantization (per-tensor, symmetric weights).' : '');
  return { bytes: g.encode(OPSET, doc), opTypes: g.opTypes() };
}
