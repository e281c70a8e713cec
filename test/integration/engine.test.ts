/**
 * The QA engine end to end on generated models: real tokenizer, real onnxruntime sessions.
 * Random-weight models give meaningless answers, so these tests check invariants and equalities;
 * the `pointer` model, whose logits point at chosen token ids, checks that answers land where the
 * model points, across windows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureTestModel } from '../../scripts/model-generator';
import { QAInputError } from '../../src/model/errors';
import { QuestionAnswerer } from '../../src/model/question-answerer';
import type { Answer, QAOptions } from '../../src/model/types';
import { spanProblems } from '../helpers/token-boundaries';

async function load(dir: string, file = 'onnx/model.onnx'): Promise<QuestionAnswerer> {
  return QuestionAnswerer.create({
    model: join(dir, file),
    tokenizerJson: readFileSync(join(dir, 'tokenizer.json'), 'utf8'),
    config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')),
    intraOpNumThreads: 1,
  });
}

const vocab = readFileSync(join(__dirname, '../fixtures/bert-base-uncased/vocab.txt'), 'utf8').split('\n');
const tokenId = (word: string) => {
  const id = vocab.indexOf(word);
  if (id < 0) throw new Error(`${word} is not in the vocabulary`);
  return id;
};

const CONTEXTS = [
  'The café in Zürich serves crème brûlée 🍮 every day, from 8 a.m. to 6 p.m.',
  'Tokyo 東京 is the capital; astral 𠀋𡈽 characters and 😀😀 emoji 👩‍👩‍👧 appear here.',
  'Tabs\tand\nnewlines\r\nand non\u00a0breaking\u00a0spaces: naïve résumé of the year 1999.',
  'Mathematical 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 letters, a lone surrogate \ud800 and the end.',
];
const QUESTIONS = ['When does it open?', 'What is the capital?', 'Which year?', 'What comes at the end?'];

/**
 * Answers best first, at most topK, each a span on the context's token (or word) boundaries as the
 * Rust tokenizer reports them, mapped to UTF-16 apart from the engine (test/helpers/token-boundaries.ts).
 */
async function expectWellFormed(
  answers: Answer[],
  context: string,
  tokenizerJson: string,
  options: Partial<QAOptions> & { topK: number },
) {
  expect(answers.length).toBeLessThanOrEqual(options.topK);
  for (let i = 0; i < answers.length; i++) {
    expect(answers[i].score).toBeGreaterThanOrEqual(0);
    if (i > 0) expect(answers[i - 1].score).toBeGreaterThanOrEqual(answers[i].score);
  }
  expect(await spanProblems(tokenizerJson, context, answers, options)).toEqual([]);
}

describe('QuestionAnswerer on the tiny DistilBERT', () => {
  let engine: QuestionAnswerer;
  let tokenizerJson: string;
  beforeAll(async () => {
    const dir = await ensureTestModel({ size: 'tiny', variant: 'distilbert' });
    tokenizerJson = readFileSync(join(dir, 'tokenizer.json'), 'utf8');
    engine = await load(dir);
  });
  afterAll(() => engine?.dispose());

  it('declares the DistilBERT inputs and no token_type_ids', () => {
    expect(engine.description.inputNames).toEqual(['input_ids', 'attention_mask']);
    expect(engine.description.usesTokenTypeIds).toBe(false);
  });

  it.each(CONTEXTS.map((c, i) => [i, c]))('answers context %i with exact UTF-16 offsets', async (i, context) => {
    for (const alignToWords of [true, false]) {
      for (const handleImpossibleAnswer of [false, true]) {
        const options = { topK: 5, alignToWords, handleImpossibleAnswer };
        const answers = await engine.answer({ question: QUESTIONS[i as number], context: context as string, options });
        expect(answers.length).toBeGreaterThan(0);
        await expectWellFormed(answers, context as string, tokenizerJson, options);
      }
    }
  });

  it('answers 16 questions of mixed lengths in one call exactly as 16 separate calls', async () => {
    const long = 'The river flows through the old town and past the mill. '.repeat(60);
    const inputs = Array.from({ length: 16 }, (_, i) => ({
      question: QUESTIONS[i % 4] + ' really'.repeat(i),
      context: i % 3 === 0 ? long : CONTEXTS[i % 4],
      options: { topK: 1 + (i % 3) },
    }));
    const together = await engine.answerMany(inputs);
    const separately = [];
    for (const input of inputs) separately.push(await engine.answer(input));
    expect(together).toEqual(separately);
  });

  it('returns a bad input as an error in its own slot, and the others still answer', async () => {
    const results = await engine.answerMany([
      { question: 'Where?', context: CONTEXTS[0] },
      { question: '', context: CONTEXTS[0] },
      { question: 'Where?', context: CONTEXTS[1], options: { topK: 0 } },
    ]);
    expect(Array.isArray(results[0])).toBe(true);
    expect(results[1]).toBeInstanceOf(QAInputError);
    expect((results[2] as QAInputError).field).toBe('topK');
  });

  it('returns no answer for a context without tokens, or only the empty one when impossible answers are allowed', async () => {
    expect(await engine.answer({ question: 'What?', context: ' \t\n ' })).toEqual([]);
    const [empty] = await engine.answer({
      question: 'What?',
      context: ' \t\n ',
      options: { handleImpossibleAnswer: true },
    });
    // Only [CLS] is left unmasked, so it takes all the probability.
    expect(empty).toEqual({ text: '', start: 0, end: 0, score: expect.closeTo(1, 6) });
  });

  it('rejects a question that cannot fit beside the context with a clear error, then keeps answering', async () => {
    const question = Array(300).fill('question').join(' '); // 300 tokens
    const context = 'word '.repeat(2000);
    await expect(engine.answer({ question, context })).rejects.toThrow(
      /question is 300 tokens long; with maxSeqLength 384 that leaves 81 context tokens per window, which must be more than docStride \(128\)/,
    );
    const answers = await engine.answer({ question: 'What?', context: CONTEXTS[0] });
    await expectWellFormed(answers, CONTEXTS[0], tokenizerJson, { topK: 1 });
  });
});

