/**
 * Weight quantisation as onnxruntime's `quantize_dynamic` does it by default (weight_type QInt8,
 * per-tensor, symmetric): scale = max|w| / 127, zero point 0, q = round(w / scale) in [-127, 127].
 */

// Module-local copies: global lookups (`Math`) are slow in hot loops inside jest's vm sandbox.
const { abs, round, trunc, max, min, fround } = Math;

export interface QuantizedTensor {
  values: Int8Array;
  /** float32-representable scale. */
  scale: number;
  zeroPoint: 0;
}

export function quantizeSymmetricInt8(w: Float32Array): QuantizedTensor {
  let absMax = 0;
  for (let i = 0; i < w.length; i++) {
    const a = abs(w[i]!);
    if (a > absMax) absMax = a;
  }
  const scale = fround(absMax > 0 ? absMax / 127 : 1);
  const values = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    // Round half to even, as numpy (and therefore onnxruntime's quantizer) does.
    const x = w[i]! / scale;
    let r = round(x);
    if (abs(x - trunc(x)) === 0.5 && r % 2 !== 0) r -= 1;
    values[i] = max(-127, min(127, r));
  }
  return { values, scale, zeroPoint: 0 };
}
