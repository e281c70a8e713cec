import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QAInputError } from '../../src/model/errors';
import { pairLayoutFromTokenizerJson } from '../../src/model/special-tokens';
import { cutWindows, iterateWindows, planWindows, windowGeometry } from '../../src/model/windows';
import { lcg } from '../helpers/random';

const tokenizerJson = JSON.parse(readFileSync(join(__dirname, '../fixtures/bert-base-uncased/tokenizer.json'), 'utf8'));
const layout = pairLayoutFromTokenizerJson(tokenizerJson);
const range = (n: number, from = 1000) => Array.from({ length: n }, (_, i) => from + i);

describe('pair layout from tokenizer.json', () => {
  it('reads [CLS] question [SEP] context [SEP] with type ids 0/1 from the BERT template', () => {
    expect(layout.before).toEqual([{ id: 101, typeId: 0 }]);
    expect(layout.between).toEqual([{ id: 102, typeId: 0 }]);
    expect(layout.after).toEqual([{ id: 102, typeId: 1 }]);
    expect(layout.clsId).toBe(101);
    expect(layout.addedCount).toBe(3);
    expect([layout.questionTypeId, layout.contextTypeId]).toEqual([0, 1]);
  });
  it('reads BertProcessing and RobertaProcessing too', () => {
    const bert = pairLayoutFromTokenizerJson({
      post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] },
    });
    expect(bert.addedCount).toBe(3);
    expect(bert.clsId).toBe(2);
    const roberta = pairLayoutFromTokenizerJson({
      post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0] },
    });
    expect(roberta.between.map((p) => p.id)).toEqual([2, 2]);
    expect(roberta.addedCount).toBe(4);
  });
  it('refuses a tokenizer without a post-processor, saying why', () => {
    expect(() => pairLayoutFromTokenizerJson({ post_processor: null })).toThrow(/no post_processor/);
  });
});

describe('cutWindows', () => {
  it('keeps a pair that fits in one window, whatever the stride', () => {
    const windows = cutWindows(range(10), range(300), layout, { maxSeqLength: 384, docStride: 370 });
    expect(windows).toHaveLength(1);
    expect(windows[0].inputIds).toHaveLength(313);
    expect(windows[0].inputIds[0]).toBe(101);
    expect(windows[0].inputIds[11]).toBe(102);
    expect(windows[0].contextOffset).toBe(12);
    expect(windows[0].typeIds.slice(0, 12).every((t) => t === 0)).toBe(true);
    expect(windows[0].typeIds.slice(12).every((t) => t === 1)).toBe(true);
  });

  it('windows a long context with docStride tokens shared by consecutive windows, covering every token', () => {
    const question = range(7, 5000);
    const context = range(5000);
    const windows = cutWindows(question, context, layout, { maxSeqLength: 384, docStride: 128 });
    const room = 384 - 7 - 3;
    expect(windows[0].contextStart).toBe(0);
    expect(windows[windows.length - 1].contextEnd).toBe(5000);
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i];
      expect(w.inputIds.length).toBeLessThanOrEqual(384);
      // The question is whole in every window.
      expect(w.inputIds.slice(1, 8)).toEqual(question);
      expect(w.inputIds.slice(w.contextOffset, w.contextOffset + (w.contextEnd - w.contextStart))).toEqual(
        context.slice(w.contextStart, w.contextEnd),
      );
      if (i > 0) {
        expect(windows[i - 1].contextEnd - w.contextStart).toBe(128);
        expect(windows[i - 1].contextEnd - windows[i - 1].contextStart).toBe(room);
      }
    }
    expect(windows).toHaveLength(Math.ceil((5000 - room) / (room - 128)) + 1);
  });

  it('keeps a 100-token question whole; its windows hold less context', () => {
    const short = cutWindows(range(10, 5000), range(2000), layout, { maxSeqLength: 384, docStride: 128 });
    const long = cutWindows(range(100, 5000), range(2000), layout, { maxSeqLength: 384, docStride: 128 });
    expect(long[0].inputIds.slice(1, 101)).toEqual(range(100, 5000));
    expect(long[0].contextEnd - long[0].contextStart).toBe(384 - 100 - 3);
    expect(long.length).toBeGreaterThan(short.length);
  });

  it('rejects a question that leaves no more context per window than docStride, with numbers', () => {
    let error: unknown;
    try {
      cutWindows(range(300, 5000), range(2000), layout, { maxSeqLength: 384, docStride: 128 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(QAInputError);
    expect((error as QAInputError).field).toBe('docStride');
    expect((error as Error).message).toBe(
      'The question is 300 tokens long; with maxSeqLength 384 that leaves 81 context tokens per window, ' +
        'which must be more than docStride (128). Shorten the question, lower docStride below 81, or raise maxSeqLength.',
    );
  });

  it('rejects a question longer than the window itself', () => {
    expect(() => windowGeometry(400, 100, layout, { maxSeqLength: 384, docStride: 128 })).toThrow(
      /question is 400 tokens long, which leaves no room for the context/,
    );
  });
});

describe('planWindows: the cost of a pair, by arithmetic, before any window is built', () => {
  // The plan is what a request is charged; cutWindows is what runs. They must agree exactly, or the
  // budget would charge for work that differs from the work done.
  it('counts exactly the windows and tokens cutWindows builds, over 2,000 random geometries', () => {
    const next = lcg(11);
    const rand = (n: number) => next() % n;
    let checked = 0;
    for (let i = 0; i < 2_000; i++) {
      const maxSeqLength = 8 + rand(505);
      const docStride = rand(maxSeqLength);
      const question = range(1 + rand(Math.min(60, maxSeqLength)), 5000);
      const context = range(rand(3) === 0 ? rand(20) : rand(3_000));
      const options = { maxSeqLength, docStride };
      let windows: ReturnType<typeof cutWindows>;
      try {
        windows = cutWindows(question, context, layout, options);
      } catch (error) {
        // Whatever cutting refuses, planning refuses the same way.
        expect(() => planWindows(question.length, context.length, layout, options)).toThrow((error as Error).message);
        continue;
      }
      const plan = planWindows(question.length, context.length, layout, options);
      expect(plan.count).toBe(windows.length);
      expect(plan.tokens).toBe(windows.reduce((sum, w) => sum + w.inputIds.length, 0));
      checked += 1;
    }
    expect(checked).toBeGreaterThan(1_000);
  });

  it('prices the attack from the issue: a one-token step over 19,000 context tokens', () => {
    // maxSeqLength 512, 2 question tokens, 3 special tokens: room 507; docStride 506: step 1.
    const plan = planWindows(2, 19_000, layout, { maxSeqLength: 512, docStride: 506 });
    expect(plan).toMatchObject({ room: 507, step: 1, count: 19_000 - 507 + 1 });
    expect(plan.tokens).toBe(plan.count * 512);
  });

  it('iterateWindows yields the same windows as cutWindows, one at a time', () => {
    const question = range(9, 5000);
    const context = range(1_234);
    const options = { maxSeqLength: 128, docStride: 32 };
    const lazy = iterateWindows(question, context, layout, options);
    const first = lazy.next();
    expect(first.done).toBe(false);
    expect([first.value, ...lazy]).toEqual(cutWindows(question, context, layout, options));
  });
});
