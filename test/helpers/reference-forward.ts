/**
 * An independent forward pass of DistilBertForQuestionAnswering / BertForQuestionAnswering in plain
 * TypeScript (float64, loops, no ONNX), over the same `TransformerWeights` the generator writes.
 * Tests compare onnxruntime's output for the generated graph with this, so a wrong op, axis,
 * transpose, mask or weight layout in the graph shows up as a numeric mismatch.
 *
 * It follows the Hugging Face modelling code's maths (not the graph's node list): embeddings → LN;
 * per layer, multi-head attention with masked keys set to finfo(float32).min, output projection,
 * residual + LN, FFN with erf-GELU, residual + LN; qa_outputs → (start, end).
 */
import type { LayerNormWeights, Linear, TransformerWeights } from '../../scripts/model-generator/weights';

const FLOAT32_MIN = -3.4028234663852886e38;

/* eslint-disable no-loss-of-precision -- Cody's coefficients, quoted to the digits he published */
/**
 * erf(x) by W. J. Cody's rational Chebyshev approximations (as in many libm implementations);
 * relative error below 1e-15, far below what the float32 comparison can see.
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 0.5) {
    const t = x * x;
    const num =
      (((0.185777706184603153 * t + 3.1611237438705656) * t + 113.864154151050156) * t + 377.485237685302021) * t +
      3209.37758913846947;
    const den =
      (((t + 23.6012909523441209) * t + 244.024637934444173) * t + 1282.61652607737228) * t + 2844.23683343917062;
    return (x * num) / den;
  }
  return x < 0 ? -(1 - erfcPositive(ax)) : 1 - erfcPositive(ax);
}

function erfcPositive(x: number): number {
  if (x > 27) return 0;
  let r: number;
  if (x < 4) {
    const p = [
      5.64188496988670089e-1, 8.88314979438837594, 6.61191906371416295e1, 2.98635138197400131e2, 8.8195222124176909e2,
      1.71204761263407058e3, 2.05107837782607147e3, 1.23033935479799725e3, 2.15311535474403846e-8,
    ];
    const q = [
      1.57449261107098347e1, 1.17693950891312499e2, 5.37181101862009858e2, 1.62138957456669019e3, 3.29079923573345963e3,
      4.36261909014324716e3, 3.43936767414372164e3, 1.23033935480374942e3,
    ];
    let num = p[8]! * x;
    let den = x;
    for (let i = 0; i < 7; i++) {
      num = (num + p[i]!) * x;
      den = (den + q[i]!) * x;
    }
    r = (num + p[7]!) / (den + q[7]!);
  } else {
    const p = [
      3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
      6.58749161529837803e-4, 1.63153871373020978e-2,
    ];
    const q = [
      2.56852019228982242, 1.87295284992346725, 5.27905102951428412e-1, 6.05183413124413191e-2, 2.33520497626869185e-3,
    ];
    const z = 1 / (x * x);
    let num = p[5]! * z;
    let den = z;
    for (let i = 0; i < 4; i++) {
      num = (num + p[i]!) * z;
      den = (den + q[i]!) * z;
    }
    r = (z * (num + p[4]!)) / (den + q[4]!);
    r = (1 / Math.sqrt(Math.PI) - r) / x;
  }
  // exp(-x²) split as in Cody's code to keep accuracy for large x.
  const xsq = Math.trunc(x * 16) / 16;
  const del = (x - xsq) * (x + xsq);
  return Math.exp(-xsq * xsq) * Math.exp(-del) * r;
}

type Matrix = Float64Array[]; // rows of one sequence: [seq][features]

function linear(x: Matrix, lin: Linear): Matrix {
  return x.map((row) => {
    const out = new Float64Array(lin.outDim);
    for (let o = 0; o < lin.outDim; o++) out[o] = lin.bias[o]!;
    for (let i = 0; i < lin.inDim; i++) {
      const xi = row[i]!;
      const base = i * lin.outDim;
      for (let o = 0; o < lin.outDim; o++) out[o]! += xi * lin.weight[base + o]!;
    }
    return out;
  });
}

function layerNorm(x: Matrix, ln: LayerNormWeights, eps: number): Matrix {
  return x.map((row) => {
    const n = row.length;
    let mean = 0;
    for (const v of row) mean += v;
    mean /= n;
    let variance = 0;
    for (const v of row) variance += (v - mean) ** 2;
    variance /= n;
    const inv = 1 / Math.sqrt(variance + eps);
    return row.map((v, i) => (v - mean) * inv * ln.gamma[i]! + ln.beta[i]!);
  });
}

function add(a: Matrix, b: Matrix): Matrix {
  return a.map((row, i) => row.map((v, j) => v + b[i]![j]!));
}

function attention(
  x: Matrix,
  mask: readonly number[],
  layer: TransformerWeights['layers'][number],
  nHeads: number,
): Matrix {
  const seq = x.length;
  const dim = x[0]!.length;
  const dh = dim / nHeads;
  const q = linear(x, layer.q);
  const k = linear(x, layer.k);
  const v = linear(x, layer.v);
  const context: Matrix = Array.from({ length: seq }, () => new Float64Array(dim));
  const scores = new Float64Array(seq);
  for (let h = 0; h < nHeads; h++) {
    const off = h * dh;
    for (let i = 0; i < seq; i++) {
      let max = -Infinity;
      for (let j = 0; j < seq; j++) {
        let s = 0;
        for (let d = 0; d < dh; d++) s += q[i]![off + d]! * k[j]![off + d]!;
        s /= Math.sqrt(dh);
        if (mask[j] === 0) s = FLOAT32_MIN; // masked_fill(mask == 0, finfo.min)
        scores[j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = 0; j < seq; j++) {
        scores[j] = Math.exp(scores[j]! - max);
        sum += scores[j]!;
      }
      const ctx = context[i]!;
      for (let j = 0; j < seq; j++) {
        const p = scores[j]! / sum;
        for (let d = 0; d < dh; d++) ctx[off + d]! += p * v[j]![off + d]!;
      }
    }
  }
  return linear(context, layer.out);
}

export interface ReferenceInput {
  inputIds: readonly number[];
  attentionMask: readonly number[];
  /** Required for BERT-style weights (token type embeddings), ignored otherwise. */
  tokenTypeIds?: readonly number[];
}

