/**
 * Where one request's time goes on the server, for the benchmark only: scripts/bench/child/serve.ts
 * turns recording on in a serving child (BENCH_MODE=phases) and scripts/bench/sections/optimized.ts
 * prints the breakdown (docs/benchmarks.md, "The optimized graph"). Nothing in the API turns it on:
 * off, a mark is one test of an unset variable.
 */
import { performance } from 'node:perf_hooks';

/** The points marked, in the order a request passes them (the three window marks repeat per window). */
export type PhaseMark = 'engine-start' | 'prepared' | 'window-turn' | 'run-start' | 'run-end' | 'engine-end';

let sink: ((mark: PhaseMark, at: number) => void) | undefined;

/** Sends every mark from now on to `to`, with `performance.now()`; undefined turns marking off. */
export function recordPhases(to: ((mark: PhaseMark, at: number) => void) | undefined): void {
  sink = to;
}

export function markPhase(mark: PhaseMark): void {
  if (sink) sink(mark, performance.now());
}
