/**
 * The Hub's extractive-QA families: each fixture of test/fixtures/families (a RoBERTa with
 * byte-level BPE, an XLM-R with a SentencePiece Unigram tokenizer, a DeBERTa-v3-style model with
 * SentencePiece and token_type_ids; made outside this project) answers every case as transformers
 * v4.53's pipeline does (expected answers computed outside the engine), fp32 and int8: through the
 * engine, one case per call and all cases in one call, and through the Lambda handler with
 * production limits (GraphQL, the request core, the work budget).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { QuestionAnswerer } from '../../src/model/question-answerer';
import { createApi, type Api } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { fixedModel } from '../api/helpers/engines';
import { gql, lambdaTransport, type Transport } from '../hardening/helpers/transports';
import { FAMILIES, familyCases, familyExpected, familySource } from '../helpers/families';
import { ANSWER_MANY_QUERY, answerInput, compareAnswers, engineInput } from '../helpers/reference-qa';

const CASES = familyCases();

describe.each(FAMILIES.flatMap((f) => (['fp32', 'int8'] as const).map((precision) => [f.name, precision] as const)))(
  '%s, %s',
  (family, precision) => {
    let engine: QuestionAnswerer;
    let api: Api;
    let transport: Transport;
    const expected = familyExpected(family, precision);
    beforeAll(async () => {
      engine = await QuestionAnswerer.create(familySource(family, precision));
      api = createApi({
        config: apiConfig({ production: true, ide: false, introspection: false }),
        provider: fixedModel(engine),
        ideAssetsDir: null,
        logSink: () => undefined,
      });
      transport = lambdaTransport(api);
    });
    afterAll(async () => {
      await api?.server.stop();
      await engine?.dispose();
    });

    test('the cases cover several windows, no answer, word alignment off, double spaces and Unicode', () => {
      const results = [...expected.values()];
      expect(results).toHaveLength(CASES.length);
      expect(results.filter((r) => r.windows > 1).length).toBeGreaterThanOrEqual(10);
      expect(CASES.some((c) => c.handle_impossible_answer)).toBe(true);
      expect(CASES.some((c) => c.align_to_words === false)).toBe(true);
      expect(CASES.some((c) => c.context.includes('  '))).toBe(true);
      expect(CASES.some((c) => /[\u{10000}-\u{10FFFF}]/u.test(c.context))).toBe(true);
    });

    test('the engine, one case per call, gives every answer of the reference pipeline', async () => {
      const mismatches: string[] = [];
      const before = engine.windowsRun;
      for (const c of CASES) {
        const e = expected.get(c.id)!;
        const problem = compareAnswers(e.answers, await engine.answer(engineInput(c)), e.flags);
        if (problem) mismatches.push(`${c.id}: ${problem}`);
      }
      expect(mismatches).toEqual([]);
      // The same windows as the reference cut: no more, no fewer.
      expect(engine.windowsRun - before).toBe([...expected.values()].reduce((n, r) => n + r.windows, 0));
    });

    test('the engine, all cases in one answerMany call, gives the same answers', async () => {
      const results = await engine.answerMany(CASES.map(engineInput));
      const mismatches: string[] = [];
      CASES.forEach((c, i) => {
        const r = results[i]!;
        const e = expected.get(c.id)!;
        const problem = r instanceof Error ? `${r.name} ${r.message}` : compareAnswers(e.answers, r, e.flags);
        if (problem) mismatches.push(`${c.id}: ${problem}`);
      });
      expect(mismatches).toEqual([]);
    });

    test("through GraphQL (the Lambda handler, production limits), every answer is the reference pipeline's", async () => {
      const mismatches: string[] = [];
      for (const c of CASES) {
        const res = await transport(gql(ANSWER_MANY_QUERY, { inputs: [answerInput(c)] }));
        expect(res.status).toBe(200);
        const [result] = res.json.data.answerMany;
        const e = expected.get(c.id)!;
        const problem = result.error
          ? `${result.error.code} ${result.error.message}`
          : compareAnswers(e.answers, result.answers, e.flags);
        if (problem) mismatches.push(`${c.id}: ${problem}`);
      }
      expect(mismatches).toEqual([]);
    });
  },
);

describe("RoBERTa's positions start after the padding index (514 position embeddings hold 512 tokens)", () => {
  let engine: QuestionAnswerer;
  beforeAll(async () => {
    engine = await QuestionAnswerer.create(familySource('roberta', 'fp32'));
  });
  afterAll(async () => {
    await engine?.dispose();
  });

  test('maxSeqLength 512 runs full windows; 513 is refused as an option out of range, not a failed window', async () => {
    const long = CASES.find((c) => c.id === 'pub-long-001')!;
    const answers = await engine.answer({
      question: long.question,
      context: long.context,
      options: { maxSeqLength: 512 },
    });
    expect(answers).toHaveLength(1);
    expect(long.context.slice(answers[0]!.start, answers[0]!.end)).toBe(answers[0]!.text);
    await expect(
      engine.answer({ question: long.question, context: long.context, options: { maxSeqLength: 513 } }),
    ).rejects.toMatchObject({
      name: 'QAInputError',
      field: 'maxSeqLength',
      message: 'maxSeqLength must be an integer from 6 to 512 (got 513)',
    });
  });
});
