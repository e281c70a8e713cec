/**
 * The tests' one seeded random source: an LCG with glibc's constants, computed in doubles exactly
 * as the tests always have (so every generated input keeps its values). Deterministic on every
 * platform; not for anything but test inputs. The model generator's mulberry32
 * (scripts/model-generator/random.ts) is the other generator, for weights and the bench.
 */

/** Integers in [0, 2^31), the same sequence for the same seed. */
export function lcg(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2 ** 31);
}

/** Uniform in [0, 1). */
export function uniform(seed: number): () => number {
  const next = lcg(seed);
  return () => next() / 2 ** 31;
}

/** `n` integers in [0, of): e.g. indexes into an alphabet, so no two windows of a text are alike. */
export function picks(n: number, of: number, seed: number): number[] {
  const next = lcg(seed);
  return Array.from({ length: n }, () => next() % of);
}
