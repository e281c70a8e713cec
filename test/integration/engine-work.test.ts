/**
 * What a call costs and when it stops, on the real engine (tiny DistilBERT, real tokenizer and
 * onnxruntime): the work budget is charged before anything runs and matches the windows that do
 * run; an aborted call stops running windows; calls take turns.
 *
 * Expected window counts come from cutting the windows independently (the tokenizer's ids through
 * `cutWindows`), not from the engine's own plan.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureTestModel } from '../../scripts/model-generator';
import { WorkBudgetError } from '../../src/model/errors';
import { QuestionAnswerer } from '../../src/model/question-answerer';
import { QATokenizer } from '../../src/model/tokenizer';
import { cutWindows } from '../../src/model/windows';
import { WorkBudget } from '../../src/model/work-budget';
import type { QAInput } from '../../src/model/types';
import { picks } from '../helpers/random';

let engine: QuestionAnswerer;
let tokenizer: QATokenizer;

beforeAll(async () => {
  const dir = await ensureTestModel({ size: 'tiny', variant: 'distilbert' });
  const tokenizerJson = readFileSync(join(dir, 'tokenizer.json'), 'utf8');
  tokenizer = QATokenizer.fromJson(tokenizerJson);
  engine = await QuestionAnswerer.create({
    model: join(dir, 'onnx/model_quantized.onnx'),
    tokenizerJson,
    config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')),
    intraOpNumThreads: 1,
  });
});
afterAll(() => engine?.dispose());

/** The windows an input makes, cut independently of the engine's arithmetic. */
async function windowsOf(input: QAInput): Promise<number> {
  const [q, c] = await Promise.all([tokenizer.encode(input.question), tokenizer.encode(input.context)]);
  const options = { maxSeqLength: input.options?.maxSeqLength ?? 384, docStride: input.options?.docStride ?? 128 };
  return cutWindows(q.ids, c.ids, tokenizer.layout, options).length;
}

const WORDS = ['river', 'stone', 'market', 'lantern', 'bridge', 'tower', 'garden', 'harbour', 'mill', 'square'];
const prose = (words: number, seed = 1) =>
  picks(words, WORDS.length, seed)
    .map((k) => WORDS[k])
    .join(' ');
/** One token per character, no two windows alike: the costliest text per character. */
const punctuation = (n: number, seed = 2) =>
  picks(n, 6, seed)
    .map((k) => '!?.,;:'[k])
    .join('');

