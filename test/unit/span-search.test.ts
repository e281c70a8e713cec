import { maskedSoftmax, rankAnswers, selectSpans, spanToCharRange } from '../../src/model/span-search';
import { uniform } from '../helpers/random';

/** Softmax over the listed positions only, written out independently of the module. */
function softmaxAt(logits: number[], allowed: number[]): number[] {
  const denom = allowed.reduce((sum, i) => sum + Math.exp(logits[i]), 0);
  return logits.map((v, i) => (allowed.includes(i) ? Math.exp(v) / denom : 0));
}

/** Brute force over the whole n × n matrix, as the reference does (triu/tril, then argsort). */
function bruteForce(
  start: number[],
  end: number[],
  pMask: number[],
  from: number,
  to: number,
  k: number,
  maxLen: number,
) {
  const allowed = pMask.map((m, i) => (m ? -1 : i)).filter((i) => i >= 0);
  const ps = softmaxAt(start, allowed);
  const pe = softmaxAt(end, allowed);
  const nullScore = ps[0] * pe[0];
  ps[0] = pe[0] = 0;
  const all: Array<{ start: number; end: number; score: number }> = [];
  for (let s = 0; s < start.length; s++)
    for (let e = 0; e < end.length; e++)
      if (e >= s && e - s <= maxLen - 1 && s >= from && e < to && ps[s] * pe[e] > 0)
        all.push({ start: s, end: e, score: ps[s] * pe[e] });
  all.sort((a, b) => b.score - a.score || a.start - b.start || a.end - b.end);
  return { spans: all.slice(0, k), nullScore };
}

// Layout used below: 0 [CLS], 1-2 question, 3 [SEP], 4-8 context, 9 [SEP].
const P_MASK = [0, 1, 1, 1, 0, 0, 0, 0, 0, 1];
const CONTEXT = { pMask: P_MASK, contextFrom: 4, contextTo: 9 };

describe('maskedSoftmax', () => {
  it('gives masked positions probability 0 and normalizes the rest', () => {
    const p = maskedSoftmax([1, 50, 2, 3], [0, 1, 0, 0]);
    const denom = Math.exp(1) + Math.exp(2) + Math.exp(3);
    expect(p[1]).toBe(0);
    expect(p[0]).toBeCloseTo(Math.exp(1) / denom, 12);
    expect(p[3]).toBeCloseTo(Math.exp(3) / denom, 12);
  });
});

describe('selectSpans', () => {
  it('finds the best span and ignores huge logits on masked (question, special) positions', () => {
    const start = [0, 99, 99, 99, 1, 4, 0, 0, 0, 99];
    const end = [0, 99, 99, 99, 0, 0, 5, 1, 0, 99];
    const { spans, nullScore } = selectSpans(start, end, CONTEXT, 1, 15);
    const allowed = [0, 4, 5, 6, 7, 8];
    const ps = softmaxAt(start, allowed);
    const pe = softmaxAt(end, allowed);
    expect(spans).toHaveLength(1);
    expect(spans[0].start).toBe(5);
    expect(spans[0].end).toBe(6);
    expect(spans[0].score).toBeCloseTo(ps[5] * pe[6], 12);
    // [CLS] takes part in the softmax and scores "no answer".
    expect(nullScore).toBeCloseTo(ps[0] * pe[0], 12);
  });

  it('never returns a span that ends before it starts', () => {
    const start = [0, 0, 0, 0, 0, 0, 0, 0, 9, 0];
    const end = [0, 0, 0, 0, 9, 0, 0, 0, 0, 0];
    const { spans } = selectSpans(start, end, CONTEXT, 3, 15);
    for (const s of spans) expect(s.end).toBeGreaterThanOrEqual(s.start);
    // Best valid pair: start 8 can only end at 8; start 4 can end at 4 — compare the two products.
    const ps = softmaxAt(start, [0, 4, 5, 6, 7, 8]);
    const pe = softmaxAt(end, [0, 4, 5, 6, 7, 8]);
    const expected = ps[8] * pe[8] > ps[4] * pe[4] ? [8, 8] : [4, 4];
    expect([spans[0].start, spans[0].end]).toEqual(expected);
  });

  it('breaks ties by lower start, then lower end (numpy argmax order)', () => {
    const flat = [0, 0, 0, 0, 2, 2, 0, 0, 0, 0];
    const { spans } = selectSpans(flat, flat, CONTEXT, 3, 15);
    // (4,4), (4,5), (5,5) all score p*p; lowest flat index first.
    expect(spans.map((s) => [s.start, s.end])).toEqual([
      [4, 4],
      [4, 5],
      [5, 5],
    ]);
    expect(spans[0].score).toBe(spans[2].score);
  });

  it('limits answers to maxAnswerLength tokens', () => {
    const start = [0, 0, 0, 0, 8, 0, 0, 0, 0, 0];
    const end = [0, 0, 0, 0, 0, 0, 0, 0, 8, 0];
    const long = selectSpans(start, end, CONTEXT, 1, 5).spans[0];
    expect([long.start, long.end]).toEqual([4, 8]);
    const short = selectSpans(start, end, CONTEXT, 1, 4).spans[0];
    expect(short.end - short.start).toBeLessThanOrEqual(3);
    expect(short.start === 4 || short.end === 8).toBe(true);
  });

  it('returns fewer than topK when the window has fewer spans, never zero-score ones', () => {
    const pMask = [0, 1, 0, 1];
    const { spans } = selectSpans([0, 0, 1, 0], [0, 0, 1, 0], { pMask, contextFrom: 2, contextTo: 3 }, 10, 15);
    expect(spans).toHaveLength(1);
  });

  it('agrees with a brute-force search over the full matrix on random logits', () => {
    const next = uniform(7);
    const rand = () => next() * 10 - 5;
    for (let trial = 0; trial < 200; trial++) {
      const n = 10 + (trial % 30);
      const q = 1 + (trial % 5);
      const pMask = Array.from({ length: n }, (_, i) => (i === 0 ? 0 : i <= q + 1 || i === n - 1 ? 1 : 0));
      const start = Array.from({ length: n }, rand);
      const end = Array.from({ length: n }, rand);
      const k = 1 + (trial % 7);
      const maxLen = 1 + (trial % 9);
      const got = selectSpans(start, end, { pMask, contextFrom: q + 2, contextTo: n - 1 }, k, maxLen);
      const want = bruteForce(start, end, pMask, q + 2, n - 1, k, maxLen);
      expect(got.spans.map((s) => [s.start, s.end])).toEqual(want.spans.map((s) => [s.start, s.end]));
      got.spans.forEach((s, i) => expect(s.score).toBeCloseTo(want.spans[i].score, 12));
      expect(got.nullScore).toBeCloseTo(want.nullScore, 12);
    }
  });
});

