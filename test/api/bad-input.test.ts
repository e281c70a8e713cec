/**
 * Bad input gets a GraphQL error with a stable code and the right HTTP status — through the
 * Lambda handler and the local server alike — and the next request succeeds.
 */
import { createApi, type Api } from '../../src/server/api';
import { apiConfig, DEFAULT_LIMITS } from '../../src/server/config';
import { listen, type RunningServer } from '../../src/local-server';
import type { LogEntry } from '../../src/server/request-log';
import {
  CONTEXT,
  JSON_HEADERS,
  gql,
  lambdaTransport,
  localTransport,
  type Req,
  type Transport,
} from '../hardening/helpers/transports';
import { FailingEngine, fixedModel, UnavailableProvider, loadTinyModel, type TinyModel } from './helpers/engines';

const answerQuery = (question: string, context: string, extra = '') =>
  gql(`query($q: String!, $c: String!) { answer(question: $q, context: $c${extra}) { text start end } }`, {
    q: question,
    c: context,
  });

function buildTransports(api: Api, local: RunningServer): Array<[string, Transport]> {
  return [
    ['lambda', lambdaTransport(api)],
    ['local', localTransport(local)],
  ];
}

const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: health { ready }`).join(' ')} }`;
// type → fields → type … : the recursion introspection allows, 3 × 12 levels deep.
const depthBomb = `{ __schema { types { ${'fields { type { ofType { '.repeat(12)} name ${'} } } '.repeat(12)} } } }`;

interface Case {
  name: string;
  req: Req;
  status: number;
  code: string;
  message?: RegExp;
  argument?: string;
}

