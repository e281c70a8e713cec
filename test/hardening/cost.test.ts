/**
 * Bounded cost, through both transports on a production configuration and the real engine (tiny
 * DistilBERT): no request buys more model work than its budget, work stops at the deadline or when
 * the client leaves, and a cheap request is not held behind an expensive one.
 *
 * The work a request actually cost is read from the engine's own counter of windows run, not from
 * what the API says it charged.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { createApi, type Api } from '../../src/server/api';
import { apiConfig, DEFAULT_LIMITS, type ApiLimits } from '../../src/server/config';
import { listen, type RunningServer } from '../../src/local-server';
import type { AnswerManyOptions, QAEngine } from '../../src/model/engine';
import { QATokenizer } from '../../src/model/tokenizer';
import type { QAInput } from '../../src/model/types';
import type { LogEntry } from '../../src/server/request-log';
import { fixedModel, loadTinyModel } from '../api/helpers/engines';
import { COST_ATTACKS, prose, punctuation } from './helpers/cost-attacks';
import {
  CONTEXT,
  QUESTION,
  gql,
  lambdaTransport,
  localTransport,
  trackProcessFailures,
  validRequest,
  type Res,
  type Transport,
} from './helpers/transports';

const BUDGET = DEFAULT_LIMITS.maxRequestWindows;
const checkProcess = trackProcessFailures();
let engine: WatchedEngine;
const apis: Api[] = [];
const servers: RunningServer[] = [];
const logs: LogEntry[] = [];
const figures: string[] = [];

function api(limits: Partial<ApiLimits> = {}): Api {
  const created = createApi({
    config: apiConfig({ production: true, introspection: false, ide: false, logRequests: true, limits }),
    provider: fixedModel(engine),
    ideAssetsDir: null,
    logSink: (entry) => void logs.push(entry),
  });
  apis.push(created);
  return created;
}

async function local(limits: Partial<ApiLimits> = {}): Promise<RunningServer> {
  const server = await listen(api(limits), { port: 0, host: '127.0.0.1' });
  servers.push(server);
  return server;
}

const windowsRun = () => engine.windowsRun;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(predicate: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(5);
  }
}

/** Windows run and CPU used by this process over `ms` (to see the work has stopped). */
async function quietOver(ms: number): Promise<{ windows: number; cpuShare: number }> {
  const windows = windowsRun();
  const cpu = process.cpuUsage();
  await sleep(ms);
  const used = process.cpuUsage(cpu);
  return { windows: windowsRun() - windows, cpuShare: (used.user + used.system) / 1000 / ms };
}

function errorsOf(res: Res): any[] {
  return (Array.isArray(res.json) ? res.json.flatMap((r: any) => r.errors ?? []) : res.json.errors) ?? [];
}

/** The engine, noting for each call how many windows (of every request) ran while it was in the engine. */
class WatchedEngine implements QAEngine {
  readonly calls: Array<{ inputs: number; windowsAtStart: number; windowsAtEnd?: number }> = [];
  constructor(private readonly inner: QAEngine) {}
  get description() {
    return this.inner.description;
  }
  get windowsRun(): number {
    return this.inner.windowsRun!;
  }
  answer(input: QAInput) {
    return this.inner.answer(input);
  }
  async answerMany(inputs: readonly QAInput[], options?: AnswerManyOptions) {
    const call: (typeof this.calls)[number] = { inputs: inputs.length, windowsAtStart: this.windowsRun };
    this.calls.push(call);
    try {
      return await this.inner.answerMany(inputs, options);
    } finally {
      call.windowsAtEnd = this.windowsRun;
    }
  }
}

beforeAll(async () => {
  engine = new WatchedEngine((await loadTinyModel()).engine);
});

afterAll(async () => {
  for (const server of servers) await server.close();
  for (const created of apis) await created.server.stop();
  process.stdout.write(`\nBounded cost (tiny model):\n  ${figures.join('\n  ')}\n`);
  checkProcess();
});

