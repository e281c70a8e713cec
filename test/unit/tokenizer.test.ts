import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QATokenizer } from '../../src/model/tokenizer';
import { codePointIndex } from '../../src/model/utf16-offsets';

const tokenizer = QATokenizer.fromJson(
  readFileSync(join(__dirname, '../fixtures/bert-base-uncased/tokenizer.json'), 'utf8'),
);

/** What bert-base-uncased's normalizer does to a piece of text: lowercase, strip accents. */
const normalize = (s: string) => s.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '');

const CONTEXTS = [
  'The café in Zürich serves crème brûlée 🍮 every day.',
  'Tokyo 東京 and the astral 𠀋𡈽 characters, then 😀😀 emoji and 👩‍👩‍👧 families.',
  'Tabs\tand\nnewlines\r\nand non\u00a0breaking\u00a0spaces, naïve résumé.',
  'Ünïcödé 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 mathematical letters and a lone surrogate \ud800 here.',
];

describe('QATokenizer', () => {
  it.each(CONTEXTS)('gives UTF-16 offsets whose slices are the tokens: %s', async (text) => {
    const encoded = await tokenizer.encode(text);
    expect(encoded.ids.length).toBe(encoded.offsets.length);
    let previousEnd = 0;
    encoded.ids.forEach((id, i) => {
      const [start, end] = encoded.offsets[i];
      expect(start).toBeGreaterThanOrEqual(previousEnd);
      expect(end).toBeGreaterThan(start);
      expect(end).toBeLessThanOrEqual(text.length);
      // Never splits a surrogate pair.
      expect(/^[\uDC00-\uDFFF]/.test(text.slice(start))).toBe(false);
      previousEnd = end;
      if (id === 100) return; // [UNK] covers a whole word the vocabulary lacks
      const token = (tokenizer as any).tokenizer.idToToken(id).replace(/^##/, '');
      expect(normalize(text.slice(start, end))).toBe(token);
    });
  });

  it('marks sub-words of one word with the same word id', async () => {
    const encoded = await tokenizer.encode('unbelievably tokenized');
    const words = encoded.wordIds;
    expect(encoded.ids.length).toBeGreaterThan(2);
    expect(new Set(words).size).toBe(2);
  });

  it('neither truncates nor pads, whatever the length', async () => {
    const long = 'word '.repeat(5000);
    const encoded = await tokenizer.encode(long);
    expect(encoded.ids).toHaveLength(5000);
  });
});

describe('codePointIndex', () => {
  it('maps code point indices to UTF-16 indices past astral characters', () => {
    const text = 'a😀b𠀋c';
    const index = codePointIndex(text);
    expect([0, 1, 2, 3, 4, 5].map((i) => index.toUtf16(i))).toEqual([0, 1, 3, 4, 6, 7]);
    expect(text.slice(index.toUtf16(3), index.toUtf16(4))).toBe('𠀋');
  });
  it('is the identity for text without surrogate pairs', () => {
    expect(codePointIndex('plain text').toUtf16(7)).toBe(7);
  });
});