const CASES: Case[] = [
  {
    name: 'empty question',
    req: answerQuery('  ', CONTEXT),
    status: 400,
    code: 'BAD_USER_INPUT',
    argument: 'question',
    message: /question must not be empty/,
  },
  {
    name: 'question over the limit',
    req: answerQuery('why '.repeat(300), CONTEXT),
    status: 400,
    code: 'BAD_USER_INPUT',
    argument: 'question',
    message: /limit is 1000/,
  },
  {
    name: 'context over the limit',
    req: answerQuery('Where?', 'x'.repeat(DEFAULT_LIMITS.maxContextLength + 1)),
    status: 400,
    code: 'BAD_USER_INPUT',
    argument: 'context',
    message: /limit is 20000/,
  },
  {
    name: 'topK 0',
    req: gql(`{ answers(question: "Where?", context: ${JSON.stringify(CONTEXT)}, topK: 0) { text } }`),
    status: 400,
    code: 'BAD_USER_INPUT',
    argument: 'topK',
    message: /topK must be an integer from 1 to 20, got 0/,
  },
  {
    name: 'topK huge',
    req: gql(`{ answers(question: "Where?", context: ${JSON.stringify(CONTEXT)}, topK: 2000000000) { text } }`),
    status: 400,
    code: 'BAD_USER_INPUT',
    argument: 'topK',
  },
  {
    name: 'option out of range',
    req: answerQuery('Where?', CONTEXT, ', options: { docStride: 9999 }'),
    status: 400,
    code: 'BAD_USER_INPUT',
    argument: 'options.docStride',
    message: /from 0 to 511/,
  },
  {
    name: 'options that do not fit together (checked by the engine)',
    req: answerQuery(
      'Where exactly is the famous tower standing today?',
      CONTEXT,
      ', options: { maxSeqLength: 16, docStride: 8 }',
    ),
    status: 400,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'too many answerMany inputs',
    req: gql(`query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } } }`, {
      i: Array.from({ length: 33 }, () => ({ question: 'Where?', context: CONTEXT })),
    }),
    status: 400,
    code: 'BAD_USER_INPUT',
    argument: 'inputs',
    message: /limit is 32/,
  },
  {
    // One token per character and a one-token step between windows: ~19,000 windows asked for.
    name: "an input needing more model windows than the request's budget",
    req: answerQuery('Where?', '!?'.repeat(9_500), ', options: { maxSeqLength: 512, docStride: 506 }'),
    status: 400,
    code: 'BAD_USER_INPUT',
    argument: 'context',
    message: /^answer needs 1[89],\d{3} model windows; this request may use 64\./,
  },
  // At 3+ tokens per alias the parser's token limit stops 1,000 aliases before validation runs.
  {
    name: '1,000 aliases',
    req: gql(aliases(1000)),
    status: 400,
    code: 'GRAPHQL_PARSE_FAILED',
    message: /Document contains more tha[nt] 2000 tokens/,
  },
  {
    name: '60 aliases',
    req: gql(aliases(60)),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /Aliases limit of 50 exceeded, found 60/,
  },
  {
    name: 'depth bomb',
    req: gql(depthBomb),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /Query depth limit of 24 exceeded/,
  },
  {
    name: 'too many tokens',
    req: gql(`{ health { ${'ready '.repeat(2_500)} } }`),
    status: 400,
    code: 'GRAPHQL_PARSE_FAILED',
    message: /Document contains more tha[nt] 2000 tokens/,
  },
  {
    name: 'malformed JSON',
    req: { headers: JSON_HEADERS, body: '{"query": "{ health { ready } }"' },
    status: 400,
    code: 'BAD_REQUEST',
    message: /Invalid JSON/,
  },
  {
    name: 'wrong content type (text/plain, preflighted)',
    req: {
      headers: { 'content-type': 'text/plain', 'apollo-require-preflight': 'true' },
      body: JSON.stringify({ query: '{ health { ready } }' }),
    },
    status: 400,
    code: 'BAD_REQUEST',
    message: /invalid Content-Type/,
  },
  {
    name: 'wrong content type (application/xml)',
    req: { headers: { 'content-type': 'application/xml' }, body: '<query/>' },
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'GET without the preflight header (CSRF prevention)',
    req: { method: 'GET', query: 'query=%7B%20health%20%7B%20ready%20%7D%20%7D' },
    status: 400,
    code: 'BAD_REQUEST',
    message: /CSRF/,
  },
  {
    name: 'HTTP batch over the cap',
    req: {
      headers: JSON_HEADERS,
      body: JSON.stringify(Array.from({ length: 11 }, () => ({ query: '{ health { ready } }' }))),
    },
    status: 400,
    code: 'BATCH_TOO_LARGE',
    message: /11 operations; the limit is 10/,
  },
  {
    name: 'body over the size limit',
    req: {
      headers: JSON_HEADERS,
      body: JSON.stringify({ query: '{ health { ready } }', variables: { pad: 'x'.repeat(1_100_000) } }),
    },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
];

let tiny: TinyModel;
let api: Api;
let local: RunningServer;
let transports: Array<[string, Transport]>;

beforeAll(async () => {
  tiny = await loadTinyModel();
  api = createApi({ config: apiConfig(), provider: fixedModel(tiny.engine, tiny.info), ideAssetsDir: null });
  local = await listen(
    createApi({ config: apiConfig(), provider: fixedModel(tiny.engine, tiny.info), ideAssetsDir: null }),
    {
      port: 0,
      host: '127.0.0.1',
    },
  );
  transports = buildTransports(api, local);
});
afterAll(async () => {
  await local.close();
  await api.server.stop();
});

async function expectGood(transport: Transport): Promise<void> {
  const res = await transport(answerQuery('Where is the tower?', CONTEXT));
  expect(res.status).toBe(200);
  expect(res.json.errors).toBeUndefined();
  expect(typeof res.json.data.answer.text).toBe('string');
}

describe.each(['lambda', 'local'])('through the %s transport', (which) => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const transport = transports.find(([name]) => name === which)![1];
    const res = await transport(c.req);
    expect({ status: res.status, code: res.json.errors?.[0]?.extensions?.code }).toEqual({
      status: c.status,
      code: c.code,
    });
    const error = res.json.errors[0];
    if (c.message) expect(error.message).toMatch(c.message);
    if (c.argument) expect(error.extensions.argument).toBe(c.argument);
    expect(error.extensions.stacktrace).toBeUndefined();
    await expectGood(transport);
  });

  // Nothing of the request is quoted back, whichever parser refused it (V8's JSON.parse quotes the
  // start of its input in its own message); the place may be given, as numbers.
  test.each([
    ['a body that is not JSON', { headers: JSON_HEADERS, body: 'my secret question' }],
    ['a JSON body with a bare word', { headers: JSON_HEADERS, body: '{"query": my secret question}' }],
    ['a JSON body cut short', { headers: JSON_HEADERS, body: '{"query": "my secret question' }],
    [
      'GET variables that are not JSON',
      {
        method: 'GET',
        query: `query=${encodeURIComponent('{ health { ready } }')}&variables=my%20secret%20question`,
        headers: { 'apollo-require-preflight': 'true' },
      },
    ],
    [
      'GET extensions that are not JSON',
      {
        method: 'GET',
        query: `query=${encodeURIComponent('{ health { ready } }')}&extensions=my%20secret%20question`,
        headers: { 'apollo-require-preflight': 'true' },
      },
    ],
  ] as Array<[string, Req]>)(
    'invalid JSON (%s): BAD_REQUEST, and no part of the input in the message',
    async (_name, req) => {
      const transport = transports.find(([name]) => name === which)![1];
      const res = await transport(req);
      expect({ status: res.status, code: res.json.errors?.[0]?.extensions?.code }).toEqual({
        status: 400,
        code: 'BAD_REQUEST',
      });
      expect(res.text).not.toMatch(/secret|question|my\b/);
      await expectGood(transport);
    },
  );

  // graphql-js quotes the values it refuses (questions, contexts): the messages keep the variable,
  // its path and the expected type, never the value.
  test.each([
    [
      'a variable of the wrong type',
      gql('query($q: String!, $c: String!) { answer(question: $q, context: $c) { text } }', {
        q: 'Where?',
        c: ['my secret context'],
      }),
      'BAD_USER_INPUT',
      /^Variable "\$c" got invalid value; String cannot represent a non string value\.$/,
    ],
    [
      'an answerMany input field',
      gql('query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } } }', {
        i: [{ question: 'Where?', context: 'Here.', topK: 'my secret question' }],
      }),
      'BAD_USER_INPUT',
      /^Variable "\$i" got invalid value at "i\[0\]\.topK"; Int cannot represent non-integer value\.$/,
    ],
    [
      'an unknown input key',
      gql('query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } } }', {
        i: [{ question: 'Where?', context: 'Here.', 'my secret question': 1 }],
      }),
      'BAD_USER_INPUT',
      /^Variable "\$i" got invalid value at "i\[0\]"; A field is not defined by type "AnswerInput"\.$/,
    ],
    [
      'a literal of the wrong type',
      gql('{ answer(question: "Where?", context: my_secret_context) { text } }'),
      'GRAPHQL_VALIDATION_FAILED',
      /^String cannot represent a non string value\.$/,
    ],
    [
      'a syntax error at a string',
      gql('{ answer(question: "Where?" "my secret question") { text } }'),
      'GRAPHQL_PARSE_FAILED',
      /^Syntax Error: Expected Name, found String\.$/,
    ],
  ] as Array<[string, Req, string, RegExp]>)(
    '%s: the message names what is wrong, never the value',
    async (_name, req, code, message) => {
      const transport = transports.find(([name]) => name === which)![1];
      const res = await transport(req);
      expect(res.json.errors[0].extensions.code).toBe(code);
      expect(res.json.errors[0].message).toMatch(message);
      expect(res.text).not.toMatch(/secret/);
    },
  );

  test('invalid JSON: the message says where the parser stopped, in numbers', async () => {
    const transport = transports.find(([name]) => name === which)![1];
    const res = await transport({ headers: JSON_HEADERS, body: '{"query": "{ health { ready } }",}' });
    expect(res.json.errors[0].message).toBe('Invalid JSON in the request body at line 1, column 34.');
  });

  test('answerMany keeps per-input errors in their slots (HTTP 200)', async () => {
    const transport = transports.find(([name]) => name === which)![1];
    const res = await transport(
      gql(`query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } error { code message field } } }`, {
        i: [
          { question: 'Where?', context: CONTEXT },
          { question: '', context: CONTEXT },
          { question: 'Where?', context: CONTEXT, topK: 0 },
          { question: 'Where?', context: CONTEXT, options: { maxSeqLength: 16, docStride: 12 } },
          { question: 'Where?', context: CONTEXT },
        ],
      }),
    );
    expect(res.status).toBe(200);
    expect(res.json.errors).toBeUndefined();
    const results = res.json.data.answerMany;
    expect(results[0].answers.length).toBe(1);
    expect(results[1].error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'inputs[1].question' });
    expect(results[2].error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'inputs[2].topK' });
    expect(results[3].error).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(results[4]).toEqual(results[0]);
  });
});

