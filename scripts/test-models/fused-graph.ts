/**
 * A candidate the issue asked to measure: DistilBERT int8 with onnxruntime's contrib ops fused
 * *before* quantization, as onnxruntime's Python transformer optimizer would write it, built here
 * from the generator's own weights (the same model as `ensureTestModel({ size: 'full' })`):
 * - Q, K and V packed into one [d, 3d] weight per layer: `QAttention` (int8 QKV GEMM, attention in
 *   the kernel) after one DynamicQuantizeLinear, or fp32 `Attention` with `quantAttention: false`;
 * - `SkipLayerNormalization` for residual + LayerNorm, `Gelu` for the erf GELU;
 * - every other weight MatMul as `DynamicQuantizeMatMul` (bias inside), per tensor or per column.
 * The runtime's own optimizer does none of the attention or skip fusions on the standard export (see
 * docs/engine.md, "The optimized graph"), so this is the only way to measure them here. Weights keep
 * the generator's layout: Linear.weight is [in, out], row-major.
 */
import { float, GraphBuilder, int } from './graph-builder';
import { modelProto } from './onnx-inspect';
import { DataType } from './onnx-proto';
import { quantizeSymmetricInt8 } from './quantize';
import { OPSET } from './transformer-graph';
import type { Embedding, LayerNormWeights, Linear, TransformerWeights } from './weights';

export interface FusedOptions {
  /** Per-column weight scales (one per output) instead of one per tensor. */
  perChannel: boolean;
  /** QAttention (int8 QKV) instead of fp32 Attention. */
  quantAttention: boolean;
}

const CONTRIB_OPS = new Set(['QAttention', 'Attention', 'DynamicQuantizeMatMul', 'SkipLayerNormalization', 'Gelu']);

/** Symmetric int8 per output column of an [inDim, outDim] weight. */
function quantizePerColumn(w: Float32Array, inDim: number, outDim: number): { values: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(outDim);
  for (let j = 0; j < outDim; j++) {
    let absMax = 0;
    for (let i = 0; i < inDim; i++) absMax = Math.max(absMax, Math.abs(w[i * outDim + j]!));
    scales[j] = Math.fround(absMax > 0 ? absMax / 127 : 1);
  }
  const values = new Int8Array(w.length);
  for (let i = 0; i < inDim; i++) {
    for (let j = 0; j < outDim; j++) values[i * outDim + j] = Math.max(-127, Math.min(127, Math.round(w[i * outDim + j]! / scales[j]!)));
  }
  return { values, scales };
}

