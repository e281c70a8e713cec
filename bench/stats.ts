/**
 * Medians over repeated runs. The machine is shared and noisy, so every comparison is made from
 * samples taken side by side in one run (see `interleave`), never from absolute times of two runs.
 */
import { performance } from 'node:perf_hooks';
import { mulberry32 } from '../scripts/model-generator/random';

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
  /** The sample of each interleaved round (NaN where the case was not due), for paired ratios. */
  byRound?: number[];
}

function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(samples: readonly number[], byRound?: number[]): Summary {
  const valid = samples.filter((x) => !Number.isNaN(x));
  if (valid.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0, byRound };
  return { median: median(valid), min: Math.min(...valid), max: Math.max(...valid), n: valid.length, byRound };
}

/**
 * a / b as the median of per-round ratios when both were sampled in the same rounds (a paired
 * estimate: a slow round from other load slows both sides alike and cancels), else the ratio
 * of medians.
 */
export function ratio(a: Summary, b: Summary): number {
  if (a.byRound && b.byRound) {
    const pairs: number[] = [];
    a.byRound.forEach((x, i) => {
      const y = b.byRound![i];
      if (y !== undefined && !Number.isNaN(x) && !Number.isNaN(y)) pairs.push(x / y);
    });
    if (pairs.length >= 3) return median(pairs);
  }
  return a.median / b.median;
}

/** A measurable thing: one call is one sample. */
export interface Case {
  id: string;
  run: () => Promise<unknown>;
  /** Run only every k-th round (expensive cases get fewer samples). Default 1. */
  every?: number;
}

/** Uniform in [0, 1), reproducible: the test-model generator's mulberry32, scaled. */
export function rng(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * Runs every case `warmup` times, then `rounds` rounds in which each case runs once, in a fresh
 * random order per round. Interleaving spreads the noise of other processes over all variants
 * alike, so ratios between them stay meaningful even when absolute times drift.
 */
export async function interleave(
  cases: readonly Case[],
  {
    warmup,
    rounds,
    seed = 1,
    pauseMs = 0,
    onRound,
  }: { warmup: number; rounds: number; seed?: number; pauseMs?: number; onRound?: (r: number) => void },
): Promise<Map<string, Summary>> {
  const samples = new Map<string, number[]>(cases.map((c) => [c.id, new Array<number>(rounds).fill(NaN)]));
  for (let w = 0; w < warmup; w++) for (const c of cases) await c.run();
  const random = rng(seed);
  for (let r = 0; r < rounds; r++) {
    const due = cases.filter((c) => r % (c.every ?? 1) === 0);
    for (const c of shuffle([...due], random)) {
      // onnxruntime's workers spin for a while after a run; on 2 cores the previous variant's
      // spinning pool would steal the next variant's core. A short idle gap lets them sleep.
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      const t0 = performance.now();
      await c.run();
      samples.get(c.id)![r] = performance.now() - t0;
    }
    onRound?.(r);
  }
  return new Map([...samples].map(([id, s]) => [id, summarize(s, s)]));
}
