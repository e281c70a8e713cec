/**
 * The abuse suite's cases: hundreds of hostile requests, hand-written and generated, each with what
 * it must get. Shared by the suite itself (abuse.test.ts, through both transports) and by the
 * crash test (crash.test.ts), which replays them in a child process where an unhandled rejection
 * is fatal. Checks use node:assert, so they run outside Jest too.
 */
import assert from 'node:assert/strict';
import { bertTokenizerJson, contextBoundaries, spanProblem } from '../../helpers/token-boundaries';
import { ANSWER, CONTEXT, JSON_HEADERS, QUESTION, gql, validRequest, type Req, type Res } from './transports';
import { uniform } from '../../helpers/random';

/**
 * What a hostile request must get. `engine: false` = it must not reach the engine at all; `cheap` =
 * it takes at most ten times (abuse.test.ts) a 10 MB request that needs no work, with the 10 MB in its
 * variables or in its document (CHEAP_BASELINES).
 */
export type Expect =
  | { kind: 'error'; status: number; code: string; engine?: false; cheap?: Carrier }
  | { kind: 'answered'; check?: (res: Res) => void | Promise<void> };

export interface Case {
  name: string;
  req: Req;
  expect: Expect;
}

const MB = 1024 * 1024;
const err = (status: number, code: string, extra: { engine?: false; cheap?: Carrier } = {}): Expect => ({
  kind: 'error',
  status,
  code,
  engine: false,
  ...extra,
});
const errMaybeEngine = (status: number, code: string): Expect => ({ kind: 'error', status, code });
const answered = (check?: (res: Res) => void | Promise<void>): Expect => ({ kind: 'answered', check });
const raw = (body: string | Buffer, headers: Record<string, string> = JSON_HEADERS, method = 'POST'): Req => ({
  method,
  headers,
  body,
});

/**
 * Also on strange text: no answer when the context has no token, else one on the context's word
 * boundaries as the tokenizer itself reports them (test/helpers/token-boundaries.ts).
 */
const consistentAnswer = (context: string) => async (res: Res) => {
  const a = res.json.data.answer;
  const boundaries = await contextBoundaries(bertTokenizerJson(), context);
  if (boundaries.tokens.length === 0) return assert.equal(a, null);
  assert.notEqual(a, null);
  assert.equal(
    spanProblem(boundaries, a, { alignToWords: true, maxAnswerLength: 15, handleImpossibleAnswer: false }),
    null,
  );
};

// ---------------------------------------------------------------------------------------------
// Hand-written cases
// ---------------------------------------------------------------------------------------------
const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: health { ready }`).join(' ')} }`;
const answerAliases = (n: number) =>
  `query($c: String!) { ${Array.from({ length: n }, (_, i) => `a${i}: answer(question: "Q${i}?", context: $c) { text }`).join(' ')} }`;
const TEN_MB = 'x'.repeat(10 * MB);

export type Carrier = 'variables' | 'document';
/** The yardsticks of `cheap`: 10 MB carried and parsed (an extra variable, or a literal in an operation not run), for a query with no work. */
export const CHEAP_BASELINES: Record<Carrier, Req> = {
  variables: gql('{ health { ready } }', { unused: TEN_MB }),
  // The same 10 MB literal in an operation of the document that is not the one run.
  document: gql(
    `query Run { health { ready } } query Unused { answer(question: "Where?", context: "${TEN_MB}") { text } }`,
    undefined,
    { operationName: 'Run' },
  ),
};