describe('spanToCharRange', () => {
  // "unbelievable tales": un ##bel ##ievable | tales
  const tokens = {
    offsets: [
      [0, 2],
      [2, 5],
      [5, 12],
      [13, 18],
    ] as Array<[number, number]>,
    wordIds: [0, 0, 0, 1],
  };
  it('widens a sub-word span to whole words', () => {
    expect(spanToCharRange(tokens, 1, 1, 0, 4, true)).toEqual([0, 12]);
    expect(spanToCharRange(tokens, 1, 3, 0, 4, true)).toEqual([0, 18]);
  });
  it('keeps token offsets without alignToWords', () => {
    expect(spanToCharRange(tokens, 1, 1, 0, 4, false)).toEqual([2, 5]);
  });
  it('only widens within the window, as the reference looks at the window encoding', () => {
    expect(spanToCharRange(tokens, 1, 1, 1, 4, true)).toEqual([2, 12]);
  });
  it('falls back to token offsets for tokens without a word', () => {
    const noWords = { offsets: tokens.offsets, wordIds: [null, null, null, null] };
    expect(spanToCharRange(noWords, 1, 2, 0, 4, true)).toEqual([2, 12]);
  });
});

describe('rankAnswers', () => {
  const context = 'Paris is in France. PARIS again, paris.';
  it('merges case-insensitive duplicates across windows by summing scores, keeping the first offsets', () => {
    const ranked = rankAnswers(
      context,
      [
        {
          ranges: [
            { start: 0, end: 5, score: 0.3 },
            { start: 12, end: 18, score: 0.25 },
          ],
          nullScore: 0.1,
        },
        {
          ranges: [
            { start: 20, end: 25, score: 0.2 },
            { start: 33, end: 38, score: 0.05 },
          ],
          nullScore: 0.05,
        },
      ],
      5,
      false,
    );
    expect(ranked[0]).toEqual({ text: 'Paris', start: 0, end: 5, score: expect.closeTo(0.55, 12) });
    expect(ranked[1]).toEqual({ text: 'France', start: 12, end: 18, score: 0.25 });
    expect(ranked).toHaveLength(2);
  });

  it('adds the empty answer scored by the lowest [CLS] score, and applies topK last', () => {
    const ranked = rankAnswers(
      context,
      [
        { ranges: [{ start: 0, end: 5, score: 0.01 }], nullScore: 0.9 },
        { ranges: [{ start: 12, end: 18, score: 0.02 }], nullScore: 0.6 },
      ],
      2,
      true,
    );
    expect(ranked).toEqual([
      { text: '', start: 0, end: 0, score: 0.6 },
      { text: 'France', start: 12, end: 18, score: 0.02 },
    ]);
  });

  it('keeps window order for equal scores (stable sort)', () => {
    const ranked = rankAnswers(
      context,
      [
        {
          ranges: [
            { start: 12, end: 18, score: 0.5 },
            { start: 0, end: 5, score: 0.5 },
          ],
          nullScore: 0,
        },
      ],
      2,
      false,
    );
    expect(ranked.map((a) => a.text)).toEqual(['France', 'Paris']);
  });
});
