/**
 * Cacheable queries, through both transports (Lambda handler and local server):
 *   - GET with Apollo's CSRF header gets `Cache-Control: max-age=3600, public` and an ETag of its
 *     content; a revalidation with that ETag gets 304; `health`, `model`, errors and `answerMany`
 *     with a per-input error get `no-store`; a GET without the header is refused;
 *   - HTTP that never lies (RFC 9110): only GET is answered 304, never a POST; the ETag names the
 *     content (another answer, another representation: another tag); no ETag with an error, a
 *     batch's included; `Vary: Accept`;
 *   - the per-instance response cache answers repeats without the engine (engine calls counted),
 *     keys on the model version, never stores errors, and reports hits and misses in `health`
 *     and on the request's log line.
 */
import { createApi, type Api } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { listen, type RunningServer } from '../../src/local-server';
import type { LogEntry } from '../../src/server/request-log';
import type { ModelInfo, ModelProvider } from '../../src/model/loading/types';
import { CountingEngine, fixedModel, loadTinyModel, sampleInputs } from './helpers/engines';
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
async function transport(
  kind: 'lambda' | 'local',
  options: { cacheBytes?: number; logs?: LogEntry[]; provider?: ModelProvider } = {},
): Promise<{ api: Api; send: Transport }> {
  const api = createApi({
    config: apiConfig({ responseCacheBytes: options.cacheBytes ?? 0, logRequests: options.logs !== undefined }),
    provider: options.provider ?? fixedModel(engine, info),
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

describe.each(['lambda', 'local'] as const)('%s', (kind) => {
  test('GET answer: Cache-Control public max-age=3600 and an ETag; revalidation is a 304', async () => {
    const { send } = await transport(kind);
    const [input] = sampleInputs(1);
    const req = getReq(ANSWER, { q: input!.question, c: input!.context });
    const res = await send(req);
    expect(res.status).toBe(200);
    expect(res.json.errors).toBeUndefined();
    expect(res.json.data.answer).toEqual((await engine.inner.answer({ ...input!, options: { topK: 1 } }))[0]);
    expect(res.headers['cache-control']).toBe('max-age=3600, public');
    expect(res.headers.etag).toMatch(/^W\/"[^"]+"$/);
    // The same request, the same content: the same tag.
    expect((await send(req)).headers.etag).toBe(res.headers.etag);

    const again = await send({ ...req, headers: { ...PREFLIGHT, 'if-none-match': res.headers.etag! } });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    // A 304 carries what the 200 would have (RFC 9110, 15.4.5): the tag, Cache-Control, Vary.
    expect(again.headers).toMatchObject({
      etag: res.headers.etag,
      'cache-control': 'max-age=3600, public',
      vary: expect.stringMatching(/\bAccept\b/i),
    });
    // In a list, with the strong form of the tag, or `*`: weak comparison.
    for (const ifNoneMatch of [`"other", ${res.headers.etag}`, res.headers.etag!.slice(2), '*']) {
      expect({
        ifNoneMatch,
        status: (await send({ ...req, headers: { ...PREFLIGHT, 'if-none-match': ifNoneMatch } })).status,
      }).toEqual({ ifNoneMatch, status: 304 });
    }
    // Another tag does not match: a full response.
    const other = await send({ ...req, headers: { ...PREFLIGHT, 'if-none-match': 'W/"qa-000000000000000000000000"' } });
    expect(other.status).toBe(200);
    expect(other.json).toEqual(res.json);
  });

  test('the ETag names the content: another question, another tag, and that tag is no 304 for the first', async () => {
    const { send } = await transport(kind);
    const [a, b] = sampleInputs(2);
    const first = await send(getReq(ANSWER, { q: a!.question, c: a!.context }));
    const second = await send(getReq(ANSWER, { q: b!.question, c: b!.context }));
    expect(second.json.data.answer).not.toEqual(first.json.data.answer);
    expect(first.headers.etag).toBeDefined();
    expect(second.headers.etag).toBeDefined();
    expect(second.headers.etag).not.toBe(first.headers.etag);
    const crossed = await send({
      ...getReq(ANSWER, { q: b!.question, c: b!.context }),
      headers: { ...PREFLIGHT, 'if-none-match': first.headers.etag! },
    });
    expect(crossed.status).toBe(200);
    expect(crossed.json).toEqual(second.json);
  });

  test("a POST is never answered 304: If-None-Match with an earlier answer's ETag gets the full answer", async () => {
    const { send } = await transport(kind);
    const [a, b] = sampleInputs(2);
    const tagged = await send(getReq(ANSWER, { q: a!.question, c: a!.context }));
    expect(tagged.headers.etag).toBeDefined();
    for (const input of [b!, a!]) {
      const res = await send({
        ...post(ANSWER, { q: input.question, c: input.context }),
        headers: { 'content-type': 'application/json', 'if-none-match': tagged.headers.etag! },
      });
      expect(res.status).toBe(200);
      expect(res.json.data.answer).toEqual((await engine.inner.answer({ ...input, options: { topK: 1 } }))[0]);
      // A POST's response is no representation of its URL: no validator either.
      expect(res.headers.etag).toBeUndefined();
    }
    const star = await send({
      ...post(ANSWER, { q: a!.question, c: a!.context }),
      headers: { 'content-type': 'application/json', 'if-none-match': '*' },
    });
    expect(star.status).toBe(200);
  });

  test('no ETag on a response with an error: a batch with one failed member keeps its errors and data', async () => {
    const { send } = await transport(kind);
    const [a] = sampleInputs(1);
    const good = JSON.parse(post(ANSWER, { q: a!.question, c: a!.context }).body as string);
    // Partial success: one root field fails, the other answers, so the response is a 200 with errors.
    const PARTIAL =
      'query($q: String!, $c: String!) { ok: answer(question: $q, context: $c) { text } bad: answer(question: "   ", context: $c) { text } }';
    const bad = JSON.parse(post(PARTIAL, { q: a!.question, c: a!.context }).body as string);
    for (const members of [
      [good, bad],
      [bad, good],
    ]) {
      const req: Req = {
        headers: { 'content-type': 'application/json', 'if-none-match': '*' },
        body: JSON.stringify(members),
      };
      const res = await send(req);
      expect(res.status).toBe(200);
      expect(res.headers.etag).toBeUndefined();
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.json.map((r: any) => (r.errors ? 'error' : 'data'))).toEqual(
        members.map((m) => (m === bad ? 'error' : 'data')),
      );
    }
    // A GET with an error: no tag, and If-None-Match: * cannot turn it into a 304.
    const partial = await send({
      ...getReq(PARTIAL, { q: a!.question, c: a!.context }),
      headers: { ...PREFLIGHT, 'if-none-match': '*' },
    });
    expect(partial.status).toBe(200);
    expect(partial.headers.etag).toBeUndefined();
    expect(partial.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(typeof partial.json.data.ok.text).toBe('string');
  });

  test('Content-Type follows Accept: Vary: Accept, and each representation has its own tag', async () => {
    const { send } = await transport(kind);
    const [a] = sampleInputs(1);
    const req = getReq(ANSWER, { q: a!.question, c: a!.context });
    const json = await send({ ...req, headers: { ...PREFLIGHT, accept: 'application/json' } });
    const graphql = await send({ ...req, headers: { ...PREFLIGHT, accept: 'application/graphql-response+json' } });
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(graphql.headers['content-type']).toMatch(/^application\/graphql-response\+json/);
    for (const res of [json, graphql]) expect(res.headers.vary).toMatch(/\bAccept\b/i);
    expect(graphql.headers.etag).not.toBe(json.headers.etag);
    // One representation's tag does not validate the other.
    const crossed = await send({
      ...req,
      headers: { ...PREFLIGHT, accept: 'application/graphql-response+json', 'if-none-match': json.headers.etag! },
    });
    expect(crossed.status).toBe(200);
    expect(crossed.headers['content-type']).toMatch(/^application\/graphql-response\+json/);
  });

  test('answers and answerMany are cacheable too; health, model, errors and per-input errors are not', async () => {
    const { send } = await transport(kind);
    const [a, b] = sampleInputs(2);
    const answers = await send(
      getReq('query($q: String!, $c: String!) { answers(question: $q, context: $c, topK: 2) { text start end } }', {
        q: a!.question,
        c: a!.context,
      }),
    );
    expect(answers.headers['cache-control']).toBe('max-age=3600, public');
    const many = await send(
      getReq('query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } error { code } } }', {
        i: [a, b],
      }),
    );
    expect(many.json.data.answerMany.map((r: any) => r.error)).toEqual([null, null]);
    expect(many.headers['cache-control']).toBe('max-age=3600, public');

    const uncacheable: Array<[string, Req]> = [
      ['health', getReq('{ health { ready } }')],
      ['model', getReq('{ model { name } }')],
      [
        'answer with health',
        getReq('query($q: String!, $c: String!) { answer(question: $q, context: $c) { text } health { ready } }', {
          q: a!.question,
          c: a!.context,
        }),
      ],
      ['a bad argument', getReq(ANSWER, { q: '   ', c: a!.context })],
      [
        'a per-input error',
        getReq('query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } error { code } } }', {
          i: [a, { ...b, question: '' }],
        }),
      ],
    ];
    for (const [name, req] of uncacheable) {
      const res = await send(req);
      expect({ name, cacheControl: res.headers['cache-control'], etag: res.headers.etag }).toEqual({
        name,
        cacheControl: 'no-store',
        etag: undefined,
      });
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
    const batch = await send({
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([JSON.parse(one(1).body as string), JSON.parse(one(2).body as string)]),
    });
    expect(batch.status).toBe(200);
    expect(engine.calls).toEqual([1, 1, 1]);

    // Errors are never stored: the same bad request reaches validation (and its error) each time.
    const bad = post('query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } error { code } } }', {
      i: [inputs[0], { ...inputs[1], question: '' }],
    });
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
  const provider = fixedModel(engine, info);
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
  expect(res.status).toBe(200);
});

test('health reports no response cache when it is off', async () => {
  const { send } = await transport('lambda');
  const res = await send(post('{ health { responseCache { hits } } }'));
  expect(res.json.data.health).toEqual({ responseCache: null });
});
