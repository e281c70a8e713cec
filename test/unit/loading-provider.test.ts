import { describe, expect, it } from '@jest/globals';
import { createModelProvider } from '../../src/model/loading/provider';
import { ModelUnavailableError } from '../../src/model/loading/errors';
import type { LoadedModel } from '../../src/model/loading/load-model';
import type { QAEngine } from '../../src/model/engine';

const engine = { description: {} } as unknown as QAEngine;
const loaded = { engine, info: { name: 'm' } } as unknown as LoadedModel;

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('ModelProvider', () => {
  it('reports each attempt as a typed event, whatever its log lines say', async () => {
    let now = 0;
    let calls = 0;
    const events: Array<[string, unknown]> = [];
    // A logger that words everything differently: the events must not depend on it.
    const reworded = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const p = createModelProvider({
      load: async () => {
        if (++calls === 1) throw new Error('S3 is down');
        return loaded;
      },
      now: () => now,
      logger: reworded,
      backoff: { initialMs: 1000, maxMs: 1000, factor: 2 },
      events: { onLoaded: (info) => events.push(['loaded', info]), onLoadFailed: (f) => events.push(['failed', f]) },
    });
    await p.get().catch(() => undefined);
    now += 1000;
    await p.get();
    expect(events).toEqual([
      ['failed', { reason: 'S3 is down', failures: 1, retryInMs: 1000, elapsedMs: 0 }],
      ['loaded', loaded.info],
    ]);
  });

  it('starts one load for concurrent first calls and shares it', async () => {
    const d = deferred<LoadedModel>();
    let calls = 0;
    const p = createModelProvider({ load: () => (calls++, d.promise) });
    expect(p.state()).toBe('idle');
    const gets = Array.from({ length: 10 }, () => p.get());
    expect(p.state()).toBe('loading');
    d.resolve(loaded);
    expect(await Promise.all(gets)).toEqual(Array(10).fill(engine));
    expect(calls).toBe(1);
    expect(p.state()).toBe('ready');
    expect(p.info()).toBe(loaded.info);
    await p.get();
    expect(calls).toBe(1);
  });

  it('reports a failure as MODEL_UNAVAILABLE, fails fast during backoff, retries after it', async () => {
    let now = 1_000_000;
    let calls = 0;
    const p = createModelProvider({
      load: async () => {
        calls++;
        if (calls <= 2) throw new Error('S3 is down');
        return loaded;
      },
      now: () => now,
      backoff: { initialMs: 1000, maxMs: 1500, factor: 2 },
    });
    const first = await p.get().catch((e: unknown) => e);
    expect(first).toBeInstanceOf(ModelUnavailableError);
    expect(first).toMatchObject({ code: 'MODEL_UNAVAILABLE', message: 'Model unavailable: S3 is down' });
    expect(p.state()).toBe('failed');
    now += 500;
    const fast = await p.get().catch((e: unknown) => e as Error);
    expect((fast as Error).message).toMatch(/^Model unavailable: S3 is down; next load attempt in 1 s \(at .*Z\)$/);
    expect(calls).toBe(1);
    now += 500;
    await expect(p.get()).rejects.toThrow('S3 is down');
    expect(calls).toBe(2);
    now += 1499; // second backoff is 1500 (capped from 2000)
    await expect(p.get()).rejects.toThrow(/next load attempt/);
    now += 1;
    await expect(p.get()).resolves.toBe(engine);
    expect(calls).toBe(3);
    expect(p.state()).toBe('ready');
    expect(p.error()).toBeNull();
  });

  it('warmUp never throws and reports success', async () => {
    const bad = createModelProvider({
      load: async () => {
        throw new Error('nope');
      },
    });
    await expect(bad.warmUp()).resolves.toBe(false);
    const good = createModelProvider({ load: async () => loaded });
    await expect(good.warmUp()).resolves.toBe(true);
  });

  it('does not leave an unobserved rejection when nobody awaits', async () => {
    const seen: unknown[] = [];
    const onUnhandled = (r: unknown) => seen.push(r);
    process.on('unhandledRejection', onUnhandled);
    const p = createModelProvider({
      load: async () => {
        throw new Error('x');
      },
    });
    void p.warmUp();
    await new Promise((r) => setTimeout(r, 20));
    process.off('unhandledRejection', onUnhandled);
    expect(seen).toEqual([]);
  });

  it('validates its options', () => {
    expect(() =>
      createModelProvider({ load: async () => loaded, backoff: { initialMs: 5, maxMs: 1, factor: 2 } }),
    ).toThrow(RangeError);
  });
  it('get() waits at most maxWaitMs for a load in progress; the load goes on, and warmUp waits for it', async () => {
    const d = deferred<LoadedModel>();
    let calls = 0;
    const p = createModelProvider({ load: () => (calls++, d.promise), maxWaitMs: 30, describe: 's3://b/m/' });
    const warm = p.warmUp();
    const started = Date.now();
    const err = (await p.get().catch((e: unknown) => e)) as ModelUnavailableError;
    expect(err).toBeInstanceOf(ModelUnavailableError);
    expect(err.message).toBe('Model unavailable: s3://b/m/ is still loading after 30 ms');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(p.state()).toBe('loading');
    d.resolve(loaded);
    expect(await warm).toBe(true);
    expect(await p.get()).toBe(engine);
    expect(calls).toBe(1);
  });
});
