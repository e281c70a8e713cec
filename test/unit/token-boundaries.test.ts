/**
 * The offsets check of test/helpers/token-boundaries.ts, itself checked against the outside
 * reference: every answer transformers' pipeline gave on the 120 reference cases passes it, and
 * the same answers moved one UTF-16 unit into a word (what an offset-mapping bug does) fail it.
 */
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REFERENCE_MODEL_DIR, referenceCases, referenceExpected } from '../helpers/reference-qa';
import { contextBoundaries, spanProblem } from '../helpers/token-boundaries';

/** Two letters or digits of a script whose words are not split per character (Han is). */
const WORD_PAIR = /^(?:(?!\p{Script=Han})[\p{L}\p{N}]){2}$/u;
const tokenizerJson = readFileSync(path.join(REFERENCE_MODEL_DIR, 'tokenizer.json'), 'utf8');

describe.each(['fp32', 'int8'] as const)('token boundaries against the reference answers, %s', (precision) => {
  test('every reference answer passes; moved one unit into a word, every one fails', async () => {
    const expected = referenceExpected(precision);
    const problems: string[] = [];
    let shifted = 0;
    for (const c of referenceCases()) {
      const b = await contextBoundaries(tokenizerJson, c.context);
      const options = {
        alignToWords: c.align_to_words ?? true,
        maxAnswerLength: c.max_answer_len ?? 15,
        handleImpossibleAnswer: c.handle_impossible_answer ?? false,
      };
      for (const a of expected.get(c.id)!.answers) {
        const p = spanProblem(b, a, options);
        if (p) problems.push(`${c.id}: ${p}`);
        // Moved one unit into its first or last word (two letters that no pre-tokenizer splits):
        // what an offset-mapping bug does. Such a span must fail.
        if (!options.alignToWords) continue;
        for (const [start, end, inside] of [
          [a.start + 1, a.end, a.start],
          [a.start, a.end - 1, a.end - 2],
        ] as const) {
          if (start >= end || !WORD_PAIR.test(c.context.slice(inside, inside + 2))) continue;
          if (spanProblem(b, { text: c.context.slice(start, end), start, end }, options) === null)
            problems.push(`${c.id}: [${start},${end}) passes`);
          shifted += 1;
        }
      }
    }
    expect(problems).toEqual([]);
    expect(shifted).toBeGreaterThan(200);
  });
});

test('offsets past astral characters are in UTF-16 units', async () => {
  const context = 'Tokyo 😀😀 𠀋 capital city';
  const b = await contextBoundaries(tokenizerJson, context);
  const at = context.indexOf('capital');
  expect(
    spanProblem(
      b,
      { text: 'capital', start: at, end: at + 7 },
      { alignToWords: true, maxAnswerLength: 15, handleImpossibleAnswer: false },
    ),
  ).toBeNull();
  // The same word at code point offsets (three fewer units): off its boundaries.
  expect(
    spanProblem(
      b,
      { text: context.slice(at - 3, at + 4), start: at - 3, end: at + 4 },
      { alignToWords: true, maxAnswerLength: 15, handleImpossibleAnswer: false },
    ),
  ).toMatch(/not on word boundaries/);
});
