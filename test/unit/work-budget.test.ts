import { QAInputError, WorkBudgetError } from '../../src/model/errors';
import { WorkBudget } from '../../src/model/work-budget';

describe('WorkBudget', () => {
  it('charges windows until the limit, then refuses without taking anything', () => {
    const budget = new WorkBudget(64);
    budget.charge(40, 40 * 384);
    budget.charge(24, 24 * 100);
    expect([budget.windows, budget.tokens, budget.remaining]).toEqual([64, 40 * 384 + 24 * 100, 0]);
    expect(() => budget.charge(1)).toThrow(WorkBudgetError);
    expect([budget.windows, budget.remaining]).toEqual([64, 0]);
  });

  it('refuses an input bigger than what is left, and still takes a later one that fits', () => {
    const budget = new WorkBudget(64);
    budget.charge(60);
    let error: unknown;
    try {
      budget.charge(19_493);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(QAInputError);
    expect(error).toMatchObject({ code: 'OVER_BUDGET', field: 'context', needed: 19_493, remaining: 4, limit: 64 });
    expect((error as Error).message).toMatch(/^needs 19,493 model windows; this request may use 64 and has 4 left\./);
    budget.charge(4);
    expect(budget.remaining).toBe(0);
  });

  it('says nothing of what is left when nothing was used yet', () => {
    expect(() => new WorkBudget(64).charge(65)).toThrow(/^needs 65 model windows; this request may use 64\. /);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %p', (limit) => {
    expect(() => new WorkBudget(limit)).toThrow(RangeError);
  });
});
