/**
 * The frontend client (src/client/: Apollo Client, the client preset's typed documents) against
 * the local server and the Lambda handler (through a loopback HTTP server), counting HTTP
 * requests (a counting fetch) and engine calls (CountingEngine):
 *   - separate queries issued together travel as one HTTP request and one engine call, each
 *     with its own typed answer, and a bad input fails only its own query;
 *   - automatic persisted queries go as GET with the CSRF header: a hash miss (then the full
 *     query, POSTed once), then a hit from a fresh client, with Cache-Control.
 */
import { CombinedGraphQLErrors } from '@apollo/client';
import { createApi } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { createApiLambdaHandler } from '../../src/server/lambda';
import { listen } from '../../src/local-server';
import { createBatchingClient, createPersistedClient } from '../../src/client/client';
import { AnswerQuery } from '../../src/client/operations';
import type { AnswerQuery as AnswerResult } from '../../src/client/generated/graphql';
import type { Answer } from '../../src/model/types';
import { CountingEngine, fixedModel, loadTinyModel, sampleInputs } from './helpers/engines';
import { loopbackServer, type V2Handler } from './helpers/lambda-events';

interface Sent {
  method: string;
  status: number;
  cacheControl: string | null;
  /** Operations in the request: array bodies are batches. */
  operations: number;
}

/** A fetch that records every HTTP request the client makes. */
function countingFetch(sent: Sent[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const body = typeof init?.body === 'string' ? JSON.parse(init.body) : null;
    sent.push({
      method: init?.method ?? 'GET',
      status: response.status,
      cacheControl: response.headers.get('cache-control'),
      operations: Array.isArray(body) ? body.length : 1,
    });
    return response;
  };
}

let engine: CountingEngine;
const endpoints: Record<'local' | 'lambda', string> = { local: '', lambda: '' };
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  const tiny = await loadTinyModel();
  engine = new CountingEngine(tiny.engine);
  const make = () => createApi({ config: apiConfig(), provider: fixedModel(engine, tiny.info), ideAssetsDir: null });
  const local = await listen(make(), { port: 0, host: '127.0.0.1' });
  closers.push(() => local.close());
  endpoints.local = local.url;
  const api = make();
  const loopback = await loopbackServer(createApiLambdaHandler(api) as unknown as V2Handler, false);
  closers.push(
    () => loopback.close(),
    () => api.server.stop(),
  );
  endpoints.lambda = `${loopback.url}graphql`;
});
afterAll(async () => {
  for (const close of closers) await close();
});
beforeEach(() => engine.reset());

/** The engine's own answer for one input: the reference, computed without the API. */
async function reference(input: { question: string; context: string }): Promise<Answer> {
  return (await engine.inner.answer({ ...input, options: { topK: 1 } }))[0]!;
}

describe.each(['local', 'lambda'] as const)('%s', (kind) => {
  test('four separate typed queries issued together: one HTTP request, one engine call, four answers', async () => {
    const sent: Sent[] = [];
    const client = createBatchingClient({ uri: endpoints[kind], fetch: countingFetch(sent) });
    const inputs = sampleInputs(4);
    const results = await Promise.all(inputs.map((input) => client.query({ query: AnswerQuery, variables: input })));

    expect(sent).toEqual([{ method: 'POST', status: 200, cacheControl: expect.any(String), operations: 4 }]);
    expect(engine.calls).toEqual([4]);
    for (const [i, result] of results.entries()) {
      // Typed by the client preset: `answer` is `{ text: string; score: number; start; end } | null`.
      const answer: NonNullable<AnswerResult['answer']> = result.data!.answer!;
      // Apollo Client's cache adds __typename to what it asks for (the generated types leave it out).
      expect(answer).toEqual({ __typename: 'Answer', ...(await reference(inputs[i]!)) });
    }
  });

  test('a bad input fails only its own query', async () => {
    const sent: Sent[] = [];
    const client = createBatchingClient({ uri: endpoints[kind], fetch: countingFetch(sent) });
    const inputs = sampleInputs(3);
    const queries = [...inputs.slice(0, 2), { question: '  ', context: inputs[2]!.context }].map((variables) =>
      client.query({ query: AnswerQuery, variables }),
    );
    const settled = await Promise.allSettled(queries);

    // A batch has one HTTP status: its failed member's 400 (src/server/partial-success.ts). The
    // BatchHttpLink still reads every member's own result, so the good queries are not lost.
    expect(sent).toEqual([{ method: 'POST', status: 400, cacheControl: 'no-store', operations: 3 }]);
    // The blank question is refused before the engine: the other two went in one call.
    expect(engine.calls).toEqual([2]);
    for (const i of [0, 1]) {
      expect(settled[i]!.status).toBe('fulfilled');
      const answer = (settled[i] as PromiseFulfilledResult<{ data: AnswerResult }>).value.data.answer;
      expect(answer).toEqual({ __typename: 'Answer', ...(await reference(inputs[i]!)) });
    }
    expect(settled[2]!.status).toBe('rejected');
    const error = (settled[2] as PromiseRejectedResult).reason;
    expect(CombinedGraphQLErrors.is(error)).toBe(true);
    expect((error as CombinedGraphQLErrors).errors.map((e) => [e.extensions?.code, e.extensions?.argument])).toEqual([
      ['BAD_USER_INPUT', 'question'],
    ]);
  });

  test('persisted query over GET: a hash miss, then a hit with Cache-Control', async () => {
    const [input] = sampleInputs(1);
    const first: Sent[] = [];
    const client = createPersistedClient({ uri: endpoints[kind], fetch: countingFetch(first) });
    const result = await client.query({ query: AnswerQuery, variables: input! });
    expect(result.data!.answer).toEqual({ __typename: 'Answer', ...(await reference(input!)) });
    // The GET with only the hash misses (the server has never seen it, and says not to cache
    // that); the link then POSTs the full query once, which registers it.
    expect(first.map(({ method, cacheControl }) => ({ method, cacheControl }))).toEqual([
      { method: 'GET', cacheControl: 'private, no-cache, must-revalidate' },
      { method: 'POST', cacheControl: 'max-age=3600, public' },
    ]);

    // A fresh client (another browser): one GET of the hash, answered, cacheable by a CDN.
    const second: Sent[] = [];
    const other = createPersistedClient({ uri: endpoints[kind], fetch: countingFetch(second) });
    const again = await other.query({ query: AnswerQuery, variables: input! });
    expect(again.data).toEqual(result.data);
    expect(second).toEqual([{ method: 'GET', status: 200, cacheControl: 'max-age=3600, public', operations: 1 }]);
    expect(engine.calls).toEqual([1, 1]);
  });
});
