/**
 * The Lambda handler (plain and base64 bodies, including the real src/handler.ts module), the
 * local server and direct execution return identical answers for the same input.
 */
import { jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as createProviderModule from '../../src/model/loading/provider';
import type { LoadLogger } from '../../src/model/loading/types';
import { createApi, type Api } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { createApiLambdaHandler } from '../../src/server/lambda';
import { listen, type RunningServer } from '../../src/local-server';
import { fixedModel, loadTinyModel, type TinyModel } from './helpers/engines';
import { invoke, jsonOf, type V2Handler } from './helpers/lambda-events';
import { spanProblems } from '../helpers/token-boundaries';

const QUERY = `query($q: String!, $c: String!) {
  answers(question: $q, context: $c, topK: 3) { text score start end }
  many: answerMany(inputs: [{ question: $q, context: $c, topK: 2 }, { question: "", context: $c }]) {
    answers { text score start end } error { code field }
  }
}`;
// Non-ASCII context: offsets must be UTF-16 code units whichever transport carries the body.
const VARIABLES = {
  q: 'Which café did Zoë open?',
  c: 'In 2019 Zoë opened Café Ünïcode 🍰 near the old harbour; it serves crêpes and 抹茶 until midnight.',
};
const body = JSON.stringify({ query: QUERY, variables: VARIABLES });

let tiny: TinyModel;
let api: Api;
let handler: V2Handler;
let local: RunningServer;

beforeAll(async () => {
  tiny = await loadTinyModel();
  api = createApi({ config: apiConfig(), provider: fixedModel(tiny.engine, tiny.info), ideAssetsDir: null });
  handler = createApiLambdaHandler(api) as unknown as V2Handler;
  local = await listen(
    createApi({ config: apiConfig(), provider: fixedModel(tiny.engine, tiny.info), ideAssetsDir: null }),
    {
      port: 0,
      host: '127.0.0.1',
    },
  );
});
afterAll(async () => {
  await local.close();
  await api.server.stop();
});

test('Lambda (plain, base64), local server and direct execution agree', async () => {
  const plain = await invoke(handler, { headers: { 'content-type': 'application/json' }, body });
  const base64 = await invoke(handler, { headers: { 'content-type': 'application/json' }, body, base64: true });
  const viaLocal = await fetch(local.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const direct = await api.server.executeOperation(
    { query: QUERY, variables: VARIABLES },
    { contextValue: await api.createContext() },
  );

  expect(plain.statusCode).toBe(200);
  expect(base64.statusCode).toBe(200);
  expect(viaLocal.status).toBe(200);
  const expected = jsonOf(plain);
  expect(expected.errors).toBeUndefined();
  expect(expected.data.answers.length).toBeGreaterThan(0);
  // UTF-16 offsets on the tokenizer's own word boundaries, computed apart from the engine.
  expect(
    await spanProblems(readFileSync(join(tiny.dir, 'tokenizer.json'), 'utf8'), VARIABLES.c, expected.data.answers),
  ).toEqual([]);
  expect(expected.data.many[1]).toEqual({
    answers: null,
    error: { code: 'BAD_USER_INPUT', field: 'inputs[1].question' },
  });
  expect(jsonOf(base64)).toEqual(expected);
  expect(await viaLocal.json()).toEqual(expected);
  expect(direct.body.kind === 'single' && direct.body.singleResult).toEqual(expected);
  // ...and what the engine itself answers.
  const engineAnswers = await tiny.engine.answer({ question: VARIABLES.q, context: VARIABLES.c, options: { topK: 3 } });
  expect(expected.data.answers).toEqual(engineAnswers);
});

test('the src/handler.ts entry (config from env, provider created once) answers the same', async () => {
  const saved = { ...process.env };
  process.env.MODEL_URI = tiny.dir;
  process.env.API_IDE = 'true';
  // Count the providers the entry creates, and the loads they start (each logs "model load started").
  const actual = createProviderModule.createModelProvider;
  let loadsStarted = 0;
  const created = jest.spyOn(createProviderModule, 'createModelProvider').mockImplementation((options = {}) => {
    const inner: LoadLogger | undefined = options.logger;
    const logger: LoadLogger = {
      info: (message, extra) => {
        if (message === 'model load started') loadsStarted += 1;
        inner?.info(message, extra);
      },
      warn: (message, extra) => inner?.warn(message, extra),
      error: (message, extra) => inner?.error(message, extra),
    };
    return actual({ ...options, logger });
  });
  try {
    const entry = await import('../../src/handler');
    expect(await entry.ready).toBe(true);
    expect(created).toHaveBeenCalledTimes(1);
    expect(loadsStarted).toBe(1);
    const first = await entry.handler(
      (await import('./helpers/lambda-events')).v2Event({
        headers: { 'content-type': 'application/json' },
        body,
        base64: true,
      }),
      { functionName: 'qa' } as never,
      () => undefined,
    );
    const again = await invoke(entry.handler as V2Handler, { headers: { 'content-type': 'application/json' }, body });
    const reference = await invoke(handler, { headers: { 'content-type': 'application/json' }, body });
    expect(jsonOf(first!)).toEqual(jsonOf(reference));
    expect(jsonOf(again)).toEqual(jsonOf(reference));
    // The IDE: HTML for browsers on GET, and its bundle gzipped (base64 in the Lambda result).
    const html = await invoke(entry.handler as V2Handler, { method: 'GET', headers: { accept: 'text/html' } });
    expect(html.statusCode).toBe(200);
    expect(html.body).toContain('ide/app.js');
    const js = await invoke(entry.handler as V2Handler, {
      method: 'GET',
      path: '/ide/app.js',
      headers: { 'accept-encoding': 'gzip, br' },
    });
    expect(js.statusCode).toBe(200);
    expect(js.isBase64Encoded).toBe(true);
    expect(js.headers?.['content-encoding']).toBe('gzip');
    expect(Buffer.from(js.body!, 'base64').length).toBeLessThan(6 * 1024 * 1024 * 0.75);
    // Five invocations later: still the one provider, and its one load.
    expect(created).toHaveBeenCalledTimes(1);
    expect(loadsStarted).toBe(1);
  } finally {
    created.mockRestore();
    process.env = saved;
  }
});