const HAND_WRITTEN: Case[] = [
  // Malformed JSON
  { name: 'truncated JSON', req: raw('{"query": "{ health { ready } }"'), expect: err(400, 'BAD_REQUEST') },
  { name: 'trailing comma', req: raw('{"query": "{ health { ready } }",}'), expect: err(400, 'BAD_REQUEST') },
  { name: 'single quotes', req: raw("{'query': '{ health { ready } }'}"), expect: err(400, 'BAD_REQUEST') },
  {
    name: 'NaN literal',
    req: raw('{"query": "{ health { ready } }", "variables": {"x": NaN}}'),
    expect: err(400, 'BAD_REQUEST'),
  },
  { name: 'only whitespace', req: raw('   \n\t '), expect: err(400, 'BAD_REQUEST') },
  { name: 'JSON null', req: raw('null'), expect: err(400, 'BAD_REQUEST') },
  { name: 'JSON number', req: raw('42'), expect: err(400, 'BAD_REQUEST') },
  { name: 'JSON string', req: raw('"{ health { ready } }"'), expect: err(400, 'BAD_REQUEST') },
  { name: 'JSON true', req: raw('true'), expect: err(400, 'BAD_REQUEST') },
  { name: 'empty object', req: raw('{}'), expect: err(400, 'BAD_REQUEST') },
  { name: 'empty batch', req: raw('[]'), expect: err(400, 'BAD_REQUEST') },
  { name: 'query is a number', req: raw('{"query": 1}'), expect: err(400, 'BAD_REQUEST') },
  { name: 'query is an object', req: raw('{"query": {"a": 1}}'), expect: err(400, 'BAD_REQUEST') },
  { name: 'query is null', req: raw('{"query": null}'), expect: err(400, 'BAD_REQUEST') },
  {
    name: 'variables is a string',
    req: raw('{"query": "{ health { ready } }", "variables": "x"}'),
    expect: err(400, 'BAD_REQUEST'),
  },
  {
    name: 'variables is an array',
    req: raw('{"query": "{ health { ready } }", "variables": [1]}'),
    expect: err(400, 'BAD_REQUEST'),
  },
  {
    name: 'extensions is a number',
    req: raw('{"query": "{ health { ready } }", "extensions": 3}'),
    expect: err(400, 'BAD_REQUEST'),
  },
  {
    name: 'operationName is a number',
    req: raw('{"query": "{ health { ready } }", "operationName": 3}'),
    expect: err(400, 'BAD_REQUEST'),
  },
  { name: 'batch of garbage', req: raw('[1, "x", null]'), expect: err(400, 'BAD_REQUEST') },
  { name: 'nested batch', req: raw('[[{"query": "{ health { ready } }"}]]'), expect: err(400, 'BAD_REQUEST') },
  {
    name: '100,000-deep JSON array',
    req: raw(`{"query": "{ health { ready } }", "variables": {"x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}}`),
    expect: answered(),
  },
  {
    name: '100,000-deep JSON array as a variable of type String',
    req: raw(
      `{"query": "query($q: String!) { answer(question: $q, context: \\"c\\") { text } }", "variables": {"q": ${'['.repeat(100_000)}${']'.repeat(100_000)}}}`,
    ),
    expect: err(400, 'BAD_USER_INPUT'),
  },
  { name: 'unbalanced 200,000-deep JSON', req: raw('['.repeat(200_000)), expect: err(400, 'BAD_REQUEST') },
  {
    name: 'invalid UTF-8 bytes',
    req: raw(Buffer.from([0x7b, 0x22, 0x71, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])),
    expect: err(400, 'BAD_REQUEST'),
  },
  {
    name: 'UTF-8 BOM before JSON',
    req: raw(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ query: '{ health { ready } }' }))]),
    ),
    expect: err(400, 'BAD_REQUEST'),
  },
  // Wrong content types and methods
  {
    name: 'no content type',
    req: { body: JSON.stringify({ query: '{ health { ready } }' }) },
    expect: err(400, 'BAD_REQUEST'),
  },
  {
    name: 'text/plain without preflight header (CSRF)',
    req: raw(JSON.stringify({ query: '{ health { ready } }' }), { 'content-type': 'text/plain' }),
    expect: err(400, 'BAD_REQUEST'),
  },
  {
    name: 'text/plain with preflight header',
    req: raw(JSON.stringify({ query: '{ health { ready } }' }), {
      'content-type': 'text/plain',
      'apollo-require-preflight': '1',
    }),
    expect: err(400, 'BAD_REQUEST'),
  },
  {
    name: 'application/xml',
    req: raw('<query>{ health { ready } }</query>', { 'content-type': 'application/xml' }),
    expect: err(400, 'BAD_REQUEST'),
  },
  {
    name: 'multipart/form-data',
    req: raw('--b\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ health { ready } }\r\n--b--', {
      'content-type': 'multipart/form-data; boundary=b',
    }),
    expect: err(400, 'BAD_REQUEST'),
  },
  {
    name: 'form-urlencoded',
    req: raw('query=%7B%20health%20%7B%20ready%20%7D%20%7D', { 'content-type': 'application/x-www-form-urlencoded' }),
    expect: err(400, 'BAD_REQUEST'),
  },
  {
    name: 'application/graphql',
    req: raw('{ health { ready } }', { 'content-type': 'application/graphql' }),
    expect: err(400, 'BAD_REQUEST'),
  },
  {
    name: 'PUT',
    req: raw(JSON.stringify({ query: '{ health { ready } }' }), JSON_HEADERS, 'PUT'),
    expect: err(405, 'BAD_REQUEST'),
  },
  {
    name: 'DELETE',
    req: raw(JSON.stringify({ query: '{ health { ready } }' }), JSON_HEADERS, 'DELETE'),
    expect: err(405, 'BAD_REQUEST'),
  },
  {
    name: 'PATCH',
    req: raw(JSON.stringify({ query: '{ health { ready } }' }), JSON_HEADERS, 'PATCH'),
    expect: err(405, 'BAD_REQUEST'),
  },
  {
    name: 'GET without the preflight header (CSRF)',
    req: { method: 'GET', query: `query=${encodeURIComponent('{ health { ready } }')}` },
    expect: err(400, 'BAD_REQUEST'),
  },
  {
    name: 'GET of an answer without the preflight header (CSRF)',
    req: {
      method: 'GET',
      query: `query=${encodeURIComponent(ANSWER)}&variables=${encodeURIComponent(JSON.stringify({ q: QUESTION, c: CONTEXT }))}`,
    },
    expect: err(400, 'BAD_REQUEST'),
  },
  {
    name: 'GET with no query',
    req: { method: 'GET', headers: { 'apollo-require-preflight': '1' } },
    expect: err(400, 'BAD_REQUEST'),
  },
  {
    name: 'GET with malformed variables',
    req: {
      method: 'GET',
      query: `query=${encodeURIComponent('{ health { ready } }')}&variables=%7B`,
      headers: { 'apollo-require-preflight': '1' },
    },
    expect: err(400, 'BAD_REQUEST'),
  },
  {
    name: 'Accept: application/xml only',
    req: { ...gql('{ health { ready } }'), headers: { ...JSON_HEADERS, accept: 'application/xml' } },
    expect: err(406, 'BAD_REQUEST'),
  },
  // Documents
  { name: 'empty query', req: gql(''), expect: err(400, 'BAD_REQUEST') },
  { name: 'syntax error', req: gql('{ health { ready }'), expect: err(400, 'GRAPHQL_PARSE_FAILED') },
  // graphql-js 16 accepts raw control characters inside string literals: they are just text.
  {
    name: 'NUL inside a query string literal',
    req: gql('{ answer(question: "a\u0000b", context: "c") { text } }'),
    expect: answered(),
  },
  {
    name: 'control character in a query string literal',
    req: gql('{ answer(question: "a\u0007b", context: "c") { text } }'),
    expect: answered(),
  },
  {
    name: 'lone surrogate in the document',
    req: gql('{ health { ready } \ud800 }'),
    expect: err(400, 'GRAPHQL_PARSE_FAILED'),
  },
  { name: 'mutation (none exists)', req: gql('mutation { answer }'), expect: err(400, 'GRAPHQL_VALIDATION_FAILED') },
  {
    name: 'subscription (none exists)',
    req: gql('subscription { answer }'),
    expect: err(400, 'GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'two operations, no operationName',
    req: gql('query A { health { ready } } query B { health { ready } }'),
    expect: err(400, 'OPERATION_RESOLUTION_FAILURE'),
  },
  {
    name: 'unknown operationName',
    req: gql('query A { health { ready } }', undefined, { operationName: 'B' }),
    expect: err(400, 'OPERATION_RESOLUTION_FAILURE'),
  },
  { name: 'unknown root field', req: gql('{ secrets }'), expect: err(400, 'GRAPHQL_VALIDATION_FAILED') },
  {
    name: 'unknown field on Answer',
    req: gql(`{ answer(question: "Q?", context: "C.") { text password } }`),
    expect: err(400, 'GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'unknown argument',
    req: gql(`{ answer(question: "Q?", context: "C.", debug: true) { text } }`),
    expect: err(400, 'GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'unknown option field (inline)',
    req: gql(`{ answer(question: "Q?", context: "C.", options: { temperature: 2 }) { text } }`),
    expect: err(400, 'GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'unknown option field (variables)',
    req: gql('query($o: AnswerOptions) { answer(question: "Q?", context: "C.", options: $o) { text } }', {
      o: { temperature: 2 },
    }),
    expect: err(400, 'BAD_USER_INPUT'),
  },
  {
    name: 'undeclared variable',
    req: gql('{ answer(question: $q, context: "C.") { text } }', { q: 'x' }),
    expect: err(400, 'GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'missing required argument',
    req: gql('{ answer(question: "Q?") { text } }'),
    expect: err(400, 'GRAPHQL_VALIDATION_FAILED'),
  },
  { name: 'missing required variable', req: gql(ANSWER, { q: QUESTION }), expect: err(400, 'BAD_USER_INPUT') },
  {
    name: 'no selection on an object field',
    req: gql('{ answer(question: "Q?", context: "C.") }'),
    expect: err(400, 'GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'fragment cycle',
    req: gql('{ health { ...A } } fragment A on Health { ...B } fragment B on Health { ...A }'),
    expect: err(400, 'GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'directive flood',
    req: gql(`{ health ${'@skip(if: false) '.repeat(50)} { ready } }`),
    expect: err(400, 'GRAPHQL_VALIDATION_FAILED'),
  },
  { name: 'unknown directive', req: gql('{ health @defer { ready } }'), expect: err(400, 'GRAPHQL_VALIDATION_FAILED') },
  // The APQ protocol: HTTP 200 so that the client sends the full query next.
  {
    name: 'persisted query hash unknown',
    req: raw(JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } })),
    expect: err(200, 'PERSISTED_QUERY_NOT_FOUND'),
  },
  {
    name: 'persisted query hash mismatch',
    req: raw(
      JSON.stringify({
        query: '{ health { ready } }',
        extensions: { persistedQuery: { version: 1, sha256Hash: 'b'.repeat(64) } },
      }),
    ),
    expect: err(400, 'BAD_REQUEST'),
  },
  // Introspection in production
  {
    name: 'introspection: __schema',
    req: gql('{ __schema { types { name } } }'),
    expect: err(400, 'GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'introspection: __type',
    req: gql('{ __type(name: "Query") { fields { name } } }'),
    expect: err(400, 'GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'introspection hidden in a fragment',
    req: gql('{ ...F } fragment F on Query { __schema { queryType { name } } }'),
    expect: err(400, 'GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'introspection in a batch member',
    req: raw(JSON.stringify([{ query: '{ health { ready } }' }, { query: '{ __schema { types { name } } }' }])),
    expect: err(400, 'GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'field suggestion probing',
    req: gql('{ answr(question: "Q?", context: "C.") { text } }'),
    expect: err(400, 'GRAPHQL_VALIDATION_FAILED'),
  },
  // Size and cost
  { name: '1,000 aliases', req: gql(aliases(1000)), expect: err(400, 'GRAPHQL_PARSE_FAILED') },
  {
    name: '1,000 answer aliases',
    req: gql(answerAliases(1000), { c: CONTEXT }),
    expect: err(400, 'GRAPHQL_PARSE_FAILED'),
  },
  {
    name: '51 answer aliases',
    req: gql(answerAliases(51), { c: CONTEXT }),
    expect: err(400, 'GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: '1,000-operation batch',
    req: raw(JSON.stringify(Array.from({ length: 1000 }, () => ({ query: '{ health { ready } }' })))),
    expect: err(400, 'BATCH_TOO_LARGE'),
  },
  {
    name: '1,000-operation batch of answers',
    req: raw(JSON.stringify(Array.from({ length: 1000 }, () => JSON.parse(validRequest().body as string)))),
    expect: err(400, 'BATCH_TOO_LARGE'),
  },
  {
    name: 'depth bomb',
    req: gql(`{ ${'health { '.repeat(40)}ready${' }'.repeat(40)} }`),
    expect: err(400, 'GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'too many tokens',
    req: gql(`{ health { ${'ready '.repeat(3000)} } }`),
    expect: err(400, 'GRAPHQL_PARSE_FAILED'),
  },
  { name: 'a 1 MB comment', req: gql(`# ${'x'.repeat(MB)}\n{ health { ready } }`), expect: answered() },
  {
    name: '10 MB context (variables) is refused before tokenizing',
    req: gql(ANSWER, { q: QUESTION, c: TEN_MB }),
    expect: err(400, 'BAD_USER_INPUT', { cheap: 'variables' }),
  },
  {
    name: '10 MB context (inline string literal: one token)',
    req: gql(`{ answer(question: "Where?", context: "${TEN_MB}") { text } }`),
    expect: err(400, 'BAD_USER_INPUT', { cheap: 'document' }),
  },
  {
    name: '10 MB question',
    req: gql(ANSWER, { q: TEN_MB, c: CONTEXT }),
    expect: err(400, 'BAD_USER_INPUT', { cheap: 'variables' }),
  },
  {
    name: '10 MB context in answerMany',
    req: gql('query($i: [AnswerInput!]!) { answerMany(inputs: $i) { error { code } } }', {
      i: [{ question: 'Q?', context: TEN_MB }],
    }),
    expect: answered((res) => assert.equal(res.json.data.answerMany[0].error.code, 'BAD_USER_INPUT')),
  },
  {
    name: 'body over the size limit',
    req: gql(ANSWER, { q: QUESTION, c: 'y'.repeat(13 * MB) }),
    expect: err(413, 'PAYLOAD_TOO_LARGE', { cheap: 'variables' }),
  },
  {
    name: 'oversized list input: 10,000 answerMany inputs',
    req: gql('query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } } }', {
      i: Array.from({ length: 10_000 }, () => ({ question: 'Q?', context: 'C.' })),
    }),
    expect: err(400, 'BAD_USER_INPUT'),
  },
  {
    name: 'oversized list input: 200,000 nulls',
    req: gql('query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } } }', {
      i: Array.from({ length: 200_000 }, () => null),
    }),
    expect: err(400, 'BAD_USER_INPUT'),
  },
  {
    // Each alias needs 16 windows: the first four use the request's 64 and are answered; the fifth
    // is refused by the window budget, the sixth by the text budget; partial success, 200.
    name: "contexts over the request's budgets (aliases)",
    req: gql(answerAliases(6), { c: `w ${'word '.repeat(3_990)}` }),
    expect: answered((res) => {
      for (const key of ['a0', 'a1', 'a2', 'a3']) assert.notEqual(res.json.data[key], null);
      assert.equal(res.json.data.a4, null);
      assert.equal(res.json.data.a5, null);
      const errors = Object.fromEntries(res.json.errors.map((e: any) => [e.path[0], e]));
      assert.deepEqual(Object.keys(errors).sort(), ['a4', 'a5']);
      assert.equal(errors.a4.extensions.code, 'BAD_USER_INPUT');
      assert.equal(errors.a5.extensions.code, 'BAD_USER_INPUT');
      assert.match(errors.a4.message, /^a4 needs 16 model windows; this request may use 64 and has 0 left\./);
      assert.match(errors.a5.message, /add up to more than 100000 characters/);
    }),
  },
  {
    name: "contexts over the request's budget (batch)",
    req: raw(
      JSON.stringify(
        Array.from({ length: 6 }, (_, i) => ({
          query: ANSWER,
          variables: { q: QUESTION, c: `${i} ${'word '.repeat(3_990)}` },
        })),
      ),
    ),
    expect: errMaybeEngine(400, 'BAD_USER_INPUT'),
  },
  {
    name: 'topK 2^31 (not an Int)',
    req: gql(`{ answers(question: "Q?", context: "C.", topK: 2147483648) { text } }`),
    expect: err(400, 'GRAPHQL_VALIDATION_FAILED'),
  },
  // Strange text that is still text: answered, offsets consistent
  ...(
    [
      ['lone high surrogate', `Paris \ud800 is in France.`],
      ['lone low surrogate', `Paris \udc00 is in France.`],
      ['only lone surrogates', '\udc00\ud800\udc00\ud800'],
      ['NUL characters', 'Paris\u0000 is\u0000 in\u0000 France.'],
      ['only NULs', '\u0000\u0000\u0000'],
      ['C0 and C1 control characters', `Paris \u0001\u0002\u001b[31m is \u0085\u009b in France.`],
      ['bidi overrides', 'Paris \u202e is in \u202d France \u2066.'],
      ['zero-width characters', 'Pa\u200bris\u200d is\ufeff in France.'],
      ['astral characters and emoji', 'Paris 🗼𝒜𝔅 is in France 🇫🇷.'],
      ['combining marks flood', `Paris${'\u0301'.repeat(5000)} is in France.`],
      ['one 20,000-character word', `${'a'.repeat(20_000)}`],
      ['U+FFFD and noncharacters', 'Paris \ufffd\uffff\ufdd0 is in France.'],
    ] as const
  ).map(([name, context]): Case => ({
    name: `context with ${name}`,
    req: gql(ANSWER, { q: `Where? \ud800 \u0000`, c: context }),
    expect: answered(consistentAnswer(context)),
  })),
  // Partial success: one good alias, one bad → 200 with data and the error beside it
  {
    name: 'partial success (one alias bad)',
    req: gql(
      `query($c: String!) { good: answer(question: "Where?", context: $c) { text } bad: answer(question: " ", context: $c) { text } }`,
      { c: CONTEXT },
    ),
    expect: answered((res) => {
      assert.equal(typeof res.json.data.good.text, 'string');
      assert.equal(res.json.data.bad, null);
      assert.deepEqual(
        res.json.errors.map((e: any) => [e.path, e.extensions.code]),
        [[['bad'], 'BAD_USER_INPUT']],
      );
    }),
  },
  // Headers
  {
    name: 'hostile x-request-id',
    req: { ...validRequest(), headers: { ...JSON_HEADERS, 'x-request-id': '../../etc/passwd"}{' } },
    expect: answered(),
  },
  {
    name: 'cross-site origin not on the list',
    req: { ...gql('{ health { ready } }'), headers: { ...JSON_HEADERS, origin: 'https://evil.example.com' } },
    expect: answered((res) => assert.equal(res.headers['access-control-allow-origin'], undefined)),
  },
];

// ---------------------------------------------------------------------------------------------
// Generated cases: every argument × values of the wrong type, as variables and inline literals
// ---------------------------------------------------------------------------------------------
const BAD_VALUES: Array<[string, unknown]> = [
  ['null', null],
  ['a number', 123],
  ['a float', 1.5],
  ['a boolean', true],
  ['a string', 'seven'],
  ['an empty list', []],
  ['an object', { $ne: 1 }],
  ['a huge integer', 2 ** 40],
  ['a negative integer', -1],
  ['a list of strings', ['a', 'b']],
];

interface Slot {
  name: string;
  type: 'String!' | 'Int!' | 'Int' | 'Boolean';
  /** The request with the value at this slot, as a variable. */
  query: string;
  variables: (value: unknown) => Record<string, unknown>;
}

const SLOTS: Slot[] = [
  {
    name: 'question',
    type: 'String!',
    query: 'query($v: String!) { answer(question: $v, context: "C.") { text } }',
    variables: (v) => ({ v }),
  },
  {
    name: 'context',
    type: 'String!',
    query: 'query($v: String!) { answer(question: "Q?", context: $v) { text } }',
    variables: (v) => ({ v }),
  },
  {
    name: 'topK',
    type: 'Int!',
    query: 'query($v: Int!) { answers(question: "Q?", context: "C.", topK: $v) { text } }',
    variables: (v) => ({ v }),
  },
  ...(['maxAnswerLength', 'docStride', 'maxSeqLength'] as const).map((option): Slot => ({
    name: `options.${option}`,
    type: 'Int',
    query: `query($o: AnswerOptions) { answer(question: "Q?", context: "C.", options: $o) { text } }`,
    variables: (v) => ({ o: { [option]: v } }),
  })),
  ...(['handleImpossibleAnswer', 'alignToWords'] as const).map((option): Slot => ({
    name: `options.${option}`,
    type: 'Boolean',
    query: `query($o: AnswerOptions) { answer(question: "Q?", context: "C.", options: $o) { text } }`,
    variables: (v) => ({ o: { [option]: v } }),
  })),
  {
    name: 'inputs',
    type: 'String!',
    query: 'query($v: [AnswerInput!]!) { answerMany(inputs: $v) { answers { text } } }',
    variables: (v) => ({ v }),
  },
  {
    name: 'inputs[0]',
    type: 'String!',
    query: 'query($v: [AnswerInput!]!) { answerMany(inputs: $v) { answers { text } } }',
    variables: (v) => ({ v: [v] }),
  },
];

/** Is `value` acceptable for a variable of `type` (then the API answers or reports a range error)? */
function acceptable(slot: Slot, value: unknown): boolean {
  // An empty list of inputs is valid (no results); no other BAD_VALUE is an AnswerInput (list).
  if (slot.name === 'inputs') return Array.isArray(value) && value.length === 0;
  if (slot.name === 'inputs[0]') return false;
  if (value === null) return !slot.type.endsWith('!');
  switch (slot.type.replace('!', '')) {
    case 'String':
      return typeof value === 'string';
    case 'Int':
      return Number.isInteger(value) && Math.abs(value as number) < 2 ** 31;
    case 'Boolean':
      return typeof value === 'boolean';
  }
  return false;
}

/** What a value of the right type but out of range gets (all are checked before the engine). */
function rangeCheck(slot: Slot, value: unknown): Expect {
  if (value === null) return answered(); // null option = default
  if (slot.type === 'Boolean') return answered();
  if (slot.type === 'String!') return answered(); // strings (and the empty inputs list) are answered
  const ranges: Record<string, [number, number]> = {
    topK: [1, 20],
    'options.maxAnswerLength': [1, 512],
    'options.docStride': [0, 511],
    'options.maxSeqLength': [16, 512],
  };
  const [min, max] = ranges[slot.name]!;
  const v = value as number;
  return v >= min && v <= max ? answered() : err(400, 'BAD_USER_INPUT');
}

const GENERATED: Case[] = [];
for (const slot of SLOTS) {
  for (const [label, value] of BAD_VALUES) {
    GENERATED.push({
      name: `${slot.name} = ${label} (variable)`,
      req: gql(slot.query, slot.variables(value)),
      expect: acceptable(slot, value) ? rangeCheck(slot, value) : err(400, 'BAD_USER_INPUT'),
    });
  }
}
// Inline literals of the wrong type are caught by validation, before any resolver.
const INLINE_BAD: Array<[string, string]> = [
  ['a number', '123'],
  ['a float', '1.5'],
  ['a boolean', 'true'],
  ['a string', '"seven"'],
  ['a list', '[1, 2]'],
  ['an object', '{ a: 1 }'],
  ['an enum', 'SEVEN'],
  ['null', 'null'],
  ['a variable never declared', '$nope'],
];
const INLINE_SLOTS: Array<[string, (v: string) => string, 'String!' | 'Int!' | 'Int' | 'Boolean']> = [
  ['question', (v) => `{ answer(question: ${v}, context: "C.") { text } }`, 'String!'],
  ['context', (v) => `{ answer(question: "Q?", context: ${v}) { text } }`, 'String!'],
  ['topK', (v) => `{ answers(question: "Q?", context: "C.", topK: ${v}) { text } }`, 'Int!'],
  [
    'options.maxAnswerLength',
    (v) => `{ answer(question: "Q?", context: "C.", options: { maxAnswerLength: ${v} }) { text } }`,
    'Int',
  ],
  [
    'options.alignToWords',
    (v) => `{ answer(question: "Q?", context: "C.", options: { alignToWords: ${v} }) { text } }`,
    'Boolean',
  ],
  ['inputs', (v) => `{ answerMany(inputs: ${v}) { answers { text } } }`, 'String!'],
];
for (const [slot, query, type] of INLINE_SLOTS) {
  for (const [label, literal] of INLINE_BAD) {
    const fits =
      (type === 'String!' && literal.startsWith('"') && slot !== 'inputs') ||
      (type.startsWith('Int') && literal === '123') ||
      (type === 'Boolean' && literal === 'true') ||
      (literal === 'null' && !type.endsWith('!')) ||
      // A list of Ints coerces to [AnswerInput!]? no; but an Int list for an Int is not allowed either.
      false;
    const expectation: Expect = fits
      ? slot === 'topK'
        ? err(400, 'BAD_USER_INPUT') // 123 > 20
        : answered()
      : err(400, 'GRAPHQL_VALIDATION_FAILED');
    GENERATED.push({ name: `${slot} = ${label} (inline)`, req: gql(query(literal)), expect: expectation });
  }
}
// Every argument's limit, just over it, through answerMany (per-input errors, HTTP 200).
for (const [field, value] of [
  ['question', 'q'.repeat(1_001)],
  ['context', 'c'.repeat(20_001)],
  ['question', ' \t\n '],
  ['context', '\u0000'.repeat(0) + '   '],
] as const) {
  GENERATED.push({
    name: `answerMany input with a bad ${field} (${value.length} characters)`,
    req: gql('query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } error { code field } } }', {
      i: [{ question: QUESTION, context: CONTEXT, [field]: value }],
    }),
    expect: answered((res) =>
      assert.deepEqual(res.json.data.answerMany[0].error, { code: 'BAD_USER_INPUT', field: `inputs[0].${field}` }),
    ),
  });
}
// Random garbage bodies (deterministic): bytes that are not JSON.
const rand = uniform(7);
for (let i = 0; i < 20; i++) {
  const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
  bytes[0] = 0x3c; // '<': never valid JSON, so the expectation does not depend on the bytes
  GENERATED.push({ name: `random bytes #${i} (${bytes.length} B)`, req: raw(bytes), expect: err(400, 'BAD_REQUEST') });
}

export const CASES = [...HAND_WRITTEN, ...GENERATED];
