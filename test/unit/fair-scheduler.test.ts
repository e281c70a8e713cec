import { FairScheduler } from '../../src/model/fair-scheduler';

/** A scheduler whose jobs finish when the test says so, recording the order they start in. */
function manual() {
  const started: string[] = [];
  const finishers: Array<() => void> = [];
  const scheduler = new FairScheduler<string, string>(
    (job) =>
      new Promise<string>((resolve) => {
        started.push(job);
        finishers.push(() => resolve(`done ${job}`));
      }),
  );
  /** Finishes the running job and lets the scheduler start the next one. */
  const step = async () => {
    finishers.shift()!();
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  /** Runs every job left to the end. */
  const drain = async () => {
    while (finishers.length > 0) await step();
  };
  return { scheduler, started, step, drain };
}

describe('FairScheduler', () => {
  it('runs one job at a time', async () => {
    const { scheduler, started, step } = manual();
    const lane = {};
    const results = ['a', 'b', 'c'].map((job) => scheduler.submit(lane, job));
    await Promise.resolve();
    expect(started).toEqual(['a']);
    await step();
    expect(started).toEqual(['a', 'b']);
    await step();
    await step();
    await expect(Promise.all(results)).resolves.toEqual(['done a', 'done b', 'done c']);
  });

  it('takes turns between lanes: a cheap lane waits one job, not the whole expensive lane', async () => {
    const { scheduler, started, step, drain } = manual();
    const expensive = {};
    const cheap = {};
    const big = Array.from({ length: 10 }, (_, i) => scheduler.submit(expensive, `E${i}`));
    await Promise.resolve();
    await step(); // E0 done, E1 running
    const small = [scheduler.submit(cheap, 'C0'), scheduler.submit(cheap, 'C1')];
    expect(scheduler.queued).toBe(10);
    await drain();
    expect(started).toHaveLength(12);
    // After E1 (running when the cheap lane arrived) the lanes alternate while both have work.
    expect(started.slice(0, 6)).toEqual(['E0', 'E1', 'C0', 'E2', 'C1', 'E3']);
    await expect(Promise.all(small)).resolves.toEqual(['done C0', 'done C1']);
    await expect(Promise.all(big)).resolves.toHaveLength(10);
  });

  it('drops the queued jobs of an aborted lane at once, with the reason; the running one finishes', async () => {
    const { scheduler, started, step } = manual();
    const controller = new AbortController();
    const lane = {};
    const jobs = ['a', 'b', 'c'].map((job) => scheduler.submit(lane, job, controller.signal));
    const other = scheduler.submit({}, 'x');
    await Promise.resolve();
    expect(started).toEqual(['a']);
    const reason = new Error('deadline');
    controller.abort(reason);
    await expect(jobs[1]).rejects.toBe(reason);
    await expect(jobs[2]).rejects.toBe(reason);
    expect(scheduler.queued).toBe(1);
    await step();
    await expect(jobs[0]).resolves.toBe('done a');
    // The aborted lane's jobs never started; the other lane's did.
    expect(started).toEqual(['a', 'x']);
    await step();
    await expect(other).resolves.toBe('done x');
  });

  it('refuses a job whose signal has already aborted, without running it', async () => {
    const { scheduler, started } = manual();
    const reason = new Error('gone');
    await expect(scheduler.submit({}, 'a', AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(started).toEqual([]);
  });

  it('keeps going after a job fails', async () => {
    const scheduler = new FairScheduler<number, number>(async (n) => {
      if (n === 1) throw new Error('boom');
      return n * 2;
    });
    const lane = {};
    const results = await Promise.allSettled([0, 1, 2].map((n) => scheduler.submit(lane, n)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseFulfilledResult<number>).value).toBe(4);
  });
});
