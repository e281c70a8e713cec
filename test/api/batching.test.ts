/**
 * Every answer request of one HTTP request reaches the engine as ONE answerMany call: 20
 * aliased `answer` fields, `answerMany` with 20 inputs, and a 5-operation HTTP batch — with
 * answers equal to those of separate requests. Runs the real engine on the tiny model.
 */
import { createApi, type Api } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { createApiLambdaHandler } from '../../src/server/lambda';
import { listen, type RunningServer } from '../../src/local-server';
import { CountingEngine, fixedModel, loadTinyModel, sampleInputs } from './helpers/engines';
import { invoke, jsonOf, type V2Handler } from './helpers/lambda-events';

const json = { 'content-type': 'application/json' };
const FIELDS = 'text score start end';

let engine: CountingEngine;
let api: Api;
let handler: V2Handler;
let local: RunningServer;

beforeAll(async () => {
  const tiny = await loadTinyModel();
  engine = new CountingEngine(tiny.engine);
  api = createApi({ config: apiConfig(), provider: fixedModel(engine, tiny.info), ideAssetsDir: null });
  handler = createApiLambdaHandler(api) as unknown as V2Handler;
  local = await listen(
    createApi({ config: apiConfig(), provider: fixedModel(engine, tiny.info), ideAssetsDir: null }),
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
beforeEach(() => engine.reset());

async function post(body: unknown): Promise<{ status: number; json: any }> {
  const result = await invoke(handler, { headers: json, body: JSON.stringify(body) });
  return { status: result.statusCode ?? 200, json: jsonOf(result) };
}

/** One separate request per input: the reference the batched answers must equal. */
async function separately(inputs: Array<{ question: string; context: string }>, topK = 1) {
  const out = [];
  for (const input of inputs) {
    const res = await post({
      query: `query($q: String!, $c: String!, $k: Int!) { answers(question: $q, context: $c, topK: $k) { ${FIELDS} } }`,
      variables: { q: input.question, c: input.context, k: topK },
    });
    expect(res.status).toBe(200);
    out.push(res.json.data.answers);
  }
  engine.reset();
  return out;
}

test('20 aliased answer fields reach the engine in one answerMany call', async () => {
  const inputs = sampleInputs(20);
  const reference = await separately(inputs);
  const query = `{ ${inputs
    .map(
      (input, i) =>
        `a${i}: answer(question: ${JSON.stringify(input.question)}, context: ${JSON.stringify(input.context)}) { ${FIELDS} }`,
    )
    .join('\n')} }`;
  const res = await post({ query });
  expect(res.status).toBe(200);
  expect(res.json.errors).toBeUndefined();
  expect(engine.calls).toEqual([20]);
  inputs.forEach((_, i) => expect(res.json.data[`a${i}`]).toEqual(reference[i]![0]));
});

test('answerMany with 20 inputs reaches the engine in one call, results in order', async () => {
  const inputs = sampleInputs(20);
  const reference = await separately(inputs, 2);
  const res = await post({
    query: `query($inputs: [AnswerInput!]!) { answerMany(inputs: $inputs) { answers { ${FIELDS} } error { code } } }`,
    variables: { inputs: inputs.map((input) => ({ ...input, topK: 2 })) },
  });
  expect(res.status).toBe(200);
  expect(engine.calls).toEqual([20]);
  expect(res.json.data.answerMany).toEqual(reference.map((answers) => ({ answers, error: null })));
});

test('a 5-operation HTTP batch reaches the engine in one call (Lambda and local server)', async () => {
  const inputs = sampleInputs(10);
  const reference = await separately(inputs);
  // Different operation shapes, so each takes its own path through Apollo's pipeline.
  const batch = [
    {
      query: `{ answer(question: ${JSON.stringify(inputs[0]!.question)}, context: ${JSON.stringify(inputs[0]!.context)}) { ${FIELDS} } }`,
    },
    {
      query: `query Two($q: String!, $c: String!) { answers(question: $q, context: $c, topK: 1) { ${FIELDS} } }`,
      variables: { q: inputs[1]!.question, c: inputs[1]!.context },
    },
    {
      query: `query Many($inputs: [AnswerInput!]!) { answerMany(inputs: $inputs) { answers { ${FIELDS} } } }`,
      variables: { inputs: inputs.slice(2, 6) },
    },
    {
      query: `query Aliased { x: answer(question: ${JSON.stringify(inputs[6]!.question)}, context: ${JSON.stringify(inputs[6]!.context)}) { ${FIELDS} } y: answer(question: ${JSON.stringify(inputs[7]!.question)}, context: ${JSON.stringify(inputs[7]!.context)}) { ${FIELDS} } }`,
    },
    {
      query: `query Last($q: String!, $c: String!, $q2: String!, $c2: String!) { answer(question: $q, context: $c) { ${FIELDS} } health { ready } z: answer(question: $q2, context: $c2) { ${FIELDS} } }`,
      variables: { q: inputs[8]!.question, c: inputs[8]!.context, q2: inputs[9]!.question, c2: inputs[9]!.context },
    },
  ];
  const check = (body: any[]) => {
    expect(body).toHaveLength(5);
    expect(body[0].data.answer).toEqual(reference[0]![0]);
    expect(body[1].data.answers).toEqual(reference[1]);
    expect(body[2].data.answerMany.map((r: any) => r.answers)).toEqual(reference.slice(2, 6));
    expect(body[3].data).toEqual({ x: reference[6]![0], y: reference[7]![0] });
    expect(body[4].data).toEqual({ answer: reference[8]![0], health: { ready: true }, z: reference[9]![0] });
  };

  const res = await post(batch);
  expect(res.status).toBe(200);
  expect(engine.calls).toEqual([10]);
  check(res.json);

  engine.reset();
  const viaLocal = await fetch(local.url, { method: 'POST', headers: json, body: JSON.stringify(batch) });
  expect(viaLocal.status).toBe(200);
  expect(engine.calls).toEqual([10]);
  check((await viaLocal.json()) as any[]);
});

test('direct execution (executeOperation) batches aliases too', async () => {
  const inputs = sampleInputs(3);
  const reference = await separately(inputs);
  const query = `{ ${inputs
    .map(
      (input, i) =>
        `a${i}: answer(question: ${JSON.stringify(input.question)}, context: ${JSON.stringify(input.context)}) { ${FIELDS} }`,
    )
    .join('\n')} }`;
  const response = await api.server.executeOperation({ query }, { contextValue: await api.createContext() });
  expect(response.body.kind).toBe('single');
  const result = (response.body as any).singleResult;
  expect(engine.calls).toEqual([3]);
  inputs.forEach((_, i) => expect(result.data[`a${i}`]).toEqual(reference[i]![0]));
});

test('separate HTTP requests do not share a batch (one DataLoader per request)', async () => {
  const [a, b] = sampleInputs(2);
  await Promise.all(
    [a!, b!].map((input) =>
      post({
        query: `query($q: String!, $c: String!) { answer(question: $q, context: $c) { text } }`,
        variables: { q: input.question, c: input.context },
      }),
    ),
  );
  expect(engine.calls).toEqual([1, 1]);
});