describe.each(['lambda', 'local'])('cost attacks through the %s transport', (which) => {
  let transport: Transport;
  let reference: string;
  beforeAll(async () => {
    transport = which === 'lambda' ? lambdaTransport(api()) : localTransport(await local());
    reference = (await transport(validRequest())).text;
  });

  test.each(COST_ATTACKS.map((a) => [a.name, a] as const))('%s', async (_name, attack) => {
    const before = windowsRun();
    const res = await transport(attack.req);
    const ran = windowsRun() - before;
    const errors = errorsOf(res);
    expect(errors.map((e) => e.extensions?.code).filter((c) => c !== 'BAD_USER_INPUT')).toEqual([]);
    if (attack.expect === 'refused') {
      expect(res.status).toBe(400);
      expect(errors.length).toBeGreaterThan(0);
      expect(ran).toBe(0);
    } else {
      expect(res.status).toBe(200);
      expect(ran).toBeGreaterThan(0);
      expect(ran).toBeLessThanOrEqual(BUDGET);
    }
    // Every refusal is about the input's cost, named as the client wrote it.
    for (const e of errors) expect(e.message).toMatch(/model windows|add up to more than|docStride|leaves no room/);
    // After the response, the model is idle: no window runs, the CPU is quiet.
    const after = await quietOver(1_000);
    expect(after.windows).toBe(0);
    expect(after.cpuShare).toBeLessThan(0.5);
    // And the service answers the next request exactly as before.
    expect((await transport(validRequest())).text).toBe(reference);
    // Refusals, the per-input ones of answerMany included.
    const refusals = (res.text.match(/BAD_USER_INPUT/g) ?? []).length;
    figures.push(`${which}: ${attack.name}: ${res.status}, ${ran} windows run, ${refusals} inputs refused`);
  });

  test('a request of exactly the budget is answered in full', async () => {
    // 64 single-window inputs, in one answerMany and two aliases (32 each: the input limit).
    const inputs = (from: number) =>
      Array.from({ length: 32 }, (_, i) => ({ question: `Which stone ${from + i}?`, context: prose(10, from + i) }));
    const before = windowsRun();
    const res = await transport(
      gql(
        'query($a: [AnswerInput!]!, $b: [AnswerInput!]!) { a: answerMany(inputs: $a) { error { code } } b: answerMany(inputs: $b) { error { code } } }',
        { a: inputs(0), b: inputs(32) },
      ),
    );
    expect(res.status).toBe(200);
    expect([...res.json.data.a, ...res.json.data.b].every((r: any) => r.error === null)).toBe(true);
    expect(windowsRun() - before).toBe(BUDGET);
  });
});

describe('deadlines and disconnects stop the work', () => {
  // A budget no test request reaches, so that only the deadline or the client stops the work.
  const UNBOUNDED = { maxRequestWindows: 1_000_000, maxContextLength: 100_000, maxRequestTextLength: 200_000 };
  const endless = gql(
    'query($q: String!, $c: String!) { answer(question: $q, context: $c, options: { maxSeqLength: 128, docStride: 120 }) { text } }',
    {
      q: 'Where?',
      c: punctuation(60_000),
    },
  );

  test.each([
    ['local', 'API_REQUEST_TIMEOUT_MS'],
    ['lambda', "the invocation's remaining time"],
  ])('%s: past the deadline (%s), DEADLINE_EXCEEDED (504) and the windows-run counter stops', async (which) => {
    const started = Date.now();
    const before = windowsRun();
    const reads: number[] = [];
    const res =
      which === 'local'
        ? await localTransport(await local({ ...UNBOUNDED, requestTimeoutMs: 700 }))(endless)
        : // 1,700 ms left, less the 1,000 ms margin: a 700 ms deadline.
          await lambdaTransport(api(UNBOUNDED), { remainingMs: 1_700, remainingReads: reads })(endless);
    const elapsed = Date.now() - started;
    expect(res.status).toBe(504);
    expect(errorsOf(res).map((e) => e.extensions.code)).toEqual(['DEADLINE_EXCEEDED']);
    // Locally 700 ms; on Lambda what the handler read as the time left, less the 1,000 ms margin
    // (700 ms less what passed before it read, however long a busy machine made that).
    const limit = Number(/time limit of (\d+) ms/.exec(errorsOf(res)[0].message)?.[1]);
    if (which === 'local') {
      expect(limit).toBe(700);
    } else {
      expect(reads).toHaveLength(1);
      expect(reads[0]).toBeLessThanOrEqual(1_700);
      expect(limit).toBe(reads[0]! - 1_000);
    }
    const ran = windowsRun() - before;
    expect(ran).toBeGreaterThan(10);
    const after = await quietOver(1_000);
    expect(after.windows).toBe(0);
    expect(after.cpuShare).toBeLessThan(0.5);
    figures.push(
      `${which}: deadline 700 ms: answered 504 after ${elapsed} ms, ${ran} windows run, then ${after.windows}`,
    );
  });

  test('local: a client that disconnects stops its work; the log says 499 REQUEST_CANCELLED', async () => {
    const server = await local({ ...UNBOUNDED, requestTimeoutMs: 60_000 });
    const transport = localTransport(server);
    const controller = new AbortController();
    const before = windowsRun();
    const pending = transport(endless, controller.signal).catch((error: unknown) => error);
    await until(() => windowsRun() - before >= 20);
    controller.abort();
    expect(await pending).toMatchObject({ name: 'AbortError' });
    await sleep(100);
    const after = await quietOver(1_000);
    expect(after.windows).toBe(0);
    expect(after.cpuShare).toBeLessThan(0.5);
    await until(() => logs.some((l) => l.msg === 'request' && l.status === 499));
    const line = logs.find((l) => l.msg === 'request' && l.status === 499)!;
    expect(line.codes).toEqual(['REQUEST_CANCELLED']);
    figures.push(`local: client gone after ${windowsRun() - before - after.windows} windows; none after`);
  });
});

