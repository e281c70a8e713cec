/**
 * A request's response budget, in bytes of the body as sent, shared by every operation of one HTTP
 * request. Charged by the resolvers with an upper bound of what each answer field can write
 * (src/resolvers/output-bound.ts), before any work, so a request whose answers cannot fit is refused
 * before the model runs and before a large body is ever built. The bound is counted in characters of
 * the context and the bytes JSON writes for them, never in tokens: one token can cover hundreds of
 * characters. docs/operations.md, "Request budget".
 */
export class ResponseBudget {
  private used = 0;

  constructor(
    /** Bytes the whole response may take. */
    readonly limit: number,
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`A response budget must be a positive integer, got ${limit}`);
  }

  /** Bytes charged so far. */
  get bytes(): number {
    return this.used;
  }

  get remaining(): number {
    return this.limit - this.used;
  }

  /** Takes `bytes` and returns true, or returns false and takes nothing when they do not fit. */
  tryCharge(bytes: number): boolean {
    if (bytes > this.remaining) return false;
    this.used += bytes;
    return true;
  }
}
