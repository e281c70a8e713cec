/**
 * One failing ONNX window fails its own input, not the whole request: the real engine (the tiny
 * generated DistilBERT, onnxruntime and tokenizers) with its session patched to throw on one
 * specific window, the second window of the inputs asking POISONED. The other inputs of the same
 * call or request get exactly the answers they get when asked on their own, computed beforehand on
 * the unpatched engine.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ensureTestModel } from '../../scripts/model-generator';
import { loadModel } from '../../src/model/loading/load-model';
import { InferenceError } from '../../src/model/errors';
import { QATokenizer } from '../../src/model/tokenizer';
import type { QAEngine } from '../../src/model/engine';
import type { Answer, QAInput } from '../../src/model/types';
import { createApi } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import type { LogEntry } from '../../src/server/request-log';
import { fixedModel } from '../api/helpers/engines';
import { gql, lambdaTransport, trackProcessFailures } from './helpers/transports';

const checkProcess = trackProcessFailures();
const POISONED = 'Which river flows past the tower?';
const CONTEXT =
  'The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It is named after the engineer ' +
  'Gustave Eiffel, whose company designed and built the tower from 1887 to 1889. Locally nicknamed "La dame de fer", it was ' +
  "constructed as the centrepiece of the 1889 World's Fair. The tower stands near the river Seine, and it was the tallest " +
  'man-made structure in the world until the Chrysler Building in New York City was finished in 1930.';
/** Small windows so that one input runs several of them. */
const SMALL = { maxSeqLength: 48, docStride: 16 };
const good: QAInput[] = [
  { question: 'Who designed the tower?', context: CONTEXT, options: { ...SMALL, topK: 2 } },
  { question: 'When was it finished?', context: 'The bridge was finished in 1932 after six years of work.' },
  { question: 'What is its nickname?', context: CONTEXT, options: { ...SMALL } },
];
const poisoned: QAInput = { question: POISONED, context: CONTEXT, options: { ...SMALL } };

let engine: QAEngine;
let poisonIds: number[];
/** Each input's answers asked on its own, before any fault is injected: the expected values. */
let alone: Answer[][];
/** Windows of the poisoned question seen by the session, and which of them throws (1-based). */
let poisonedSeen = 0;
let throwOn: number | null = null;
/** Called just before the poisoned window throws (to abort the call in one test). */
let beforeThrow: () => void = () => undefined;

type Session = {
  run: (feeds: Record<string, { data: ArrayLike<number | bigint> }>, ...rest: unknown[]) => Promise<unknown>;
};

beforeAll(async () => {
  const dir = await ensureTestModel({ size: 'tiny', variant: 'distilbert' });
  engine = (
    await loadModel(dir, {
      preferQuantized: true,
      read: { idleTimeoutMs: 5_000, totalTimeoutMs: 30_000, maxInMemoryBytes: 1 << 30, spillDir: '/tmp' },
    })
  ).engine;
  const tokenizer = QATokenizer.fromJson(await readFile(path.join(dir, 'tokenizer.json'), 'utf8'));
  poisonIds = (await tokenizer.encode(POISONED)).ids;
  alone = [];
  for (const input of good) alone.push(await engine.answer(input));
  // The session the engine really runs, patched: the window whose input_ids start with
  // [CLS] + the poisoned question, the `throwOn`-th such, fails as onnxruntime fails.
  const session = (engine as unknown as { model: { session: Session } }).model.session;
  const run = session.run.bind(session);
  session.run = async (feeds, ...rest) => {
    const ids = Array.from(feeds.input_ids!.data, Number);
    if (poisonIds.every((id, i) => ids[i + 1] === id)) {
      poisonedSeen += 1;
      if (poisonedSeen === throwOn) {
        beforeThrow();
        throw new Error(
          "Non-zero status code returned while running MatMul node. Name:'/layer.0/attention/q_lin/MatMul'",
        );
      }
    }
    return run(feeds, ...rest);
  };
});

afterAll(() => checkProcess());

function arm(window: number): void {
  poisonedSeen = 0;
  throwOn = window;
  beforeThrow = () => undefined;
}

