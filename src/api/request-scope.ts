/**
 * The life of one HTTP request: its id, what it did (its recorder), its deadline, and the signal that stops
 * its work when nobody waits for it any more: the deadline passed (DEADLINE_EXCEEDED, 504, rather
 * than a Lambda timeout that resets the sandbox), the client disconnected (REQUEST_CANCELLED, 499),
 * or the response was sent. The engine checks the signal between window runs. docs/operations.md,
 * "Deadlines", has the rules.
 */
import { randomUUID } from 'node:crypto';
import { DeadlineExceededError, RequestCancelledError } from './errors';
import { RequestRecorder } from './request-recorder';

/** A request id from the caller, if it is a harmless token; otherwise a fresh UUID. */
export function newRequestId(given?: string | undefined): string {
  return given && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
}

export interface RequestScope {
  readonly requestId: string;
  /** When the request started, in ms since the epoch. */
  readonly startedAt: number;
  /** Where the request's parts record what it did, for its log line and metrics (request-recorder.ts). */
  readonly recorder: RequestRecorder;
  /** Aborts (with a DeadlineExceededError or RequestCancelledError) when the work must stop. */
  readonly signal: AbortSignal;
  /** When the deadline passes, in ms since the epoch. */
  readonly deadline: number;
  /** The time limit this request got, in ms. */
  readonly timeLimitMs: number;
}

export interface OpenScope extends RequestScope {
  /** Ends the scope: stops what is left of the request's work and clears its timer. */
  close(): void;
}

/**
 * Opens the scope of one request. `timeLimitMs` is the time it may take; `transportSignal`, when
 * given, aborts when the client disconnects.
 */
export function openScope(options: {
  requestId?: string;
  timeLimitMs: number;
  transportSignal?: AbortSignal;
}): OpenScope {
  const startedAt = Date.now();
  const controller = new AbortController();
  const timeLimitMs = Math.max(0, Math.floor(options.timeLimitMs));
  const timer = setTimeout(() => controller.abort(new DeadlineExceededError(timeLimitMs)), timeLimitMs);
  // A pending deadline must not keep a process (a test, a CLI) alive.
  timer.unref?.();
  const onClientGone = () => controller.abort(new RequestCancelledError());
  options.transportSignal?.addEventListener('abort', onClientGone, { once: true });
  if (options.transportSignal?.aborted) onClientGone();
  return {
    // A client's or the platform's id is kept when it is a harmless token; otherwise a fresh UUID.
    requestId: newRequestId(options.requestId),
    startedAt,
    recorder: new RequestRecorder(),
    signal: controller.signal,
    deadline: startedAt + timeLimitMs,
    timeLimitMs,
    close() {
      clearTimeout(timer);
      options.transportSignal?.removeEventListener('abort', onClientGone);
      // Anything still queued for this request is dropped; the reason is only seen by work that
      // outlived the response, which nobody reads.
      if (!controller.signal.aborted) controller.abort(new RequestCancelledError());
    },
  };
}

/**
 * Resolves or rejects as `promise` does, or rejects with the signal's reason as soon as it aborts
 * (for waits that cannot be cancelled themselves, such as a model load shared by many requests).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
