import { describe, expect, it } from '@jest/globals';
import { RequestRecorder } from '../../src/api/request-recorder';
import type { TextUsage } from '../../src/api/context';
import { WorkBudget } from '../../src/model/work-budget';

describe('RequestRecorder', () => {
  it('starts at nothing, with no response-cache field until a lookup is recorded', () => {
    const summary = new RequestRecorder().snapshot();
    expect(summary).toEqual({ operations: 0, inputs: 0, windows: 0, tokens: 0, budgetRejections: 0 });
    expect('responseCache' in summary).toBe(false);
  });

  it("reads the budgets' counts when the snapshot is taken, and each snapshot keeps its own", () => {
    const recorder = new RequestRecorder();
    const work = new WorkBudget(10);
    const text: TextUsage = { textLength: 0, inputs: 0, refusals: 0 };
    recorder.chargedTo(work, text);
    recorder.operationStarted();
    work.charge(4, 4 * 384);
    text.inputs += 2;
    const early = recorder.snapshot();
    expect(() => work.charge(7)).toThrow(); // refused: 6 left
    text.inputs += 1;
    text.refusals += 1;
    recorder.operationStarted();
    const late = recorder.snapshot();
    expect(early).toEqual({ operations: 1, inputs: 2, windows: 4, tokens: 1536, budgetRejections: 0 });
    expect(late).toEqual({ operations: 2, inputs: 3, windows: 4, tokens: 1536, budgetRejections: 2 });
  });

  it('adds up every set of budgets charged, never replacing one', () => {
    const recorder = new RequestRecorder();
    recorder.chargedTo({ windows: 3, tokens: 30, refusals: 1 }, { inputs: 2, refusals: 0 });
    recorder.chargedTo({ windows: 5, tokens: 50, refusals: 0 }, { inputs: 4, refusals: 2 });
    expect(recorder.snapshot()).toMatchObject({ inputs: 6, windows: 8, tokens: 80, budgetRejections: 3 });
  });

  it('counts response-cache hits and misses', () => {
    const recorder = new RequestRecorder();
    for (const hit of [true, false, true, true]) recorder.responseCacheLookup(hit);
    expect(recorder.snapshot().responseCache).toEqual({ hits: 3, misses: 1 });
  });

  it('hands out frozen values: a reader cannot change what the request did', () => {
    const recorder = new RequestRecorder();
    recorder.responseCacheLookup(false);
    const summary = recorder.snapshot();
    expect(() => {
      (summary as { operations: number }).operations = 9;
    }).toThrow(TypeError);
    expect(() => {
      (summary.responseCache as { hits: number }).hits = 9;
    }).toThrow(TypeError);
    recorder.responseCacheLookup(true);
    expect(summary.responseCache).toEqual({ hits: 0, misses: 1 });
    expect(recorder.snapshot().responseCache).toEqual({ hits: 1, misses: 1 });
  });
});