/** Start and end logits for one sequence (positions with mask 0 included, as the graph computes them). */
export function referenceForward(w: TransformerWeights, input: ReferenceInput): { start: number[]; end: number[] } {
  const c = w.config;
  const seq = input.inputIds.length;
  if (input.attentionMask.length !== seq) throw new RangeError('attentionMask length differs from inputIds');
  if (seq > c.maxPositions) throw new RangeError(`sequence of ${seq} exceeds ${c.maxPositions} positions`);
  let x: Matrix = input.inputIds.map((id, s) => {
    const row = new Float64Array(c.dim);
    for (let d = 0; d < c.dim; d++) {
      row[d] = w.word.table[id * c.dim + d]! + w.position.table[s * c.dim + d]!;
    }
    if (w.tokenType) {
      const t = input.tokenTypeIds?.[s];
      if (t === undefined) throw new RangeError('tokenTypeIds are required for BERT-style weights');
      for (let d = 0; d < c.dim; d++) row[d]! += w.tokenType.table[t * c.dim + d]!;
    }
    return row;
  });
  x = layerNorm(x, w.embeddingLayerNorm, c.layerNormEps);
  for (const layer of w.layers) {
    const h = layerNorm(
      add(attention(x, input.attentionMask, layer, c.nHeads), x),
      layer.attnLayerNorm,
      c.layerNormEps,
    );
    const inner = linear(h, layer.ffn1).map((row) => row.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))));
    x = layerNorm(add(linear(inner, layer.ffn2), h), layer.outputLayerNorm, c.layerNormEps);
  }
  const logits = linear(x, w.qa);
  return { start: logits.map((r) => r[0]!), end: logits.map((r) => r[1]!) };
}
