import { describe, expect, it } from '@jest/globals';
import { readyWithinInit } from '../../src/support/init-budget';

describe('readyWithinInit', () => {
  const never = new Promise<boolean>(() => undefined);

  it('gives the load’s outcome when it comes within the budget', async () => {
    await expect(readyWithinInit(Promise.resolve(true), 0, 1_000)).resolves.toBe(true);
    await expect(readyWithinInit(Promise.resolve(false), 0, 1_000)).resolves.toBe(false);
  });

  it('stops waiting when the budget, counted from the process start, is spent', async () => {
    const started = Date.now();
    await expect(readyWithinInit(never, 950, 1_000)).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(900);
    await expect(readyWithinInit(never, 5_000, 1_000)).resolves.toBe(false);
  });
});
