/**
 * The abuse suite: hundreds of hostile requests, hand-written and generated, through the Lambda
 * handler (real v2 events) and the local server (real HTTP), on a production configuration.
 *
 * For every one: a well-formed GraphQL response (errors with a string message and a stable
 * extensions.code, no stack trace, no file path), the expected HTTP status, an x-request-id, and
 * no engine call when the request must be refused before tokenizing. After every one, a valid
 * request through the same transport returns exactly the reference answer. Unhandled rejections
 * and uncaught exceptions fail the suite.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createApi, type Api } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { listen, type RunningServer } from '../../src/local-server';
import { CountingEngine, fixedModel, loadTinyModel } from '../api/helpers/engines';
import {
  gql,
  lambdaTransport,
  localTransport,
  trackProcessFailures,
  validRequest,
  type Res,
  type Transport,
} from './helpers/transports';

import { CASES, CHEAP_BASELINES } from './helpers/abuse-cases';

const MB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
let engine: CountingEngine;
const apis: Api[] = [];
let local: RunningServer;
let transports: Array<[string, Transport]>;
const reference = new Map<string, string>();
/** Per transport and carrier: the median time of five CHEAP_BASELINES, what a `cheap` refusal is measured against. */
const baselineMs = new Map<string, number>();
/**
 * A refusal marked `cheap` may take this many baselines. Measured here: 0.2-2.8× on an idle machine,
 * up to 4.4× with another process spinning on the two cores; tokenizing the 10 MB context alone
 * takes 3.7 s, some 50 baselines.
 */
const CHEAP_FACTOR = 10;
const stats = {
  requests: 0,
  valid: 0,
  codes: new Map<string, number>(),
  statuses: new Map<number, number>(),
  cheap: [] as string[],
};
const checkProcess = trackProcessFailures();
/** `transport: case` of every hostile request that got what it must, with a correct answer right after. */
const verified = new Set<string>();

function productionApi(): Api {
  const api = createApi({
    config: apiConfig({
      production: true,
      introspection: false,
      ide: false,
      corsOrigins: ['https://app.example.com'],
      // A body this large reaches validation: the 10 MB cases prove the argument checks run
      // before the engine; the 13 MB one is refused by size.
      limits: { maxBodyBytes: 12 * MB },
    }),
    provider: fixedModel(engine),
    ideAssetsDir: null,
    logSink: () => undefined,
  });
  apis.push(api);
  return api;
}

beforeAll(async () => {
  engine = new CountingEngine((await loadTinyModel()).engine);
  local = await listen(productionApi(), { port: 0, host: '127.0.0.1' });
  const lambdaApi = productionApi();
  transports = [
    ['lambda', lambdaTransport(lambdaApi)],
    ['local', localTransport(local)],
  ];
  for (const [name, transport] of transports) {
    const res = await transport(validRequest());
    expect(res.status).toBe(200);
    expect(res.json.data.answer.text).toEqual(expect.any(String));
    reference.set(name, res.text);
  }
  // Both transports give the same answer.
  expect(reference.get('lambda')).toBe(reference.get('local'));
  for (const [name, transport] of transports) {
    for (const [carrier, req] of Object.entries(CHEAP_BASELINES)) {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const res = await transport(req);
        times.push(performance.now() - t0);
        expect(res.json.data).toEqual({ health: { ready: true } });
      }
      baselineMs.set(`${name} ${carrier}`, times.sort((a, b) => a - b)[2]!);
    }
  }
});

afterAll(async () => {
  await local?.close();
  for (const api of apis) await api.server.stop();
  const codes = [...stats.codes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ×${n}`);
  const statuses = [...stats.statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s} ×${n}`);
  process.stdout.write(
    `\nAbuse suite: ${stats.requests} hostile requests (${CASES.length} cases × ${transports.length} transports), ` +
      `${stats.valid} valid follow-ups, all answered correctly; ${stats.codes.size} distinct error codes: ${codes.join(', ')}; ` +
      `statuses: ${statuses.join(', ')}; 10 MB requests with no work: ${[...baselineMs].map(([t, ms]) => `${t} ${ms.toFixed(0)} ms`).join(', ')}; ` +
      `refusals of that size against them: ${stats.cheap.join(', ')}\n`,
  );
  checkProcess();
});

