/**
 * Memory kept after a request is bounded in bytes, whatever the request: the parsed-document cache
 * (query text, comments included), the persisted-query cache (APQ, CJK text at two bytes a
 * character) and the response cache. Measured two ways: the heap after garbage collection once the
 * requests are answered (the whole process, so nothing is missed), and the caches' own contents,
 * sized independently of the code under test (Buffer.byteLength in latin1 or UTF-16).
 */
import { createHash } from 'node:crypto';
import { createApi, type Api } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { createCaches } from '../../src/server/cache/stores';
import { settledHeapBytes } from '../helpers/heap';
import { JSON_HEADERS, lambdaTransport, type Transport } from '../hardening/helpers/transports';
import { FailingEngine, fixedModel, loadTinyModel, type TinyModel } from './helpers/engines';
import type { Answer, QAInput } from '../../src/model/types';
import type { QAEngine } from '../../src/model/engine';

const MiB = 1024 * 1024;

let tiny: TinyModel;
const apis: Api[] = [];
beforeAll(async () => {
  tiny = await loadTinyModel();
});
afterAll(async () => {
  for (const api of apis) await api.server.stop();
});

function send(sizes: { documentCacheBytes: number; persistedQueryCacheBytes: number }): Transport {
  const api = createApi({
    config: apiConfig(sizes),
    provider: fixedModel(tiny.engine, tiny.info),
    ideAssetsDir: null,
  });
  apis.push(api);
  return lambdaTransport(api);
}

/** What V8 keeps for a string's characters: 1 byte each when all are Latin-1, else 2 (UTF-16). */
const v8Bytes = (text: string) =>
  [...text].every((c) => c.codePointAt(0)! <= 0xff)
    ? Buffer.byteLength(text, 'latin1')
    : Buffer.byteLength(text, 'utf16le');

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The heap growth, after collection, that answering `count` requests left behind. */
async function keptBy(transport: Transport, count: number, body: (i: number) => string): Promise<number> {
  // A first request warms up the server's own one-time allocations.
  await transport({ headers: JSON_HEADERS, body: JSON.stringify({ query: '{ __typename }' }) });
  const before = settledHeapBytes();
  for (let i = 0; i < count; i++) {
    const res = await transport({ headers: JSON_HEADERS, body: body(i) });
    expect(res.json?.data).toEqual({ __typename: 'Query' });
  }
  return settledHeapBytes() - before;
}

describe("through HTTP: the heap a stream of distinct queries leaves behind stays within the caches' bounds", () => {
  const sizes = { documentCacheBytes: 2 * MiB, persistedQueryCacheBytes: 2 * MiB };
  // Everything the two caches may hold, and room for the server's own noise; the attacks below
  // would keep several times as much.
  const allowed = sizes.documentCacheBytes + sizes.persistedQueryCacheBytes + 2 * MiB;

  test('queries made mostly of a comment (no token limit counts comments): each 1,000,000 characters', async () => {
    const kept = await keptBy(send(sizes), 24, (i) =>
      JSON.stringify({ query: `#${String(i).padEnd(1_000_000, 'x')}\n{ __typename }` }),
    );
    expect(kept).toBeLessThan(allowed);
  });

  test('queries small enough to cache, many of them: each 15,000 characters of comment', async () => {
    const kept = await keptBy(send(sizes), 800, (i) =>
      JSON.stringify({ query: `#${String(i).padEnd(15_000, 'x')}\n{ __typename }` }),
    );
    expect(kept).toBeLessThan(allowed);
  });

  test('persisted-query registrations of CJK text (two bytes a character in memory)', async () => {
    const kept = await keptBy(send(sizes), 600, (i) => {
      const query = `#${i}${'問'.repeat(15_000)}\n{ __typename }`;
      return JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } });
    });
    expect(kept).toBeLessThan(allowed);
  });

  test('persisted-query registrations of 300,000 CJK characters each', async () => {
    const kept = await keptBy(send(sizes), 200, (i) => {
      const query = `#${i}${'問'.repeat(300_000)}\n{ __typename }`;
      return JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } });
    });
    expect(kept).toBeLessThan(allowed);
  });

  test('a registered persisted query is still found by its hash alone', async () => {
    const transport = send(sizes);
    const query = '{ __typename }';
    const persistedQuery = { version: 1, sha256Hash: sha256(query) };
    expect(
      (await transport({ headers: JSON_HEADERS, body: JSON.stringify({ extensions: { persistedQuery } }) })).json
        .errors[0].extensions.code,
    ).toBe('PERSISTED_QUERY_NOT_FOUND');
    await transport({ headers: JSON_HEADERS, body: JSON.stringify({ query, extensions: { persistedQuery } }) });
    expect(
      (await transport({ headers: JSON_HEADERS, body: JSON.stringify({ extensions: { persistedQuery } }) })).json.data,
    ).toEqual({ __typename: 'Query' });
  });
});

