/**
 * Requests built from the schema with fast-check: single operations and HTTP batches (up to one over
 * the cap), each with `answer`, `answers`, `answerMany`, `health` and `__typename` root fields under
 * aliases, Answer selections with repeated `text` aliases, `topK` and options in and out of range,
 * arguments as variables or inline literals, comments, and texts from every Unicode class that
 * matters here: ASCII words, CJK, emoji (astral), combining marks, control characters, `[UNK]`-heavy
 * words (a letter and control characters, or 150 letters), punctuation (one token per character),
 * whitespace only; long questions. Each request is kept as a value (`GeneratedRequest`) so a failure
 * prints it shrunk.
 */
import fc from 'fast-check';
import { JSON_HEADERS, type Req } from './transports';

const CONTROLS = '\u0001\u0002\u0003\u0007\u0008\u000b\u000e\u0010\u001b\u001f\u007f\u0085\u200b\ufeff';
const WORDS = ['the', 'tower', 'stands', 'in', 'Paris', 'built', '1889', 'river', 'Seine', 'iron', 'Gustave', 'Eiffel'];

/** One "word" of a Unicode class. */
const word: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...WORDS) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: fc.constantFrom(...'抹茶東京塔是一座位於日本'), minLength: 1, maxLength: 6 }),
  },
  {
    weight: 1,
    arbitrary: fc.string({ unit: fc.constantFrom('🍰', '🗼', '👩‍👩‍👧', '𝔘', '🇫🇷'), minLength: 1, maxLength: 3 }),
  },
  {
    weight: 1,
    arbitrary: fc.string({ unit: fc.constantFrom('e\u0301', 'a\u0308', 'n\u0303', 'Å'), minLength: 1, maxLength: 4 }),
  },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'!?.,;:()[]{}<>/\\|@#'), minLength: 1, maxLength: 8 }) },
  // [UNK]-heavy: a letter then control characters the tokenizer drops and JSON writes 6×, or a
  // word longer than the tokenizer's 100-character limit.
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...'abcxyz'),
        fc.string({ unit: fc.constantFrom(...CONTROLS), minLength: 1, maxLength: 300 }),
      )
      .map(([a, b]) => a + b),
  },
  { weight: 1, arbitrary: fc.integer({ min: 101, max: 400 }).map((n) => 'w'.repeat(n)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }) },
);

/** A text of words and separators; sometimes blank, sometimes long. */
function text(maxWords: number): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 12,
      arbitrary: fc
        .array(fc.tuple(word, fc.constantFrom(' ', ' ', ' ', '\n', '\t', '\u3000', '')), {
          minLength: 1,
          maxLength: maxWords,
        })
        .map((parts) => parts.map(([w, s]) => w + s).join('')),
    },
    { weight: 1, arbitrary: fc.constantFrom(' ', '\n\t ', '') },
  );
}

/** A long text made of one repeated word, up to `maxLength` characters (without a slow generator). */
function repeated(maxLength: number): fc.Arbitrary<string> {
  return fc
    .tuple(word, fc.integer({ min: 10, max: maxLength }))
    .map(([w, n]) => `${w} `.repeat(Math.ceil(n / (w.length + 1))).slice(0, n));
}

// Up to a little over the default limits (1,000 and 20,000 characters), so both sides are tried.
const question = fc.oneof({ weight: 6, arbitrary: text(12) }, { weight: 1, arbitrary: repeated(1_100) });
const context = fc.oneof({ weight: 6, arbitrary: text(200) }, { weight: 1, arbitrary: repeated(20_500) });

const options = fc.option(
  fc.record(
    {
      maxAnswerLength: fc.integer({ min: 0, max: 520 }),
      docStride: fc.integer({ min: 0, max: 520 }),
      maxSeqLength: fc.integer({ min: 8, max: 520 }),
      handleImpossibleAnswer: fc.boolean(),
      alignToWords: fc.boolean(),
    },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);

export interface Input {
  question: string;
  context: string;
  topK?: number;
  options?: Record<string, number | boolean>;
}

/** An Answer selection: response keys for its fields (`text` may be aliased many times). */
const answerSelection = fc
  .record({
    texts: fc.oneof(
      { weight: 5, arbitrary: fc.integer({ min: 0, max: 3 }) },
      { weight: 1, arbitrary: fc.integer({ min: 4, max: 49 }) },
    ),
    score: fc.boolean(),
    start: fc.boolean(),
    end: fc.boolean(),
    typename: fc.boolean(),
  })
  .map(({ texts, score, start, end, typename }) => {
    const keys = Array.from({ length: texts }, (_, i) => (i === 0 ? 'text' : `t${i}: text`));
    if (score) keys.push('score');
    if (start) keys.push('start');
    if (end) keys.push('end');
    if (typename || keys.length === 0) keys.push('__typename');
    return keys.join(' ');
  });

const alias = fc.oneof(
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'c', 'answer', 'x_1') },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 300 }).map((n) => `long${'n'.repeat(n)}`) },
);