function checkWellFormedErrors(res: Res): void {
  expect(res.json).toEqual(expect.any(Object));
  const errors = Array.isArray(res.json) ? res.json.flatMap((r: any) => r.errors ?? []) : res.json.errors;
  for (const e of errors ?? []) {
    expect(typeof e.message).toBe('string');
    expect(typeof e.extensions?.code).toBe('string');
    expect(e.extensions.stacktrace).toBeUndefined();
  }
  // Nothing about the server's files or internals.
  expect(res.text).not.toMatch(/\/work\/|node_modules|\.ts:\d|\bat [\w.]+ \(/);
}

describe.each(['lambda', 'local'])('%s transport', (which) => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const transport = transports.find(([name]) => name === which)![1];
    const callsBefore = engine.calls.length;
    const t0 = performance.now();
    const res = await transport(c.req);
    const ms = performance.now() - t0;
    stats.requests += 1;
    stats.statuses.set(res.status, (stats.statuses.get(res.status) ?? 0) + 1);
    checkWellFormedErrors(res);
    expect(res.headers['x-request-id']).toMatch(/^[A-Za-z0-9._:-]+$/);
    const errors: any[] =
      (Array.isArray(res.json) ? res.json.flatMap((r: any) => r.errors ?? []) : res.json.errors) ?? [];
    for (const e of errors) stats.codes.set(e.extensions.code, (stats.codes.get(e.extensions.code) ?? 0) + 1);
    // A hostile request is the client's doing: never an internal error, never a 5xx.
    expect(errors.map((e) => e.extensions.code)).not.toContain('INTERNAL_SERVER_ERROR');
    expect(res.status).toBeLessThan(500);
    if (c.expect.kind === 'error') {
      expect({ status: res.status, code: errors[0]?.extensions?.code }).toEqual({
        status: c.expect.status,
        code: c.expect.code,
      });
      // A refused request carries no answer: no data at all, or only null fields.
      if (res.json.data !== undefined && res.json.data !== null)
        expect(Object.values(res.json.data).every((v) => v === null)).toBe(true);
      if (c.expect.engine === false) expect(engine.calls.length).toBe(callsBefore);
      // A ratio to the same transport's carrying of 10 MB, so a busy machine slows both alike.
      if (c.expect.cheap) {
        const ratio = ms / baselineMs.get(`${which} ${c.expect.cheap}`)!;
        stats.cheap.push(`${which} "${c.name}" ${ratio.toFixed(2)}×`);
        expect(ratio).toBeLessThan(CHEAP_FACTOR);
      }
    } else {
      expect(res.status).toBe(200);
      expect(res.json.data).toEqual(expect.any(Object));
      await c.expect.check?.(res);
    }
    // The service is unharmed: a valid request right after gets exactly the reference answer.
    const after = await transport(validRequest());
    stats.valid += 1;
    expect(after.status).toBe(200);
    expect(after.text).toBe(reference.get(which));
    verified.add(`${which}: ${c.name}`);
  });
});

// Runs after the cases above (Jest runs a file's tests in order).
test('every one of at least 300 hostile requests got what it must, and both servers are healthy after them all', async () => {
  expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  const missing = transports
    .flatMap(([which]) => CASES.map((c) => `${which}: ${c.name}`))
    .filter((key) => !verified.has(key));
  expect(missing).toEqual([]);
  expect(verified.size).toBeGreaterThanOrEqual(300);
  for (const [which, transport] of transports) {
    const health = await transport(gql('{ health { ready } }'));
    expect({ status: health.status, data: health.json.data }).toEqual({
      status: 200,
      data: { health: { ready: true } },
    });
    const after = await transport(validRequest());
    expect(after.text).toBe(reference.get(which));
  }
});