/** Answers with the whole context: responses as large as the contexts sent, whatever the script. */
class WholeContextEngine implements QAEngine {
  readonly description = new FailingEngine().description;
  async answer(input: QAInput): Promise<Answer[]> {
    return [{ text: input.context, score: 1, start: 0, end: input.context.length }];
  }
  async answerMany(inputs: readonly QAInput[]): Promise<Array<Answer[] | Error>> {
    return Promise.all(inputs.map((input) => this.answer(input)));
  }
}

test('through HTTP: the response cache holds CJK answers within its bound in bytes (two a character)', async () => {
  const bound = 4 * MiB;
  const api = createApi({
    config: apiConfig({ responseCacheBytes: bound, documentCacheBytes: MiB, persistedQueryCacheBytes: MiB }),
    provider: fixedModel(new WholeContextEngine(), { ...tiny.info, etag: '"v1"' }),
    ideAssetsDir: null,
  });
  apis.push(api);
  const transport = lambdaTransport(api);
  const query = 'query($q: String!, $c: String!) { answer(question: $q, context: $c) { text } }';
  const kept = await (async () => {
    await transport({
      headers: JSON_HEADERS,
      body: JSON.stringify({ query, variables: { q: 'Where?', c: 'warm-up' } }),
    });
    const before = settledHeapBytes();
    for (let i = 0; i < 300; i++) {
      const context = `${i}${'問'.repeat(15_000)}`;
      const res = await transport({
        headers: JSON_HEADERS,
        body: JSON.stringify({ query, variables: { q: 'Where?', c: context } }),
      });
      expect(res.json.data.answer.text).toBe(context);
    }
    return settledHeapBytes() - before;
  })();
  // 300 answers of 30,000 bytes each were offered; it kept no more than its bound (and noise).
  expect(kept).toBeLessThan(bound + 2 * MiB);
  const cache = api.caches.responses!;
  const held = await Promise.all(cache.keys().map(async (key) => v8Bytes((await cache.get(key))!) + v8Bytes(key)));
  expect(held.length).toBeGreaterThan(0);
  expect(held.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(bound);
});

describe("the caches' contents, sized independently, never exceed their bounds", () => {
  const bound = 1 * MiB;
  const caches = createCaches({
    documentCacheBytes: bound,
    persistedQueryCacheBytes: bound,
    responseCacheBytes: bound,
  });

  test('persisted queries and responses: CJK strings count two bytes a character', async () => {
    for (const cache of [caches.persistedQueries!, caches.responses!]) {
      for (let i = 0; i < 200; i++) await cache.set(`key-${i}`, `${i}${'問'.repeat(5_000)}`);
      const kept = await Promise.all(cache.keys().map(async (key) => v8Bytes((await cache.get(key))!) + v8Bytes(key)));
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(bound);
    }
  });

  test('parsed documents: their source text counts', async () => {
    const { parse } = await import('graphql');
    const cache = caches.documents!;
    for (let i = 0; i < 200; i++) await cache.set(`doc-${i}`, parse(`#${i}${'x'.repeat(10_000)}\n{ __typename }`));
    const texts = await Promise.all(cache.keys().map(async (key) => v8Bytes((await cache.get(key))!.loc!.source.body)));
    expect(texts.length).toBeGreaterThan(0);
    expect(texts.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(bound);
  });

  test('a value over 1/64 of its cache is not kept (it would displace what others use)', async () => {
    const cache = createCaches({
      documentCacheBytes: 0,
      persistedQueryCacheBytes: 64 * 1024,
      responseCacheBytes: 0,
    }).persistedQueries!;
    await cache.set('small', 'x'.repeat(500));
    await cache.set('large', 'x'.repeat(1_100));
    expect(cache.keys()).toEqual(['small']);
  });

  test('0 turns a cache off', () => {
    expect(createCaches({ documentCacheBytes: 0, persistedQueryCacheBytes: 0, responseCacheBytes: 0 })).toEqual({
      documents: null,
      persistedQueries: null,
      responses: null,
    });
  });
});
