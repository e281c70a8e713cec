/** Retry timing after a failed model load. */
export interface BackoffOptions {
  /** Wait after the first failure. */
  initialMs: number;
  /** Cap, so a long outage is still retried every `maxMs`. */
  maxMs: number;
  /** Growth per consecutive failure. */
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000, factor: 2 };

/**
 * Delay before the next attempt after `failures` consecutive failures (1 = first failure):
 * `initialMs * factor^(failures-1)`, capped at `maxMs`. No jitter: one container has one loader,
 * so there is no herd to spread.
 */
export function backoffDelay(failures: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  if (failures <= 0) return 0;
  const raw = options.initialMs * Math.pow(options.factor, failures - 1);
  return Math.min(options.maxMs, Math.max(0, Math.round(raw)));
}

/** Validates backoff options with exact messages (misconfiguration should fail at start-up). */
export function validateBackoff(options: BackoffOptions): BackoffOptions {
  if (!Number.isFinite(options.initialMs) || options.initialMs < 0) {
    throw new RangeError(`backoff initialMs must be a number >= 0, got ${options.initialMs}`);
  }
  if (!Number.isFinite(options.maxMs) || options.maxMs < options.initialMs) {
    throw new RangeError(`backoff maxMs must be >= initialMs (${options.initialMs}), got ${options.maxMs}`);
  }
  if (!Number.isFinite(options.factor) || options.factor < 1) {
    throw new RangeError(`backoff factor must be >= 1, got ${options.factor}`);
  }
  return options;
}
