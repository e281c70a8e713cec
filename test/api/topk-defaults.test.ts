/**
 * topK's defaults live in the schema alone (schema/schema.graphql); the resolvers take what
 * graphql-js's coercion fills in. These are README's documented defaults, read from README itself,
 * checked against what reaches the engine and what the client gets.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createApi, type Api } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import type { QAEngine } from '../../src/model/engine';
import type { Answer, QAInput } from '../../src/model/types';
import { fixedModel } from './helpers/engines';

/** README: "`topK` defaults: `answer` returns 1 (no argument), `answers` 3, each `answerMany` input 1." */
function documentedDefaults(): { answer: number; answers: number; answerMany: number } {
  const readme = readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
  const m = /`topK` defaults: `answer` returns (\d+)[^,]*, `answers` (\d+), each `answerMany` input (\d+)\./.exec(
    readme,
  );
  if (!m) throw new Error("README no longer states topK's defaults in the expected sentence");
  return { answer: Number(m[1]), answers: Number(m[2]), answerMany: Number(m[3]) };
}

/** An engine with more candidate spans than any default asks for; records each input's topK. */
class RecordingEngine implements QAEngine {
  readonly topKs: number[] = [];
  readonly description = {
    inputNames: ['input_ids', 'attention_mask'],
    outputNames: ['start_logits', 'end_logits'],
    usesTokenTypeIds: false,
    maxPositionEmbeddings: 512,
  };
  async answer(input: QAInput): Promise<Answer[]> {
    return (await this.answerMany([input]))[0] as Answer[];
  }
  async answerMany(inputs: readonly QAInput[]): Promise<Array<Answer[] | Error>> {
    return inputs.map((input) => {
      const topK = input.options?.topK as number;
      this.topKs.push(topK);
      return Array.from({ length: Math.min(topK, 10) }, (_, i) => ({
        text: input.context.slice(i, i + 1),
        score: 1 / (i + 2),
        start: i,
        end: i + 1,
      }));
    });
  }
}

let engine: RecordingEngine;
let api: Api;
beforeEach(() => {
  engine = new RecordingEngine();
  api = createApi({ config: apiConfig(), provider: fixedModel(engine), ideAssetsDir: null });
});
afterEach(() => api.server.stop());

async function run(query: string): Promise<Record<string, unknown>> {
  const res = await api.server.executeOperation({ query }, { contextValue: await api.createContext() });
  if (res.body.kind !== 'single') throw new Error('expected a single result');
  expect(res.body.singleResult.errors).toBeUndefined();
  return res.body.singleResult.data as Record<string, unknown>;
}

const ARGS = 'question: "Which?", context: "abcdefghijklmnop"';

test('answers without topK: the documented default reaches the engine and the client', async () => {
  const data = await run(`{ answers(${ARGS}) { text } }`);
  const want = documentedDefaults().answers;
  expect(engine.topKs).toEqual([want]);
  expect(data.answers).toHaveLength(want);
});

test('answerMany inputs without topK: the documented default, each', async () => {
  const data = await run(`{ answerMany(inputs: [{ ${ARGS} }, { ${ARGS}, topK: 4 }]) { answers { text } } }`);
  const want = documentedDefaults().answerMany;
  expect(engine.topKs).toEqual([want, 4]);
  expect((data.answerMany as Array<{ answers: unknown[] }>).map((r) => r.answers.length)).toEqual([want, 4]);
});

test('answer: the best one', async () => {
  const data = await run(`{ answer(${ARGS}) { text } }`);
  expect(engine.topKs).toEqual([documentedDefaults().answer]);
  expect(data.answer).toEqual({ text: 'a' });
});

test('an explicit null topK is refused by the schema (non-null with a default), never defaulted by a resolver', async () => {
  const res = await api.server.executeOperation(
    { query: `{ answers(${ARGS}, topK: null) { text } }` },
    { contextValue: await api.createContext() },
  );
  expect(res.body.kind === 'single' && res.body.singleResult.errors?.[0]?.extensions?.code).toBe(
    'GRAPHQL_VALIDATION_FAILED',
  );
  expect(engine.topKs).toEqual([]);
});