describe('the engine: an InferenceError on one window goes into that input’s slot', () => {
  it('the other inputs of the call get exactly their answers asked alone', async () => {
    arm(2);
    const results = await engine.answerMany([good[0]!, poisoned, good[1]!, good[2]!]);
    // The poisoned input has several windows: the second one threw, and nothing more of it ran.
    expect(poisonedSeen).toBe(2);
    expect(results[1]).toBeInstanceOf(InferenceError);
    expect((results[1] as Error).message).toBe('onnxruntime failed on a window of 48 tokens');
    expect(((results[1] as Error).cause as Error).message).toMatch(
      /^Non-zero status code returned while running MatMul/,
    );
    expect([results[0], results[2], results[3]]).toEqual(alone);
    expect(alone.every((a) => a.length > 0)).toBe(true);
    // And once the fault is gone, the poisoned input is answered again.
    throwOn = null;
    await expect(engine.answer(poisoned)).resolves.toEqual(
      expect.arrayContaining([expect.objectContaining({ text: expect.any(String) })]),
    );
  });

  it("a stop during the failing window gives that input the stop's reason; inputs that finished keep their answers", async () => {
    arm(1);
    const controller = new AbortController();
    const stop = new Error('the request deadline passed');
    beforeThrow = () => controller.abort(stop);
    // Partial success at the deadline: the good inputs are cheaper (fewer windows), so they ran first.
    const results = await engine.answerMany([good[0]!, poisoned, good[1]!], { signal: controller.signal });
    expect(results[1]).toBe(stop);
    expect([results[0], results[2]]).toEqual([await engine.answer(good[0]!), await engine.answer(good[1]!)]);
  });
});

/** The engine's input as GraphQL's AnswerInput: `topK` beside the options, not in them. */
function asAnswerInput({ question, context, options }: QAInput) {
  const { topK, ...rest } = options ?? {};
  return { question, context, topK: topK ?? 1, options: rest };
}

describe('through the API', () => {
  const seen: LogEntry[] = [];
  const transport = () =>
    lambdaTransport(
      createApi({
        config: apiConfig({ production: true, introspection: false, ide: false }),
        provider: fixedModel(engine),
        ideAssetsDir: null,
        logSink: (e) => void seen.push(e),
      }),
    );
  const QUERY = `query Q($p: String!, $c: String!, $opts: AnswerOptions, $inputs: [AnswerInput!]!) {
    bad: answer(question: $p, context: $c, options: $opts) { text start end score }
    fine: answers(question: "${good[1]!.question}", context: "${good[1]!.context}", topK: 1) { text start end score }
    many: answerMany(inputs: $inputs) { answers { text start end score } error { code message field } }
  }`;
  const variables = {
    p: POISONED,
    c: CONTEXT,
    opts: SMALL,
    inputs: [good[0]!, poisoned, good[2]!].map(asAnswerInput),
  };

  it('answer fails its field (masked INTERNAL_SERVER_ERROR), answerMany its input; the rest is answered, HTTP 200, logged with stack and request id', async () => {
    arm(2);
    seen.length = 0;
    const res = await transport()(gql(QUERY, variables));
    // The poisoned window is shared by `bad` and `many`'s second input (the same window runs once).
    expect(poisonedSeen).toBe(2);
    expect(res.status).toBe(200);
    expect(res.json.errors).toEqual([
      {
        message: 'Internal server error',
        path: ['bad'],
        locations: expect.any(Array),
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      },
    ]);
    expect(res.json.data.bad).toBeNull();
    expect(res.json.data.fine).toEqual(alone[1]);
    expect(res.json.data.many).toEqual([
      { answers: alone[0], error: null },
      { answers: null, error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error', field: null } },
      { answers: alone[2], error: null },
    ]);
    expect(res.text).not.toMatch(/MatMul|onnxruntime/);
    const requestId = res.headers['x-request-id'];
    expect(requestId).toBeTruthy();
    const internal = seen.filter((e) => e.msg === 'internal error');
    expect(internal).toHaveLength(2);
    expect(internal.map((e) => e.path)).toEqual(expect.arrayContaining([['bad'], ['many', 1]]));
    for (const e of internal) {
      // `bad` is logged by the request-log plugin (its GraphQLError, which carries the original's
      // stack), `many`'s input by the answerMany resolver (the InferenceError itself).
      expect(e).toMatchObject({ level: 'error', requestId, message: 'onnxruntime failed on a window of 48 tokens' });
      expect(e.stack).toMatch(/^InferenceError: onnxruntime failed[\s\S]*onnx-model/);
    }
    expect(internal.find((e) => (e.path as unknown[])[0] === 'many')).toMatchObject({
      error: 'InferenceError',
      cause: expect.stringMatching(/^Non-zero status code/),
    });
  });

  it('HTTP 500 only when every root field failed', async () => {
    arm(1);
    const res = await transport()(
      gql(
        'query Q($p: String!, $c: String!, $opts: AnswerOptions) { answer(question: $p, context: $c, options: $opts) { text } }',
        { p: POISONED, c: CONTEXT, opts: SMALL },
      ),
    );
    expect(res.status).toBe(500);
    expect(res.json.errors).toEqual([
      {
        message: 'Internal server error',
        path: ['answer'],
        locations: expect.any(Array),
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      },
    ]);
  });
});