export function buildFusedModel(weights: TransformerWeights, options: FusedOptions): Buffer {
  const c = weights.config;
  if (weights.tokenType) throw new Error('the fused candidate is built for DistilBERT only');
  const g = new GraphBuilder('DistilBertForQuestionAnswering (fused candidate)');
  const quantized = (name: string, w: Float32Array, inDim: number, outDim: number) => {
    if (options.perChannel) {
      const q = quantizePerColumn(w, inDim, outDim);
      return {
        w: g.initializer(`${name}.weight_quantized`, DataType.INT8, [inDim, outDim], q.values),
        scale: g.initializer(`${name}.weight_scale`, DataType.FLOAT, [outDim], q.scales),
        zp: g.initializer(`${name}.weight_zero_point`, DataType.INT8, [outDim], new Int8Array(outDim)),
      };
    }
    const q = quantizeSymmetricInt8(w);
    return {
      w: g.initializer(`${name}.weight_quantized`, DataType.INT8, [inDim, outDim], q.values),
      scale: g.initializer(`${name}.weight_scale`, DataType.FLOAT, [], new Float32Array([q.scale])),
      zp: g.initializer(`${name}.weight_zero_point`, DataType.INT8, [], new Int8Array([0])),
    };
  };
  const linear = (x: string, lin: Linear) => {
    const q = quantized(lin.name, lin.weight, lin.inDim, lin.outDim);
    const bias = g.initializer(`${lin.name}.bias`, DataType.FLOAT, [lin.outDim], lin.bias);
    return g.node('DynamicQuantizeMatMul', [x, q.w, q.scale, q.zp, bias]);
  };
  const embedding = (e: Embedding, indices: string) => {
    const q = quantizeSymmetricInt8(e.table);
    const table = g.initializer(`${e.name}.weight_quantized`, DataType.INT8, [e.rows, e.dim], q.values);
    const scale = g.initializer(`${e.name}.weight_scale`, DataType.FLOAT, [], new Float32Array([q.scale]));
    const zp = g.initializer(`${e.name}.weight_zero_point`, DataType.INT8, [], new Int8Array([0]));
    return g.node('DequantizeLinear', [g.node('Gather', [table, indices], { axis: int(0) }), scale, zp]);
  };
  const norm = (ln: LayerNormWeights) => [
    g.initializer(`${ln.name}.weight`, DataType.FLOAT, [c.dim], ln.gamma),
    g.initializer(`${ln.name}.bias`, DataType.FLOAT, [c.dim], ln.beta),
  ];

  const ids = g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', DataType.INT64, ['batch_size', 'sequence_length']);
  const seqLen = g.node('Gather', [g.node('Shape', [ids]), g.constInt64(1)], { axis: int(0) });
  const positions = g.node('Range', [g.constInt64(0), seqLen, g.constInt64(1)]);
  const summed = g.node('Add', [embedding(weights.word, ids), embedding(weights.position, positions)]);
  let x = g.node('LayerNormalization', [summed, ...norm(weights.embeddingLayerNorm)], { axis: int(-1), epsilon: float(c.layerNormEps) });
  // Attention's mask_index: the raw 1/0 mask as int32 [batch, seq].
  const maskIndex = g.node('Cast', [mask], { to: int(DataType.INT32) });
  const d = c.dim;
  weights.layers.forEach((layer, l) => {
    const packed = new Float32Array(d * 3 * d);
    [layer.q, layer.k, layer.v].forEach((lin, k) => {
      for (let i = 0; i < d; i++) packed.set(lin.weight.subarray(i * d, (i + 1) * d), i * 3 * d + k * d);
    });
    const packedBias = new Float32Array(3 * d);
    [layer.q, layer.k, layer.v].forEach((lin, k) => packedBias.set(lin.bias, k * d));
    const bias = g.initializer(`layer.${l}.qkv.bias`, DataType.FLOAT, [3 * d], packedBias);
    let attention: string;
    if (options.quantAttention) {
      const q = quantized(`layer.${l}.qkv`, packed, d, 3 * d);
      const [xq, xScale, xZp] = g.nodeN('DynamicQuantizeLinear', [x], 3);
      attention = g.node('QAttention', [xq!, q.w, bias, xScale!, q.scale, maskIndex, xZp!, q.zp], { num_heads: int(c.nHeads) });
    } else {
      const w = g.initializer(`layer.${l}.qkv.weight`, DataType.FLOAT, [d, 3 * d], packed);
      attention = g.node('Attention', [x, w, bias, maskIndex], { num_heads: int(c.nHeads) });
    }
    const h = g.node('SkipLayerNormalization', [linear(attention, layer.out), x, ...norm(layer.attnLayerNorm)], { epsilon: float(c.layerNormEps) });
    const ffn = linear(g.node('Gelu', [linear(h, layer.ffn1)]), layer.ffn2);
    x = g.node('SkipLayerNormalization', [ffn, h, ...norm(layer.outputLayerNorm)], { epsilon: float(c.layerNormEps) });
  });
  const [start, end] = g.nodeN('Split', [linear(x, weights.qa), g.constInt64([1, 1])], 2, { axis: int(-1) });
  g.node('Squeeze', [start!, g.constInt64([-1])], undefined, 'start_logits');
  g.node('Squeeze', [end!, g.constInt64([-1])], undefined, 'end_logits');
  g.output('start_logits', DataType.FLOAT, ['batch_size', 'sequence_length']);
  g.output('end_logits', DataType.FLOAT, ['batch_size', 'sequence_length']);

  // The encoder imports only the default domain: put the contrib ops in onnxruntime's, re-encoded
  // with onnx-inspect's protobuf schema.
  const T = modelProto();
  const model = T.decode(g.encode(OPSET, 'Fused int8 candidate built from the test-model weights (scripts/test-models/fused-graph.ts)')) as any;
  for (const node of model.graph.node) if (CONTRIB_OPS.has(node.opType)) node.domain = 'com.microsoft';
  model.opsetImport.push({ domain: 'com.microsoft', version: 1 });
  return Buffer.from(T.encode(model).finish());
}
