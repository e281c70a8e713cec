/**
 * Where one request's time goes on the server, published on a `node:diagnostics_channel` channel:
 * free when nobody listens (a mark is one `hasSubscribers` test), and any tool can subscribe
 * without the product knowing it. The benchmark does (bench/child/serve.ts with
 * BENCH_MODE=phases; docs/benchmarks.md, "The optimized graph").
 */
import { channel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';

/** The points marked, in the order a request passes them (the three window marks repeat per window). */
export type PhaseMark = 'engine-start' | 'prepared' | 'window-turn' | 'run-start' | 'run-end' | 'engine-end';

/** What the channel carries: the mark and `performance.now()` when it was passed. */
export interface PhaseMessage {
  mark: PhaseMark;
  at: number;
}

/** The channel's name, for subscribers outside this module. */
export const PHASE_CHANNEL = 'serverless-qa-graphql:phase';

const phases = channel(PHASE_CHANNEL);

export function markPhase(mark: PhaseMark): void {
  if (phases.hasSubscribers) phases.publish({ mark, at: performance.now() } satisfies PhaseMessage);
}

let recording: ((message: unknown) => void) | undefined;

/** Subscribes `to` to every mark from now on (replacing the previous one); undefined unsubscribes. */
export function recordPhases(to: ((mark: PhaseMark, at: number) => void) | undefined): void {
  if (recording) phases.unsubscribe(recording);
  recording = to
    ? (message) => {
        const { mark, at } = message as PhaseMessage;
        to(mark, at);
      }
    : undefined;
  if (recording) phases.subscribe(recording);
}
