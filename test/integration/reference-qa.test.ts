/**
 * Fidelity to the reference: the 120 cases of test/fixtures/reference-qa (a DistilBERT exported by
 * PyTorch, not by this project's generator) compared with what transformers v4.53's pipeline
 * answers (fp32 and int8), as the fixture's README says: text, start and end exactly, score within
 * 1e-4 relative. Each case is answered by the engine directly (alone, then all 120 in one call),
 * and through the Lambda handler with production limits, one request per case, with the request
 * core, the work budget and the fair scheduler in the path. Every case fits the default work
 * budget (the longest needs 30 windows of 64).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { QuestionAnswerer } from '../../src/model/question-answerer';
import { createApi, type Api } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { fixedModel } from '../api/helpers/engines';
import { gql, lambdaTransport, type Transport } from '../hardening/helpers/transports';
import {
  ANSWER_MANY_QUERY,
  REFERENCE_MODEL_DIR,
  answerInput,
  compareAnswers,
  engineInput,
  referenceCases,
  referenceExpected,
  type Precision,
} from '../helpers/reference-qa';

const FILES: Record<Precision, string> = { fp32: 'onnx/model.onnx', int8: 'onnx/model_quantized.onnx' };

describe.each(['fp32', 'int8'] as const)('reference cases, %s', (precision) => {
  let engine: QuestionAnswerer;
  let api: Api;
  let transport: Transport;
  beforeAll(async () => {
    engine = await QuestionAnswerer.create({
      model: path.join(REFERENCE_MODEL_DIR, FILES[precision]),
      tokenizerJson: readFileSync(path.join(REFERENCE_MODEL_DIR, 'tokenizer.json'), 'utf8'),
      config: JSON.parse(readFileSync(path.join(REFERENCE_MODEL_DIR, 'config.json'), 'utf8')),
      intraOpNumThreads: 1,
    });
    // Four long cases have 20,481 to 25,268 characters of context, over the default per-context
    // limit (a character bound, not the model's cost); the work budget stays at its default.
    const limits = { maxContextLength: 30_000 };
    api = createApi({
      config: apiConfig({ production: true, ide: false, introspection: false, limits }),
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

  test('the engine, one case per call, gives every answer of the reference pipeline', async () => {
    const expected = referenceExpected(precision);
    const cases = referenceCases();
    expect(cases).toHaveLength(120);
    const mismatches: string[] = [];
    for (const c of cases) {
      const problem = compareAnswers(
        expected.get(c.id)!.answers,
        await engine.answer(engineInput(c)),
        expected.get(c.id)!.flags,
      );
      if (problem) mismatches.push(`${c.id}: ${problem}`);
    }
    expect(mismatches).toEqual([]);
  });

  test('the engine, all 120 cases in one answerMany call, gives the same answers', async () => {
    const expected = referenceExpected(precision);
    const cases = referenceCases();
    const results = await engine.answerMany(cases.map(engineInput));
    expect(results).toHaveLength(cases.length);
    const mismatches: string[] = [];
    cases.forEach((c, i) => {
      const r = results[i]!;
      const problem =
        r instanceof Error
          ? `${r.name} ${r.message}`
          : compareAnswers(expected.get(c.id)!.answers, r, expected.get(c.id)!.flags);
      if (problem) mismatches.push(`${c.id}: ${problem}`);
    });
    expect(mismatches).toEqual([]);
  });

  test("through the Lambda handler with the budget on, every answer is the reference pipeline's, and the windows run are those the cases need", async () => {
    const expected = referenceExpected(precision);
    const cases = referenceCases();
    expect(cases).toHaveLength(120);
    const mismatches: string[] = [];
    const before = engine.windowsRun;
    for (const c of cases) {
      const res = await transport(gql(ANSWER_MANY_QUERY, { inputs: [answerInput(c)] }));
      expect(res.status).toBe(200);
      const [result] = res.json.data.answerMany;
      if (result.error) {
        mismatches.push(`${c.id}: ${result.error.code} ${result.error.message}`);
        continue;
      }
      const problem = compareAnswers(expected.get(c.id)!.answers, result.answers, expected.get(c.id)!.flags);
      if (problem) mismatches.push(`${c.id}: ${problem}`);
    }
    expect(mismatches).toEqual([]);
    // Long cases made many windows, and none was refused: the budget did not change any answer.
    expect(engine.windowsRun - before).toBeGreaterThan(cases.length);
  });
});
