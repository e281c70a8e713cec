/**
 * What one HTTP request did, told by the parts that did it and read once, by the request core,
 * when its response is ready (for its log line and metrics). Each request's scope owns one
 * recorder. Writers only add, each through its own method: the request-log plugin counts
 * operations, the context hands over the budgets its work is charged to, the response-cache plugin
 * counts lookups. The reader gets `snapshot()`, a frozen value, never the live counts.
 *
 * A recorder rather than values returned up the call chain because the writers are Apollo plugins
 * and the context factory, whose results Apollo does not hand back to the core; and rather than a
 * shared mutable object, so that who writes what, and who reads it, is written in one place.
 */

/** The counters of a request's work budget (WorkBudget, in windows). */
export interface WorkMeter {
  readonly windows: number;
  readonly tokens: number;
  /** Inputs refused because their windows did not fit. */
  readonly refusals: number;
}

/** The counters of a request's text budget (TextUsage). */
export interface TextMeter {
  /** Inputs sent for answering. */
  readonly inputs: number;
  /** Inputs refused because their text did not fit. */
  readonly refusals: number;
}

/** What a request did, as the recorder knew it when the snapshot was taken. */
export interface RequestSummary {
  /** GraphQL operations run (each of a batch's). */
  readonly operations: number;
  readonly inputs: number;
  readonly windows: number;
  readonly tokens: number;
  /** Inputs refused by the request's budgets: windows (the work budget) or characters (the text budget). */
  readonly budgetRejections: number;
  /** Operations answered from the response cache, and those looked up in vain; absent when none was looked up. */
  readonly responseCache?: { readonly hits: number; readonly misses: number };
}

export class RequestRecorder {
  private operations = 0;
  private readonly meters: Array<{ work: WorkMeter; text: TextMeter }> = [];
  private cache: { hits: number; misses: number } | null = null;

  /** One GraphQL operation of the request started. */
  operationStarted(): void {
    this.operations += 1;
  }

  /** The request's work is charged to these budgets: their counts are read when a snapshot is taken. */
  chargedTo(work: WorkMeter, text: TextMeter): void {
    this.meters.push({ work, text });
  }

  /** An operation was looked up in the response cache: found (`hit`), or a cacheable miss. */
  responseCacheLookup(hit: boolean): void {
    this.cache ??= { hits: 0, misses: 0 };
    if (hit) this.cache.hits += 1;
    else this.cache.misses += 1;
  }

  /** What the request did so far, as a frozen value. */
  snapshot(): RequestSummary {
    const sum = (count: (m: { work: WorkMeter; text: TextMeter }) => number) =>
      this.meters.reduce((total, m) => total + count(m), 0);
    return Object.freeze({
      operations: this.operations,
      inputs: sum((m) => m.text.inputs),
      windows: sum((m) => m.work.windows),
      tokens: sum((m) => m.work.tokens),
      budgetRejections: sum((m) => m.work.refusals + m.text.refusals),
      ...(this.cache ? { responseCache: Object.freeze({ ...this.cache }) } : {}),
    });
  }
}
