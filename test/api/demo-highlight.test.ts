/** The demo page's highlighting (src/demo/highlight.ts): pieces at exact UTF-16 offsets, best rank on overlaps. */
import { pieces } from '../../src/demo/highlight';

test('answers become highlighted pieces at their offsets; the text is unchanged', () => {
  const context = 'The tower is in Paris, France.';
  const out = pieces(context, [
    { start: 16, end: 21 }, // "Paris" (best)
    { start: 16, end: 29 }, // "Paris, France" (overlaps the best)
    { start: 0, end: 9 }, // "The tower"
  ]);
  expect(out).toEqual([
    { text: 'The tower', rank: 2 },
    { text: ' is in ', rank: null },
    { text: 'Paris', rank: 0 },
    { text: ', France', rank: 1 },
    { text: '.', rank: null },
  ]);
  expect(out.map((p) => p.text).join('')).toBe(context);
});

test('the no-answer result (start = end) and out-of-range offsets highlight nothing', () => {
  expect(
    pieces('In Paris.', [
      { start: 0, end: 0 },
      { start: 3, end: 99 },
    ]),
  ).toEqual([{ text: 'In Paris.', rank: null }]);
});

test('offsets count UTF-16 code units, as the API gives them (an astral character is 2)', () => {
  const context = '𝔸 is in Paris';
  // "Paris" starts at 9: the mathematical A is two code units.
  expect(pieces(context, [{ start: 9, end: 14 }])).toEqual([
    { text: '𝔸 is in ', rank: null },
    { text: 'Paris', rank: 0 },
  ]);
});
