/**
 * Cacheable queries, through both transports (Lambda handler and local server):
 *   - GET with Apollo's CSRF header gets `Cache-Control: max-age=3600, public` and an ETag that
 *     names the model version; a revalidation with that ETag gets 304; `health`, `model`, errors
 *     and `answerMany` with a per-input error get `no-store`; a GET without the header is refused;
 *   - the per-instance response cache answers repeats without the engine (engine calls counted),
 *     keys on the model version, never stores errors, and reports hits and misses in `health`
 *     and on the request's log line.
 */
import { createHash } from 'node:crypto';
import { createApi, type Api } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { listen, type RunningServer } from '../../src/local-server';
import type { LogEntry } from '../../src/server/request-log';
import type { ModelInfo } from '../../src/model/loading/types';
import { CountingEngine, StaticProvider, loadTinyModel, sampleInputs } from './helpers/engines';
import { lambdaTransport, localTransport, type Req, type Transport } from '../hardening/helpers/transports';

const ANSWER = 'query A($q: String!, $c: String!) { answer(question: $q, context: $c) { text score start end } }';
const PREFLIGHT = { 'apollo-require-preflight': 'true' };

let engine: CountingEngine;
let info: ModelInfo;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  const tiny = await loadTinyModel();
  engine = new CountingEngine(tiny.engine);
  // A model from S3 has an ETag: the version the cache keys on (src/server/cache/model-version.ts).
  info = { ...tiny.info, etag: '"0123456789abcdef"' };
});
afterAll(async () => {
  for (const close of closers) await close();
});
beforeEach(() => engine.reset());

/** A fresh API (its own response cache) behind the named transport. */
async function transport(kind: 'lambda' | 'local', options: { cacheBytes?: number; logs?: LogEntry[]; provider?: StaticProvider } = {}): Promise<{ api: Api; send: Transport }> {
  const api = createApi({
    config: apiConfig({ responseCacheBytes: options.cacheBytes ?? 0, logRequests: options.logs !== undefined }),
    provider: options.provider ?? new StaticProvider(engine, info),
    ideAssetsDir: null,
    logSink: (entry) => options.logs?.push(entry),
  });
  if (kind === 'lambda') {
    closers.push(() => api.server.stop());
    return { api, send: lambdaTransport(api) };
  }
  const server: RunningServer = await listen(api, { port: 0, host: '127.0.0.1' });
  closers.push(() => server.close());
  return { api, send: localTransport(server) };
}

function getReq(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = PREFLIGHT): Req {
  const params = new URLSearchParams({ query });
  if (variables) params.set('variables', JSON.stringify(variables));
  return { method: 'GET', query: params.toString(), headers };
}

const post = (query: string, variables?: Record<string, unknown>): Req => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ query, variables }),
});

// What the ETag must be, computed here from its definition: a weak tag of a hash of the version.
// The model's version here is its ONNX ETag without quotes (no manifest); the tag is its hash.
const expectedEtag = () => `W/"qa-${createHash('sha256').update(info.etag!.replace(/"/g, '')).digest('hex').slice(0, 24)}"`;

