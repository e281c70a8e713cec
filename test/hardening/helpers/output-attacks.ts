/**
 * Requests that buy a large response with little model work (docs/operations.md, "Request budget"):
 * long "words" the tokenizer makes one token of (or drops to one letter), many `text` aliases,
 * topK at its limit, in an HTTP batch.
 */
import { JSON_HEADERS, type Req } from './transports';

/** Control characters JSON writes as `\u00XX` (6 bytes each) and the tokenizer drops. */
const CONTROLS = [...Array.from({ length: 8 }, (_, i) => 1 + i), ...Array.from({ length: 18 }, (_, i) => 14 + i)].map(
  (c) => String.fromCharCode(c),
);

/** `words` words of `wordLength` characters: a letter, then control characters (or `filler`). */
export function controlWords(words: number, wordLength = 200, filler?: string): string {
  return Array.from({ length: words }, (_, w) => {
    const letter = String.fromCharCode(97 + (w % 26));
    const rest = Array.from({ length: wordLength - 1 }, (_, i) => filler ?? CONTROLS[(w + i) % CONTROLS.length]).join(
      '',
    );
    return letter + rest;
  }).join(' ');
}

/** The attack: `operations` × answers(topK 20, maxAnswerLength 512) { t0: text … t48: text }. */
export function outputAttack(context: string, operations = 5, textAliases = 49): Req {
  const texts = Array.from({ length: textAliases }, (_, i) => `t${i}: text`).join(' ');
  const query = `query($c: String!) { answers(question: "What is it?", context: $c, topK: 20, options: { maxAnswerLength: 512 }) { ${texts} } }`;
  const op = { query, variables: { c: context } };
  return { headers: JSON_HEADERS, body: JSON.stringify(Array.from({ length: operations }, () => op)) };
}
