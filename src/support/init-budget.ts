/**
 * How long a Lambda INIT may wait for the model. Lambda gives INIT 10 s; an INIT that takes longer
 * is abandoned and run again inside the first invocation, so the whole cold start would be paid
 * twice. The entry therefore waits for the load until INIT_WAIT_BUDGET_MS after the process started
 * (Node's `performance.now()` counts from there) and then lets INIT end: the load goes on into the
 * first invocation, whose requests wait for it as any request does (MODEL_MAX_WAIT_MS).
 * A load that fails (a stalled S3 fails in MODEL_S3_FIRST_BYTE_TIMEOUT_MS × MODEL_S3_PART_ATTEMPTS)
 * ends INIT earlier.
 */
import { performance } from 'node:perf_hooks';
import { withinTime } from './within-time';

/** INIT's 10 s less the runtime's own start before Node and a margin. */
export const INIT_WAIT_BUDGET_MS = 8_000;

/** `ready`'s value, or false once the budget is spent (the load itself is not stopped). */
export function readyWithinInit(
  ready: Promise<boolean>,
  elapsedMs = performance.now(),
  budgetMs = INIT_WAIT_BUDGET_MS,
): Promise<boolean> {
  const left = budgetMs - elapsedMs;
  if (left <= 0) return Promise.resolve(false);
  return withinTime(ready, left, () => false);
}