describe.each(['lambda', 'local'] as const)('%s', (kind) => {
  test('GET answer: Cache-Control public max-age=3600 and the model-version ETag; revalidation is a 304', async () => {
    const { send } = await transport(kind);
    const [input] = sampleInputs(1);
    const req = getReq(ANSWER, { q: input!.question, c: input!.context });
    const res = await send(req);
    expect(res.status).toBe(200);
    expect(res.json.errors).toBeUndefined();
    expect(res.json.data.answer).toEqual((await engine.inner.answer({ ...input!, options: { topK: 1 } }))[0]);
    expect(res.headers['cache-control']).toBe('max-age=3600, public');
    expect(res.headers.etag).toBe(expectedEtag());

    const again = await send({ ...req, headers: { ...PREFLIGHT, 'if-none-match': res.headers.etag! } });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    // Another model version's tag does not match: a full response.
    const other = await send({ ...req, headers: { ...PREFLIGHT, 'if-none-match': 'W/"qa-000000000000000000000000"' } });
    expect(other.status).toBe(200);
  });

  test('answers and answerMany are cacheable too; health, model, errors and per-input errors are not', async () => {
    const { send } = await transport(kind);
    const [a, b] = sampleInputs(2);
    const answers = await send(getReq('query($q: String!, $c: String!) { answers(question: $q, context: $c, topK: 2) { text start end } }', { q: a!.question, c: a!.context }));
    expect(answers.headers['cache-control']).toBe('max-age=3600, public');
    const many = await send(getReq('query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } error { code } } }', { i: [a, b] }));
    expect(many.json.data.answerMany.map((r: any) => r.error)).toEqual([null, null]);
    expect(many.headers['cache-control']).toBe('max-age=3600, public');

    const uncacheable: Array<[string, Req]> = [
      ['health', getReq('{ health { ready } }')],
      ['model', getReq('{ model { name } }')],
      ['answer with health', getReq('query($q: String!, $c: String!) { answer(question: $q, context: $c) { text } health { ready } }', { q: a!.question, c: a!.context })],
      ['a bad argument', getReq(ANSWER, { q: '   ', c: a!.context })],
      ['a per-input error', getReq('query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } error { code } } }', { i: [a, { ...b, question: '' }] })],
    ];
    for (const [name, req] of uncacheable) {
      const res = await send(req);
      expect({ name, cacheControl: res.headers['cache-control'], etag: res.headers.etag }).toEqual({ name, cacheControl: 'no-store', etag: undefined });
    }
  });

  test('errors answered before execution (by the request core, or Apollo) are no-store too', async () => {
    const { send } = await transport(kind);
    const malformed = await send({ headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.headers['cache-control']).toBe('no-store');
    const csrf = await send(getReq('{ health { ready } }', undefined, {}));
    expect(csrf.status).toBe(400);
    expect(csrf.headers['cache-control']).toBe('no-store');
  });

  test('GET without the CSRF header is refused before any work', async () => {
    const { send } = await transport(kind);
    const [input] = sampleInputs(1);
    const res = await send(getReq(ANSWER, { q: input!.question, c: input!.context }, {}));
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/apollo-require-preflight/);
    expect(engine.calls).toEqual([]);
  });

  test('the response cache answers repeats without the engine, and counts hits and misses', async () => {
    const logs: LogEntry[] = [];
    const { send } = await transport(kind, { cacheBytes: 1 << 20, logs });
    const inputs = sampleInputs(3);
    const one = (i: number) => post(ANSWER, { q: inputs[i]!.question, c: inputs[i]!.context });

    const first = await send(one(0));
    expect(engine.calls).toEqual([1]);
    const second = await send(one(0));
    // Answered from memory: no engine call, the same data, and Apollo's Age header.
    expect(engine.calls).toEqual([1]);
    expect(second.json).toEqual(first.json);
    expect(second.headers.age).toBeDefined();
    await send(one(1)); // another input: a miss
    expect(engine.calls).toEqual([1, 1]);

    // An HTTP batch: one hit and one miss; only the miss reaches the engine.
    const batch = await send({ headers: { 'content-type': 'application/json' }, body: JSON.stringify([JSON.parse(one(1).body as string), JSON.parse(one(2).body as string)]) });
    expect(batch.status).toBe(200);
    expect(engine.calls).toEqual([1, 1, 1]);

    // Errors are never stored: the same bad request reaches validation (and its error) each time.
    const bad = post('query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } error { code } } }', { i: [inputs[0], { ...inputs[1], question: '' }] });
    await send(bad);
    await send(bad);
    expect(engine.calls).toEqual([1, 1, 1, 1, 1]);

    const health = await send(post('{ health { responseCache { hits misses maxBytes } } }'));
    // hits: request 2 and the batch's first operation; misses: requests 1, 3 and the batch's second
    // (errors are not misses: they could never have been cached).
    expect(health.json.data.health.responseCache).toEqual({ hits: 2, misses: 3, maxBytes: 1 << 20 });
    expect(health.headers['cache-control']).toBe('no-store');

    const lines = logs.filter((entry) => entry.msg === 'request').map((entry) => entry.responseCache ?? null);
    expect(lines).toEqual([
      { hits: 0, misses: 1 },
      { hits: 1, misses: 0 },
      { hits: 0, misses: 1 },
      { hits: 1, misses: 1 },
      null, // the per-input errors: not cacheable
      null,
      null, // health: not cacheable
    ]);
  });
});

test('the cache keys on the model version: a new model never gets the old answers', async () => {
  let current: ModelInfo = info;
  const provider = new StaticProvider(engine, info);
  provider.info = () => current;
  const { send } = await transport('lambda', { cacheBytes: 1 << 20, provider });
  const [input] = sampleInputs(1);
  const req = post(ANSWER, { q: input!.question, c: input!.context });
  await send(req);
  await send(req);
  expect(engine.calls).toEqual([1]);
  current = { ...info, etag: '"another-object"' };
  const res = await send(req);
  expect(engine.calls).toEqual([1, 1]);
  expect(res.headers.etag).not.toBe(expectedEtag());
});

test('health reports no response cache when it is off', async () => {
  const { send } = await transport('lambda');
  const res = await send(post('{ health { responseCache { hits } } }'));
  expect(res.json.data.health).toEqual({ responseCache: null });
});
