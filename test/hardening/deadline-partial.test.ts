/**
 * Partial success at the deadline: when a request's time runs out, the answers that finished keep
 * their data and only the unfinished fields get DEADLINE_EXCEEDED (the real engine on the tiny
 * model, through the Lambda handler). A cheap answer beside a maximal one is never thrown away.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createApi, type Api } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { DEADLINE_GRACE_MS } from '../../src/server/request-core';
import type { QAEngine } from '../../src/model/engine';
import { fixedModel, loadTinyModel } from '../api/helpers/engines';
import { punctuation } from './helpers/cost-attacks';
import { JSON_HEADERS, gql, lambdaTransport, trackProcessFailures, type Req } from './helpers/transports';

const checkProcess = trackProcessFailures();
const TIME_LIMIT_MS = 1_000;
/** Late timers and a window in progress on a busy 2-core machine. */
const SLACK_MS = 2_000;
let engine: QAEngine;
let api: Api;

const CHEAP = { q: 'Where is the tower?', c: 'The tower stands in Paris.' };
// Thousands of one-token steps: far more windows than the deadline lets run.
const MAXIMAL = { q: 'Where?', c: punctuation(19_000), o: { maxSeqLength: 64, docStride: 58 } };
const ANSWER =
  'query($q: String!, $c: String!, $o: AnswerOptions) { answer(question: $q, context: $c, options: $o) { text } }';

function batch(...ops: Array<Record<string, unknown>>): Req {
  return { headers: JSON_HEADERS, body: JSON.stringify(ops.map((variables) => ({ query: ANSWER, variables }))) };
}

beforeAll(async () => {
  engine = (await loadTinyModel()).engine;
  // A window budget large enough that the maximal input is stopped by the deadline, not refused.
  api = createApi({
    config: apiConfig({
      production: true,
      introspection: false,
      ide: false,
      limits: { requestTimeoutMs: TIME_LIMIT_MS, maxRequestWindows: 100_000 },
    }),
    provider: fixedModel(engine),
    ideAssetsDir: null,
    logSink: () => undefined,
  });
});

afterAll(async () => {
  await api.server.stop();
  checkProcess();
});

describe('at the deadline, finished answers keep their data', () => {
  test.each([
    ['[cheap, maximal]', [CHEAP, MAXIMAL], 0],
    ['[maximal, cheap]', [MAXIMAL, CHEAP], 1],
  ])(
    'an HTTP batch %s returns the cheap answer and DEADLINE_EXCEEDED for the maximal one only',
    async (_name, ops, cheapAt) => {
      const started = Date.now();
      const res = await lambdaTransport(api)(batch(...ops));
      const elapsed = Date.now() - started;
      expect(Array.isArray(res.json)).toBe(true);
      const cheap = res.json[cheapAt];
      const maximal = res.json[1 - cheapAt];
      expect(cheap.errors).toBeUndefined();
      expect(typeof cheap.data.answer.text).toBe('string');
      expect(maximal.data.answer).toBeNull();
      expect(maximal.errors.map((e: any) => e.extensions.code)).toEqual(['DEADLINE_EXCEEDED']);
      expect(elapsed).toBeLessThan(TIME_LIMIT_MS + DEADLINE_GRACE_MS + SLACK_MS);
    },
  );

  test('one operation with both as aliases: HTTP 200, the cheap alias answered, the maximal one DEADLINE_EXCEEDED', async () => {
    const query =
      'query($q: String!, $c: String!, $q2: String!, $c2: String!, $o: AnswerOptions) { ' +
      'big: answer(question: $q2, context: $c2, options: $o) { text } small: answer(question: $q, context: $c) { text } }';
    const res = await lambdaTransport(api)(
      gql(query, { q: CHEAP.q, c: CHEAP.c, q2: MAXIMAL.q, c2: MAXIMAL.c, o: MAXIMAL.o }),
    );
    expect(res.status).toBe(200);
    expect(typeof res.json.data.small.text).toBe('string');
    expect(res.json.data.big).toBeNull();
    expect(res.json.errors.map((e: any) => [e.path, e.extensions.code])).toEqual([[['big'], 'DEADLINE_EXCEEDED']]);
  });

  test('alone, the maximal request still fails with 504 DEADLINE_EXCEEDED', async () => {
    const res = await lambdaTransport(api)(batch(MAXIMAL));
    expect(res.status).toBe(504);
    expect(res.json[0].errors.map((e: any) => e.extensions.code)).toEqual(['DEADLINE_EXCEEDED']);
  });
});
