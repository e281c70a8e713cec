/**
 * The response-bytes budget, through the Lambda handler on a production configuration and the real
 * engine (tiny DistilBERT): a request that could buy a large body with little model work is refused
 * with RESPONSE_TOO_LARGE before any work, and whatever else would write more than the limit is
 * refused when the response is written. Never a large body, never one Lambda cannot return.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createApi, type Api } from '../../src/server/api';
import { apiConfig, DEFAULT_LIMITS, LAMBDA_RESPONSE_PAYLOAD_BYTES, type ApiLimits } from '../../src/server/config';
import { DEADLINE_GRACE_MS } from '../../src/server/request-core';
import { statusOf } from '../../src/api/errors';
import type { QAEngine } from '../../src/model/engine';
import { fixedModel, loadTinyModel } from '../api/helpers/engines';
import { controlWords, outputAttack } from './helpers/output-attacks';
import { gql, lambdaTransport, trackProcessFailures, type Res } from './helpers/transports';

const checkProcess = trackProcessFailures();
let engine: QAEngine;
const apis: Api[] = [];

function api(limits: Partial<ApiLimits> = {}): Api {
  const created = createApi({
    config: apiConfig({ production: true, introspection: false, ide: false, limits }),
    provider: fixedModel(engine),
    ideAssetsDir: null,
    logSink: () => undefined,
  });
  apis.push(created);
  return created;
}

function errorsOf(res: Res): any[] {
  return (Array.isArray(res.json) ? res.json.flatMap((r: any) => r.errors ?? []) : res.json?.errors) ?? [];
}

beforeAll(async () => {
  engine = (await loadTinyModel()).engine;
});

afterAll(async () => {
  for (const created of apis) await created.server.stop();
  checkProcess();
});

describe('the response budget', () => {
  test("its default leaves room in Lambda's 6 MB payload for the body escaped as a JSON string (2×) and the headers", () => {
    expect(2 * DEFAULT_LIMITS.maxResponseBytes).toBeLessThan(LAMBDA_RESPONSE_PAYLOAD_BYTES);
    expect(DEFAULT_LIMITS.maxResponseBytes).toBeGreaterThan(LAMBDA_RESPONSE_PAYLOAD_BYTES / 3);
  });

  // A batch of 5 × answers(topK 20, maxAnswerLength 512) { t0: text … t48: text } over ~20,000
  // characters of 200-character words (a letter and control characters, which JSON writes 6× and
  // the tokenizer drops): one window of work, a response of hundreds of megabytes unless refused.
  test.each([
    ['control characters', controlWords(99)],
    ['plain ASCII filler', controlWords(99, 200, 'x')],
  ])(
    "the issue's output attack (%s) is refused with RESPONSE_TOO_LARGE before any work, within the deadline",
    async (_name, context) => {
      expect(context.length).toBeLessThanOrEqual(DEFAULT_LIMITS.maxContextLength);
      const timeLimitMs = 3_000;
      const transport = lambdaTransport(api({ requestTimeoutMs: timeLimitMs }));
      const before = engine.windowsRun!;
      const started = Date.now();
      const res = await transport(outputAttack(context));
      const elapsed = Date.now() - started;
      expect(res.status).toBe(statusOf('RESPONSE_TOO_LARGE'));
      expect(res.text.length).toBeLessThan(64 * 1024);
      expect(Array.isArray(res.json)).toBe(true);
      const errors = errorsOf(res);
      expect(errors).toHaveLength(5);
      for (const error of errors) {
        expect(error.extensions.code).toBe('RESPONSE_TOO_LARGE');
        // Named as the client wrote it, with what to change.
        expect(error.message).toMatch(/^answers could return up to \d+ bytes \(topK 20 × 49 `text` selection\(s\)/);
        expect(error.message).toMatch(/Lower topK/);
      }
      expect(engine.windowsRun! - before).toBe(0);
      expect(elapsed).toBeLessThan(timeLimitMs + DEADLINE_GRACE_MS);
    },
  );

  test('an answer field that fits is answered; the next one, over what is left, is refused by name (partial success)', async () => {
    const context = controlWords(20, 100, 'x'); // ~2,000 bytes as JSON
    const transport = lambdaTransport(api({ maxResponseBytes: 64 * 1024 }));
    const field = (alias: string) =>
      `${alias}: answers(question: "What?", context: $c, topK: 20, options: { maxAnswerLength: 512 }) { text start }`;
    const res = await transport(gql(`query($c: String!) { ${field('small')} ${field('again')} }`, { c: context }));
    expect(res.status).toBe(200);
    expect(res.json.data.small.length).toBeGreaterThan(0);
    expect(res.json.data.again).toBeNull();
    expect(errorsOf(res).map((e) => [e.path, e.extensions.code])).toEqual([[['again'], 'RESPONSE_TOO_LARGE']]);
    expect(Buffer.byteLength(res.text)).toBeLessThanOrEqual(64 * 1024);
  });

  test('answerMany: an input over the budget gets its own RESPONSE_TOO_LARGE error; the others are answered', async () => {
    const transport = lambdaTransport(api({ maxResponseBytes: 16 * 1024 }));
    const inputs = [
      { question: 'Who?', context: 'Ada wrote the first program.' },
      { question: 'What?', context: controlWords(40), topK: 20 },
      { question: 'Where?', context: 'The tower stands in Paris.' },
    ];
    const res = await transport(
      gql('query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } error { code field } } }', {
        i: inputs,
      }),
    );
    expect(res.status).toBe(200);
    const results = res.json.data.answerMany;
    expect(results[0].answers.length).toBe(1);
    expect(results[1]).toEqual({ answers: null, error: { code: 'RESPONSE_TOO_LARGE', field: 'inputs[1].topK' } });
    expect(results[2].answers.length).toBe(1);
  });

  test('what the answer bounds do not count is refused when the response is written', async () => {
    const transport = lambdaTransport(api({ maxResponseBytes: 4 * 1024 }));
    const aliases = Array.from({ length: 50 }, (_, i) => `${'a'.repeat(100)}${i}: __typename`).join(' ');
    const res = await transport(gql(`{ ${aliases} }`));
    expect(res.status).toBe(statusOf('RESPONSE_TOO_LARGE'));
    expect(errorsOf(res).map((e) => e.extensions.code)).toEqual(['RESPONSE_TOO_LARGE']);
    expect(errorsOf(res)[0].message).toMatch(/^The response would be \d+ bytes; the limit is 4096\./);
    // The same request within the limit is answered.
    const fits = await lambdaTransport(api())(gql(`{ ${aliases} }`));
    expect(fits.status).toBe(200);
  });

  test('a legitimate request with a long context and topK 20 fits the default', async () => {
    const context = 'The quick brown fox jumps over the lazy dog near the river bank. '.repeat(60);
    const res = await lambdaTransport(api())(
      gql('query($c: String!) { answers(question: "Who jumps?", context: $c, topK: 20) { text score start end } }', {
        c: context,
      }),
    );
    expect(res.status).toBe(200);
    expect(res.json.data.answers.length).toBeGreaterThan(1);
  });
});
