/**
 * A request's work budget, in the unit the model's work is done in: windows (one ONNX run each).
 *
 * Why windows and not characters: the cost of an input is its windows, and how many windows a
 * context makes depends on its tokens and the window geometry, not on its length in characters.
 * With `maxSeqLength: 512, docStride: 507` (or a ~250-character question with the defaults) the
 * step between windows is one token, and a context of punctuation is a token per character: 19,000
 * characters then make ~19,000 windows. Charging windows, counted by arithmetic before any window
 * is built (windows.ts `planWindows`), bounds that at the budget whatever the text.
 *
 * One budget is shared by every input of one HTTP request (aliases, `answerMany` inputs, every
 * operation of a batch); inputs are charged in the order they reach the engine, and one that does
 * not fit is refused (WorkBudgetError) without running anything, while those that fit are answered.
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
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`A work budget must be a positive integer, got ${limit}`);
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
