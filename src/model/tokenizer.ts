/**
 * Tokenization with Hugging Face's Rust `tokenizers` (exact ids and offsets). Truncation and padding
 * are switched off: the Rust truncation with a stride silently drops most of a long context
 * (huggingface/tokenizers#2091) and panics when the stride does not fit, which kills the process.
 * Question and context are encoded separately, without special tokens; windows are cut in
 * TypeScript (see windows.ts) from the layout read here.
 */
import { Tokenizer } from 'tokenizers';
import { recognizeTokenizer } from './model-family';
import { pairLayoutFromTokenizerJson, type PairLayout } from './special-tokens';
import type { TokenizerFamily } from './types';
import { codePointIndex } from './utf16-offsets';
import { backtrackingProblem, regexPatterns } from './regex-safety';

/** One text's tokens, with offsets already converted to UTF-16 units of that text. */
export interface EncodedText {
  ids: number[];
  /** [start, end) of each token in the text, UTF-16 units, end exclusive. */
  offsets: Array<[number, number]>;
  /** The word each token belongs to (the pre-tokenizer's words), for `alignToWords`. */
  wordIds: Array<number | null>;
}

export class QATokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    /** Where [CLS]/[SEP] (or their equivalents) go around a question/context pair. */
    readonly layout: PairLayout,
    /** Its model and post-processor, as recognised (model-family.ts). */
    readonly family: TokenizerFamily,
  ) {}

  /**
   * Loads the contents of a `tokenizer.json`. Throws on invalid JSON, and UnsupportedModelError for
   * a tokenizer the engine cannot assemble windows with.
   */
  static fromJson(tokenizerJson: string): QATokenizer {
    const parsed = JSON.parse(tokenizerJson);
    const family = recognizeTokenizer(parsed);
    // Before the Rust library sees them: a pattern that backtracks would abort the process on some
    // request (regex-safety.ts says why this is checked statically).
    for (const { at, pattern } of regexPatterns(parsed)) {
      const problem = backtrackingProblem(pattern);
      if (problem)
        throw new Error(
          `tokenizer.json: the regex ${JSON.stringify(pattern)} at ${at} can backtrack exponentially (${problem})`,
        );
    }
    const layout = pairLayoutFromTokenizerJson(parsed);
    const tokenizer = Tokenizer.fromString(tokenizerJson);
    tokenizer.disableTruncation();
    tokenizer.disablePadding();
    return new QATokenizer(tokenizer, layout, family);
  }

  async encode(text: string): Promise<EncodedText> {
    const encoding = await this.tokenizer.encode(text, null, { addSpecialTokens: false });
    const index = codePointIndex(text);
    return {
      ids: encoding.getIds(),
      offsets: encoding.getOffsets().map(([s, e]) => [index.toUtf16(s), index.toUtf16(e)] as [number, number]),
      wordIds: encoding.getWordIds().map((w) => (w === undefined || w === null || w < 0 ? null : w)),
    };
  }
}
