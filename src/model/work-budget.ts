/**
 * A request's work budget, in windows (one ONNX run each), shared by every input of one HTTP
 * request. Windows and not characters, because a context's cost is its windows, which depend on
 * its tokens and the window geometry (a one-token step makes a window per token); they are counted
 * by arithmetic before any is built, and an input that does not fit is refused (WorkBudgetError)
 * without running anything. docs/operations.md, "Work budget".
 */
import { WorkBudgetError } from './errors';

export class WorkBudget {
  private used = 0;
  private usedTokens = 0;
  private refused = 0;

  constructor(
    /** Windows the whole request may run. */
    readonly limit: number,
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`A work budget must be a positive integer, got ${limit}`);
  }

  /** Windows charged so far. */
  get windows(): number {
    return this.used;
  }

  /** Tokens of the windows charged so far (for logs and metrics). */
  get tokens(): number {
    return this.usedTokens;
  }

  /** Inputs refused because they did not fit (for the BudgetRejections metric). */
  get refusals(): number {
    return this.refused;
  }

  get remaining(): number {
    return this.limit - this.used;
  }

  /** Takes `windows` from the budget, or throws WorkBudgetError and takes nothing. */
  charge(windows: number, tokens = 0): void {
    if (windows > this.remaining) {
      this.refused += 1;
      throw new WorkBudgetError(windows, this.remaining, this.limit);
    }
    this.used += windows;
    this.usedTokens += tokens;
  }
}
