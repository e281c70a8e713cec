/**
 * Deterministic pseudo-random numbers. Every tensor gets its own stream, derived from the model
 * seed and the tensor's name, so adding or reordering tensors never changes the others' values.
 * Only integer arithmetic and exact float scaling are used (no Math.log/sin), so the bytes are the
 * same on every platform and Node version.
 */

// Module-local copies: inside a vm context (jest's sandbox) every global lookup such as `Math` in
// a hot loop goes through an interceptor, which made generation many times slower there.
const imul = Math.imul;
const SQRT3 = Math.sqrt(3);

/** FNV-1a over the UTF-16 code units of a string: a stable 32-bit hash. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for weight initialisation. Returns uint32 values. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = imul(a ^ (a >>> 15), 1 | a);
    t = (t + imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A generator for the tensor `name` of a model with seed `seed`. */
export function streamFor(seed: number, name: string): () => number {
  return mulberry32(fnv1a32(`${seed >>> 0}:${name}`));
}

/**
 * Fills a float32 array with values uniform in [mean - a, mean + a] where a = std·√3 (so the
 * standard deviation is `std`). Uniform rather than normal: it needs no transcendental functions.
 */
export function uniformFill(out: Float32Array, seed: number, name: string, std: number, mean = 0): Float32Array {
  const next = streamFor(seed, name);
  const a = std * SQRT3;
  for (let i = 0; i < out.length; i++) {
    out[i] = mean + ((next() / 4294967296) * 2 - 1) * a;
  }
  return out;
}
