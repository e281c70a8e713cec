/**
 * Requests built to cost as much model work as the API will take, as an attacker would build them:
 * contexts of one token per character with a one-token step between windows, long questions,
 * window options at their extremes, question-heavy and many-input batches. Each must be refused
 * before any window runs, or answered within the request's work budget (64 windows by default).
 * Shared by cost.test.ts (both transports, windows counted by the engine) and the crash test.
 */
import { gql, type Req } from './transports';
// Seeded picks: no two windows of a text alike, so nothing is deduplicated.
import { picks } from '../../helpers/random';
const textOf = (alphabet: string, n: number, seed: number) => {
  const chars = [...alphabet];
  return picks(n, chars.length, seed)
    .map((k) => chars[k])
    .join('');
};
/** One token per character for a BERT tokenizer (each punctuation mark is its own word). */
export const punctuation = (n: number, seed = 3) => textOf('!?.,;:()[]{}<>/\\|@#', n, seed);
/** CJK ideographs: BERT splits each into its own token. */
export const cjk = (n: number, seed = 5) => textOf('東京大阪名古屋福岡札幌仙台広島神戸京都横浜川崎', n, seed);
/** Currency and math symbols: a token each. */
export const symbols = (n: number, seed = 7) => textOf('€£¥$%&*+=~^§±×÷', n, seed);
const WORDS = ['river', 'stone', 'market', 'lantern', 'bridge', 'tower', 'garden', 'harbour', 'mill', 'square'];
export const prose = (words: number, seed = 9) =>
  picks(words, WORDS.length, seed)
    .map((k) => WORDS[k])
    .join(' ');

const ANSWER_WITH_OPTIONS =
  'query($q: String!, $c: String!, $o: AnswerOptions) { answer(question: $q, context: $c, options: $o) { text start end } }';
const answerWith = (q: string, c: string, o?: Record<string, unknown>): Req => gql(ANSWER_WITH_OPTIONS, { q, c, o });

/** `count` distinct aliases of answerMany, each with its own variable of `perAlias` inputs. */
function aliasedAnswerMany(
  count: number,
  perAlias: number,
  input: (alias: number, i: number) => { question: string; context: string },
): Req {
  const vars = Array.from({ length: count }, (_, a) => `$i${a}: [AnswerInput!]!`).join(', ');
  const fields = Array.from(
    { length: count },
    (_, a) => `m${a}: answerMany(inputs: $i${a}) { answers { text } error { code message } }`,
  ).join(' ');
  const variables = Object.fromEntries(
    Array.from({ length: count }, (_, a) => [`i${a}`, Array.from({ length: perAlias }, (_, i) => input(a, i))]),
  );
  return gql(`query(${vars}) { ${fields} }`, variables);
}

export type CostExpectation =
  /** Refused with BAD_USER_INPUT before any window runs (the whole request fails: HTTP 400). */
  | 'refused'
  /** Answered, wholly or partly; the windows run stay within the budget. */
  | 'within-budget';

export interface CostAttack {
  name: string;
  req: Req;
  expect: CostExpectation;
}

export const COST_ATTACKS: CostAttack[] = [
  // The first attack: a one-token step over 19,000 one-token characters.
  {
    name: 'punctuation, maxSeqLength 512 and docStride 506 (one-token step)',
    req: answerWith('Where?', punctuation(19_000), { maxSeqLength: 512, docStride: 506 }),
    expect: 'refused',
  },
  // docStride 507 leaves no step at all with a 2-token question: refused as a bad stride, also before any run.
  {
    name: 'punctuation, maxSeqLength 512 and docStride 507',
    req: answerWith('Where?', punctuation(19_000), { maxSeqLength: 512, docStride: 507 }),
    expect: 'refused',
  },
  // ~250 question tokens with the defaults leave room 129 for stride 128: again a one-token step.
  {
    name: 'a 252-token question with the default options',
    req: answerWith(punctuation(252, 11), punctuation(19_000)),
    expect: 'refused',
  },
  {
    name: 'CJK context, one-token step',
    req: answerWith('Where?', cjk(19_000), { maxSeqLength: 512, docStride: 506 }),
    expect: 'refused',
  },
  {
    name: 'symbol context, one-token step',
    req: answerWith('Where?', symbols(19_000), { maxSeqLength: 512, docStride: 506 }),
    expect: 'refused',
  },
  {
    name: 'smallest window, docStride 0',
    req: answerWith('Where?', prose(3_000), { maxSeqLength: 16, docStride: 0 }),
    expect: 'refused',
  },
  {
    name: 'smallest window, largest stride',
    req: answerWith('Where?', prose(3_000), { maxSeqLength: 16, docStride: 10 }),
    expect: 'refused',
  },
  {
    name: 'largest window, stride 0, 20,000 characters',
    req: answerWith('Where?', punctuation(20_000), { maxSeqLength: 512, docStride: 0 }),
    expect: 'within-budget',
  },
  {
    name: 'a question longer than the window (1,000 one-token characters)',
    req: answerWith(punctuation(1_000, 13), prose(100)),
    expect: 'refused',
  },
  // The question-heavy batch: 50 aliases × 32 inputs, ~380-token questions, tiny contexts.
  {
    name: 'question-heavy: 50 answerMany aliases × 32 inputs with 370-token questions',
    req: aliasedAnswerMany(50, 32, (a, i) => ({
      question: punctuation(370, 1_000 + a * 32 + i),
      context: `Stone ${a} ${i}.`,
    })),
    expect: 'within-budget',
  },
  {
    name: 'many small inputs: a batch of 10 operations × 32 distinct inputs',
    req: {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        Array.from({ length: 10 }, (_, op) => ({
          query: 'query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } error { code } } }',
          variables: {
            i: Array.from({ length: 32 }, (_, i) => ({
              question: `Which stone ${op}-${i}?`,
              context: prose(12, op * 32 + i),
            })),
          },
        })),
      ),
    },
    expect: 'within-budget',
  },
  {
    name: 'many inputs sharing one long context (windows add up)',
    req: gql('query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } error { code message } } }', {
      i: Array.from({ length: 32 }, (_, i) => ({ question: `Where is stone ${i}?`, context: prose(800, 99) })),
    }),
    expect: 'within-budget',
  },
];
