/**
 * The bytes an answer can write, counted without serializing: checked against what JSON.stringify
 * and UTF-8 actually produce, on any string (lone surrogates and control characters included), and
 * for every slice of it (an answer is a slice of its context).
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { jsonStringBytes } from '../../src/resolvers/output-bound';

const written = (s: string) => Buffer.byteLength(JSON.stringify(s));
/** Any UTF-16 units, weighted toward the ones JSON escapes or writes long. */
const text = fc.string({
  unit: fc.oneof(
    fc.constantFrom(
      '\u0000',
      '\u0001',
      '\u001f',
      '\b',
      '\t',
      '\n',
      '\f',
      '\r',
      '"',
      '\\',
      '\u007f',
      '\u2028',
      '\ud800',
      '\udfff',
      'é',
      '抹',
      '🍰',
    ),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  ),
  maxLength: 200,
});

describe('jsonStringBytes', () => {
  it('equals the UTF-8 bytes of JSON.stringify, for any string', () => {
    fc.assert(
      fc.property(text, (s) => expect(jsonStringBytes(s)).toBe(written(s))),
      { seed: 22, numRuns: 2_000 },
    );
  });

  it("bounds every slice of a string by the whole string's bytes plus the two cut surrogate halves", () => {
    fc.assert(
      fc.property(text, fc.nat(), fc.nat(), (s, a, b) => {
        const [start, end] = [a % (s.length + 1), b % (s.length + 1)].sort((x, y) => x - y);
        expect(written(s.slice(start, end))).toBeLessThanOrEqual(jsonStringBytes(s) + 8);
      }),
      { seed: 22, numRuns: 2_000 },
    );
  });

  it('counts a control character as the 6 bytes JSON writes for it', () => {
    expect(jsonStringBytes('a\u0001b')).toBe(2 + 1 + 6 + 1);
  });
});
