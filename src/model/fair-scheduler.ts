/**
 * Runs jobs one at a time, taking turns between lanes (round-robin), so that one request with
 * many windows cannot make a cheap request wait for all of them: a request's lane gets one run,
 * then every other lane with work waiting gets one, and so on. A cheap request that arrives while
 * an expensive one runs waits for the run in progress, then takes its turn.
 *
 * A job whose signal aborts while queued leaves the queue at once and rejects with the signal's
 * reason; a job already running finishes (onnxruntime cannot stop a run half-way), and its lane's
 * later jobs are never started. Pure scheduling: what a job does is the `execute` function's.
 */
interface Pending<J, R> {
  job: J;
  resolve: (result: R) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class FairScheduler<J, R> {
  /** Lanes with queued jobs; Map order is the turn order (a served lane moves to the back). */
  private readonly lanes = new Map<object, Array<Pending<J, R>>>();
  private running = false;
  /** The lane whose job ran last: a lane that arrives while it runs goes next, not after it. */
  private lastServed: object | undefined;

  constructor(private readonly execute: (job: J) => Promise<R>) {}

  /** Jobs waiting to run, all lanes together. */
  get queued(): number {
    let n = 0;
    for (const queue of this.lanes.values()) n += queue.length;
    return n;
  }

  /**
   * Queues `job` on `lane` (any object standing for one request) and resolves with its result.
   * Rejects with `signal.reason`, without running, when the signal aborts before the job starts.
   */
  submit(lane: object, job: J, signal?: AbortSignal): Promise<R> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<R>((resolve, reject) => {
      const pending: Pending<J, R> = { job, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        pending.onAbort = () => {
          this.remove(lane, pending);
          reject(signal.reason);
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      const queue = this.lanes.get(lane);
      if (queue) queue.push(pending);
      else this.lanes.set(lane, [pending]);
      this.pump();
    });
  }

  private remove(lane: object, pending: Pending<J, R>): void {
    const queue = this.lanes.get(lane);
    if (!queue) return;
    const i = queue.indexOf(pending);
    if (i >= 0) queue.splice(i, 1);
    if (queue.length === 0) this.lanes.delete(lane);
  }

  private pump(): void {
    if (this.running || this.lanes.size === 0) return;
    let lane = this.lastServed;
    for (const candidate of this.lanes.keys()) {
      if (candidate !== this.lastServed) {
        lane = candidate;
        break;
      }
    }
    const queue = this.lanes.get(lane!)!;
    const pending = queue.shift()!;
    this.lastServed = lane;
    // Its turn is used: the lane goes to the back of the line (or leaves it, when empty).
    this.lanes.delete(lane!);
    if (queue.length > 0) this.lanes.set(lane!, queue);
    if (pending.onAbort) pending.signal!.removeEventListener('abort', pending.onAbort);
    this.running = true;
    Promise.resolve()
      .then(() => this.execute(pending.job))
      .then(pending.resolve, pending.reject)
      .finally(() => {
        this.running = false;
        this.pump();
      });
  }
}
