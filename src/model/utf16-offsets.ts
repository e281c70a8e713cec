/**
 * Hugging Face's Rust tokenizers report character offsets in Unicode code points; JavaScript strings
 * index UTF-16 code units. An emoji or an astral CJK character is one code point but two units, so
 * every offset after one would be off by one per such character. This module converts.
 */

/** Maps code point indices of one string to UTF-16 unit indices. */
export interface CodePointIndex {
  /** UTF-16 index of the code point at `codePointIndex` (the string's length for the end). */
  toUtf16(codePointIndex: number): number;
}

const IDENTITY: CodePointIndex = { toUtf16: (i) => i };

/**
 * Builds the conversion for `text`. When the text has no surrogate pairs (the common case) the
 * two indexings agree and no table is built.
 */
export function codePointIndex(text: string): CodePointIndex {
  if (!/[\uD800-\uDBFF][\uDC00-\uDFFF]/.test(text)) return IDENTITY;
  // table[cp] = UTF-16 index of code point cp; one extra slot for the end of the string.
  const table: number[] = [];
  let unit = 0;
  // for..of walks code points, yielding a lone surrogate as one (as the Rust side sees U+FFFD).
  for (const ch of text) {
    table.push(unit);
    unit += ch.length;
  }
  table.push(unit);
  return {
    toUtf16: (i) => table[Math.min(Math.max(i, 0), table.length - 1)],
  };
}