/** Waits until `predicate` holds (polling), or fails after `ms`. */
async function until(predicate: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('the work budget', () => {
  const small: QAInput = { question: 'Where is the market?', context: prose(700) };
  const huge: QAInput = {
    question: 'Where?',
    context: punctuation(6_000),
    options: { maxSeqLength: 512, docStride: 500 },
  };
  const tiny: QAInput = { question: 'Which stone?', context: prose(40) };

  it('charges every input before running any, refuses what does not fit in its slot, and runs exactly the rest', async () => {
    const [smallWindows, hugeWindows, tinyWindows] = await Promise.all([
      windowsOf(small),
      windowsOf(huge),
      windowsOf(tiny),
    ]);
    expect(smallWindows).toBeGreaterThan(1);
    expect(hugeWindows).toBeGreaterThan(400);
    const limit = smallWindows + tinyWindows + 1;
    const budget = new WorkBudget(limit);
    const before = engine.windowsRun;
    const results = await engine.answerMany([small, huge, tiny], { budget });
    // The refused input ran nothing: the windows run are exactly those of the two that fit.
    expect(engine.windowsRun - before).toBe(smallWindows + tinyWindows);
    expect(budget.windows).toBe(smallWindows + tinyWindows);
    expect(results[1]).toBeInstanceOf(WorkBudgetError);
    expect(results[1]).toMatchObject({ needed: hugeWindows, remaining: limit - smallWindows, limit, field: 'context' });
    // Within the budget, the answers are exactly those of an unbudgeted call.
    const unbudgeted = await engine.answerMany([small, tiny]);
    expect([results[0], results[2]]).toEqual(unbudgeted);
  });

  it('is shared by every call for one request, and a later input that fits is still answered', async () => {
    const tinyWindows = await windowsOf(tiny);
    const budget = new WorkBudget(tinyWindows * 2);
    const first = await engine.answerMany([tiny], { budget });
    const second = await engine.answerMany([huge, { ...tiny, question: 'Which market?' }], { budget });
    expect(Array.isArray(first[0])).toBe(true);
    expect(second[0]).toBeInstanceOf(WorkBudgetError);
    expect(Array.isArray(second[1])).toBe(true);
    expect(budget.remaining).toBe(0);
  });
});

describe('stopping', () => {
  const long: QAInput = {
    question: 'Where?',
    context: punctuation(8_000),
    options: { maxSeqLength: 128, docStride: 120 },
  };

  it('an aborted call gives the reason to its unfinished input, and the windows-run counter stops rising', async () => {
    const windows = await windowsOf(long);
    expect(windows).toBeGreaterThan(900);
    const controller = new AbortController();
    const before = engine.windowsRun;
    const call = engine.answerMany([long], { signal: controller.signal });
    await until(() => engine.windowsRun - before >= 20);
    const reason = new Error('deadline passed');
    controller.abort(reason);
    // Partial success: an input not finished gets the reason in its slot (the call resolves).
    expect(await call).toEqual([reason]);
    const atAbort = engine.windowsRun - before;
    // The window that was running may finish; nothing starts after it.
    await new Promise((r) => setTimeout(r, 300));
    const later = engine.windowsRun - before;
    expect(later - atAbort).toBeLessThanOrEqual(1);
    expect(later).toBeLessThan(windows);
    expect(engine.windowsQueued).toBe(0);
  });

  it('stopped, a call keeps the answers of the inputs that finished (cheapest first, whatever their order)', async () => {
    const cheap: QAInput = { question: 'Which stone?', context: prose(30) };
    const controller = new AbortController();
    const before = engine.windowsRun;
    const call = engine.answerMany([long, cheap], { signal: controller.signal });
    await until(() => engine.windowsRun - before >= 20);
    const reason = new Error('deadline passed');
    controller.abort(reason);
    const [forLong, forCheap] = await call;
    expect(forLong).toBe(reason);
    // Exactly what the cheap input gets alone.
    expect(forCheap).toEqual(await engine.answer(cheap));
  });

  it('an already-aborted call runs nothing', async () => {
    const before = engine.windowsRun;
    await expect(engine.answerMany([long], { signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone');
    expect(engine.windowsRun).toBe(before);
  });
});

describe('fairness', () => {
  it('a cheap call made while an expensive one runs waits a few windows, not the whole expensive call', async () => {
    const expensive: QAInput = {
      question: 'Where?',
      context: punctuation(6_000),
      options: { maxSeqLength: 128, docStride: 120 },
    };
    const cheap: QAInput = { question: 'Which stone?', context: prose(30) };
    const expensiveWindows = await windowsOf(expensive);
    const controller = new AbortController();
    const before = engine.windowsRun;
    const big = engine.answerMany([expensive], { signal: controller.signal });
    big.catch(() => undefined);
    await until(() => engine.windowsRun - before >= 10);
    const atSubmit = engine.windowsRun;
    const answers = await engine.answerMany([cheap]);
    // Windows that ran while the cheap call was in the engine: the one running, then its own (turns
    // alternate), plus any that ran while its text was tokenized on another thread (~1 ms a window
    // on this tiny model).
    const waited = engine.windowsRun - atSubmit;
    controller.abort(new Error('done measuring'));
    await big.catch(() => undefined);
    expect(Array.isArray(answers[0])).toBe(true);
    expect(waited).toBeLessThanOrEqual(16);
    expect(expensiveWindows).toBeGreaterThan(100 * waited);
  });
});