describe('fair turns', () => {
  test.each(['local', 'lambda'])(
    '%s: a cheap request waits a few windows behind a maximal one, not all of them',
    async (which) => {
      // The maximal request: a budget of 2,000 windows, all of them used.
      const limits = { maxRequestWindows: 2_000, maxContextLength: 100_000, maxRequestTextLength: 200_000 };
      const transport = which === 'local' ? localTransport(await local(limits)) : lambdaTransport(api(limits));
      const maximal = gql(
        'query($q: String!, $c: String!) { answer(question: $q, context: $c, options: { maxSeqLength: 128, docStride: 100 }) { text } }',
        {
          q: 'Where?',
          c: punctuation(2_000 * 23 + 90, 17),
        },
      );
      const before = windowsRun();
      const t0 = Date.now();
      const big = transport(maximal);
      await until(() => windowsRun() - before >= 50);
      const callsBefore = engine.calls.length;
      // When the cheap request's texts come back from the tokenizer, in windows run. Tokenizing runs
      // on another thread, however long a busy machine makes it, while the maximal request's windows
      // go on; from then on the cheap request's windows are queued, and only the turns count.
      let tokenizedAt = -1;
      const encode = QATokenizer.prototype.encode;
      const spy = jest.spyOn(QATokenizer.prototype, 'encode').mockImplementation(async function (
        this: QATokenizer,
        text: string,
      ) {
        const encoded = await encode.call(this, text);
        if (text === QUESTION || text === CONTEXT) tokenizedAt = Math.max(tokenizedAt, windowsRun());
        return encoded;
      });
      const t1 = Date.now();
      let cheap: Res;
      try {
        cheap = await transport(validRequest());
      } finally {
        spy.mockRestore();
      }
      const cheapMs = Date.now() - t1;
      // The cheap request's engine call: windows run (its own included) from its arrival to its answer.
      const call = engine.calls.slice(callsBefore).find((c) => c.inputs === 1)!;
      const waited = call.windowsAtEnd! - call.windowsAtStart;
      const queued = call.windowsAtEnd! - tokenizedAt;
      const bigRes = await big;
      const bigMs = Date.now() - t0;
      const bigWindows = windowsRun() - before - 1;
      expect(cheap!.status).toBe(200);
      expect(bigRes.status).toBe(200);
      expect(bigWindows).toBeGreaterThan(1_900);
      // Turns alternate once its windows are queued: the one running, then its own (and the maximal
      // request's next may start before the answer is handed back). fair-scheduler.test.ts checks
      // the turns themselves.
      expect(tokenizedAt).toBeGreaterThanOrEqual(call.windowsAtStart);
      expect(queued).toBeLessThanOrEqual(3);
      // Tokenizing waited for none of the maximal request's windows either: on the tiny model (~1 ms
      // a window) it is worth a few to a few dozen windows, with the machine's load, never all 2,000.
      expect(waited).toBeLessThan(bigWindows / 4);
      figures.push(
        `${which}: cheap request ${cheapMs} ms, in the engine for ${waited} windows (${queued} once tokenized, its own included) beside a maximal one of ${bigWindows} windows in ${bigMs} ms`,
      );
    },
  );
});