export type RootField =
  | { kind: 'answer' | 'answers'; alias: string; input: Input; selection: string; inline: boolean }
  | { kind: 'answerMany'; alias: string; inputs: Input[]; selection: string }
  | { kind: 'health' | '__typename'; alias: string };

const input: fc.Arbitrary<Input> = fc.record(
  { question, context, topK: fc.integer({ min: 0, max: 25 }), options },
  { requiredKeys: ['question', 'context'] },
);

const rootField: fc.Arbitrary<RootField> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constantFrom('answer' as const, 'answers' as const),
      alias,
      input,
      selection: answerSelection,
      inline: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('answerMany' as const),
      alias,
      inputs: fc.array(input, { minLength: 0, maxLength: 6 }),
      selection: answerSelection,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('health' as const, '__typename' as const), alias }) },
);

export interface Operation {
  fields: RootField[];
  /** A comment before the document (comments are not GraphQL tokens). */
  comment: string;
}

const operation: fc.Arbitrary<Operation> = fc.record({
  fields: fc.array(rootField, { minLength: 1, maxLength: 5 }),
  comment: fc.oneof(
    { weight: 4, arbitrary: fc.constant('') },
    {
      weight: 1,
      arbitrary: fc.tuple(word, fc.integer({ min: 1, max: 20_000 })).map(([w, n]) =>
        w
          .repeat(n)
          .slice(0, 20_000)
          .replace(/[\r\n\u2028\u2029\u0085]/g, ' '),
      ),
    },
  ),
});

export interface GeneratedRequest {
  /** One operation sent alone (not as an array), or an HTTP batch. */
  batch: boolean;
  operations: Operation[];
}

/** `maxBatch`: the API's cap; batches go up to one over it. */
export function generatedRequest(maxBatch: number): fc.Arbitrary<GeneratedRequest> {
  return fc.oneof(
    { weight: 3, arbitrary: operation.map((op) => ({ batch: false, operations: [op] })) },
    {
      weight: 2,
      arbitrary: fc
        .array(operation, { minLength: 1, maxLength: maxBatch + 1 })
        .map((operations) => ({ batch: true, operations })),
    },
  );
}

/** A GraphQL string literal (JSON's escapes are GraphQL's, lone surrogates aside: a parse error). */
const literal = (s: string) => JSON.stringify(s);

function inlineInput(input: Input, withTopK: boolean): string {
  const parts = [`question: ${literal(input.question)}`, `context: ${literal(input.context)}`];
  if (withTopK && input.topK !== undefined) parts.push(`topK: ${input.topK}`);
  if (input.options) {
    const fields = Object.entries(input.options).map(([k, v]) => `${k}: ${v}`);
    parts.push(`options: { ${fields.join(', ')} }`);
  }
  return parts.join(', ');
}

/** The operation's document and variables. */
function render(op: Operation): { query: string; variables: Record<string, unknown> } {
  const variables: Record<string, unknown> = {};
  const declarations: string[] = [];
  const fields = op.fields.map((field, i) => {
    const key = field.alias ? `${field.alias}${i}: ` : '';
    if (!('input' in field) && !('inputs' in field))
      return field.kind === 'health' ? `${key}health { ready }` : `${key}__typename`;
    if ('inputs' in field) {
      declarations.push(`$m${i}: [AnswerInput!]!`);
      variables[`m${i}`] = field.inputs;
      return `${key}answerMany(inputs: $m${i}) { answers { ${field.selection} } error { code message field } }`;
    }
    const withTopK = field.kind === 'answers';
    if (field.inline) return `${key}${field.kind}(${inlineInput(field.input, withTopK)}) { ${field.selection} }`;
    declarations.push(`$q${i}: String!`, `$c${i}: String!`, `$o${i}: AnswerOptions`);
    variables[`q${i}`] = field.input.question;
    variables[`c${i}`] = field.input.context;
    variables[`o${i}`] = field.input.options ?? null;
    const topK = withTopK && field.input.topK !== undefined ? `, topK: ${field.input.topK}` : '';
    return `${key}${field.kind}(question: $q${i}, context: $c${i}${topK}, options: $o${i}) { ${field.selection} }`;
  });
  const head = declarations.length > 0 ? `query(${declarations.join(', ')}) ` : '';
  const comment = op.comment ? `# ${op.comment}\n` : '';
  return { query: `${comment}${head}{ ${fields.join(' ')} }`, variables };
}

export function toHttpRequest(request: GeneratedRequest): Req {
  const bodies = request.operations.map(render);
  return { headers: JSON_HEADERS, body: JSON.stringify(request.batch ? bodies : bodies[0]) };
}
