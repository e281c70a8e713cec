/**
 * The life of one HTTP request: its trace (id, log fields), its deadline, and the signal that stops
 * its work when nobody waits for it any more: the deadline passed (DEADLINE_EXCEEDED, 504, rather
 * than a Lambda timeout that resets the sandbox), the client disconnected (REQUEST_CANCELLED, 499),
 * or the response was sent. The engine checks the signal between window runs. docs/operations.md,
 * "Deadlines", has the rules.
 */
import { randomUUID } from 'node:crypto';
import { DeadlineExceededError, RequestCancelledError } from './errors';

/** What one HTTP request did, filled in while it runs and logged once when it ends. */
export interface RequestTrace {
  readonly requestId: string;
  readonly startedAt: number;
  operations: number;
  /** The model work charged to the request (its WorkBudget), when it had an API context. */
  work?: { readonly windows: number; readonly tokens: number; readonly refusals?: number };
  /** The inputs it sent for answering, and those the text budget refused (its API context). */
  usage?: { readonly inputs: number; readonly refusals: number };
  /** Operations answered from the response cache, and those looked up in vain (when it is on). */
  responseCache?: { hits: number; misses: number };
}

/** A request id from the caller, if it is a harmless token; otherwise a fresh UUID. */
export function newRequestId(given?: string | undefined): string {
  return given && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
}

export function newTrace(requestId: string = newRequestId()): RequestTrace {
  return { requestId, startedAt: Date.now(), operations: 0 };
}

export interface RequestScope {
  readonly trace: RequestTrace;
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
  // A client's or the platform's id is kept when it is a harmless token; otherwise a fresh UUID.
  const trace = newTrace(newRequestId(options.requestId));
  const controller = new AbortController();
  const timeLimitMs = Math.max(0, Math.floor(options.timeLimitMs));
  const timer = setTimeout(() => controller.abort(new DeadlineExceededError(timeLimitMs)), timeLimitMs);
  // A pending deadline must not keep a process (a test, a CLI) alive.
  timer.unref?.();
  const onClientGone = () => controller.abort(new RequestCancelledError());
  options.transportSignal?.addEventListener('abort', onClientGone, { once: true });
  if (options.transportSignal?.aborted) onClientGone();
  return {
    trace,
    signal: controller.signal,
    deadline: trace.startedAt + timeLimitMs,
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