describe('QuestionAnswerer on a pointer model (logits point at chosen tokens)', () => {
  let engine: QuestionAnswerer;
  beforeAll(async () => {
    const dir = await ensureTestModel({
      size: 'tiny',
      variant: 'pointer',
      startTokenIds: [tokenId('zebra')],
      endTokenIds: [tokenId('elephant')],
    });
    engine = await load(dir);
  });
  afterAll(() => engine?.dispose());

  it('finds an answer near the end of a 5,000-word context through overlapping windows', async () => {
    const words = Array.from({ length: 5000 }, (_, i) => ['river', 'stone', 'market', 'lantern'][i % 4]);
    words.splice(4990, 3, 'Zebra', 'crossing', 'elephant');
    const context = words.join(' ');
    const [best] = await engine.answer({ question: 'Which animals?', context });
    // Offsets from the test's own reading of the context, not from the engine.
    expect(best).toMatchObject({
      text: 'Zebra crossing elephant',
      start: context.indexOf('Zebra'),
      end: context.indexOf('elephant') + 'elephant'.length,
    });
  });

  it('keeps a 100-token question whole: its pointer words are never answers, the context answer is', async () => {
    const question = ('zebra elephant ' + 'please '.repeat(98)).trim();
    const context = 'lantern '.repeat(1500) + 'a zebra and a elephant ' + 'stone '.repeat(500);
    const [best] = await engine.answer({ question, context });
    expect(best).toMatchObject({
      text: 'zebra and a elephant',
      start: context.indexOf('zebra'),
      end: context.indexOf('elephant') + 'elephant'.length,
    });
  });

  it('scores a span by the windows it appears in, merging identical answers', async () => {
    // The answer sits where two windows overlap, so both windows find it and their scores are summed.
    const context = 'stone '.repeat(300) + 'zebra elephant ' + 'stone '.repeat(300);
    const [merged] = await engine.answer({ question: 'Which?', context });
    const [alone] = await engine.answer({ question: 'Which?', context: 'stone zebra elephant stone' });
    expect(merged.text).toBe('zebra elephant');
    expect(merged.score).toBeGreaterThan(alone.score * 1.5);
  });
});

describe.each([
  ['the BERT-style variant (token_type_ids)', { size: 'tiny', variant: 'bert' }, 'onnx/model.onnx'],
  ['the int8 variant', { size: 'tiny', variant: 'distilbert' }, 'onnx/model_quantized.onnx'],
] as const)('QuestionAnswerer on %s', (_name, spec, file) => {
  let engine: QuestionAnswerer;
  let tokenizerJson: string;
  beforeAll(async () => {
    const dir = await ensureTestModel(spec as any);
    tokenizerJson = readFileSync(join(dir, 'tokenizer.json'), 'utf8');
    engine = await load(dir, file);
  });
  afterAll(() => engine?.dispose());

  it('answers with the same code and the same guarantees', async () => {
    if (spec.variant === 'bert') expect(engine.description.inputNames).toContain('token_type_ids');
    for (let i = 0; i < CONTEXTS.length; i++) {
      const answers = await engine.answer({ question: QUESTIONS[i], context: CONTEXTS[i], options: { topK: 3 } });
      expect(answers.length).toBeGreaterThan(0);
      await expectWellFormed(answers, CONTEXTS[i], tokenizerJson, { topK: 3 });
    }
  });
});