test("GraphiQL's introspection query passes every limit", async () => {
  const { getIntrospectionQuery } = await import('graphql');
  for (const [, transport] of transports) {
    const res = await transport(gql(getIntrospectionQuery({ inputValueDeprecation: true, schemaDescription: true })));
    expect(res.json.errors).toBeUndefined();
    expect(res.status).toBe(200);
    expect(res.json.data.__schema.queryType.name).toBe('Query');
  }
});

describe('model and server failures', () => {
  test('MODEL_UNAVAILABLE → 503 with Retry-After; health stays cheap and answers', async () => {
    const provider = new UnavailableProvider();
    const broken = createApi({ config: apiConfig(), provider, ideAssetsDir: null });
    const transport = lambdaTransport(broken);
    for (const req of [
      answerQuery('Where?', CONTEXT),
      gql('{ model { name } }'),
      gql(`{ answerMany(inputs: [{ question: "Where?", context: "Here." }]) { answers { text } } }`),
    ]) {
      const res = await transport(req);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json.errors[0].extensions.code).toBe('MODEL_UNAVAILABLE');
    }
    const health = await transport(gql('{ health { ready modelState } }'));
    expect(health.status).toBe(200);
    expect(health.json.data.health).toEqual({ ready: false, modelState: 'FAILED' });
    await broken.server.stop();
  });

  test.each([
    [true, 'masked: no message, stack or path'],
    [false, 'unmasked for local debugging'],
  ])('an engine crash is INTERNAL_SERVER_ERROR, HTTP 500 (maskErrors=%s: %s)', async (maskErrors) => {
    const logged: LogEntry[] = [];
    // Keep the expected log line out of the test output, but check it is logged.
    const failing = createApi({
      config: apiConfig({ maskErrors }),
      provider: fixedModel(new FailingEngine()),
      ideAssetsDir: null,
      logSink: (entry) => void logged.push(entry),
    });
    const transport = lambdaTransport(failing);
    const res = await transport(answerQuery('Where?', CONTEXT));
    expect(res.status).toBe(500);
    const error = res.json.errors[0];
    expect(error.extensions.code).toBe('INTERNAL_SERVER_ERROR');
    if (maskErrors) {
      expect(error.message).toBe('Internal server error');
      expect(JSON.stringify(res.json)).not.toContain('/opt/secret');
      expect(error.extensions.stacktrace).toBeUndefined();
      expect(logged.filter((e) => e.msg === 'internal error').map((e) => e.message)).toEqual([
        expect.stringContaining('/opt/secret'),
      ]);
    } else {
      expect(error.message).toContain('onnxruntime');
      expect(Array.isArray(error.extensions.stacktrace)).toBe(true);
    }
    await failing.server.stop();
  });
});
