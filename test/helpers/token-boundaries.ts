/**
 * An independent check of answer offsets. An answer's span must start where a token of the context
 * starts and end where one ends (with `alignToWords`, where a word starts and ends), as the Rust
 * tokenizer itself reports them, and cover at most `maxAnswerLength` tokens when not widened to
 * words. The code point → UTF-16 mapping is recomputed here, apart from the engine's
 * (src/model/tokenizer.ts, utf16-offsets.ts), so an engine whose offsets drift, for example past
 * an emoji, fails. Checking `context.slice(start, end) === text` alone proves nothing: the engine
 * builds `text` as that slice.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from 'tokenizers';

let bertJson: string | undefined;
/**
 * bert-base-uncased's tokenizer.json: the tokenizer of every generated test model (scripts/model-generator
 * copies it) and of the reference model (a link to the same file).
 */
export function bertTokenizerJson(): string {
  return (bertJson ??= readFileSync(
    path.resolve(__dirname, '..', 'fixtures', 'bert-base-uncased', 'tokenizer.json'),
    'utf8',
  ));
}

export interface Span {
  text: string;
  start: number;
  end: number;
}

export interface ContextBoundaries {
  context: string;
  /** Each token's [start, end) in UTF-16 units of the context. */
  tokens: Array<[number, number]>;
  wordStarts: Set<number>;
  wordEnds: Set<number>;
}

const tokenizers = new Map<string, Tokenizer>();

/** UTF-16 index of each code point index of `text` (one more for the end), as JavaScript sees it. */
function utf16Index(text: string): number[] {
  const index = [0];
  // Array.from walks code points; a lone surrogate is one (the Rust side reads it as U+FFFD).
  for (const ch of Array.from(text)) index.push(index[index.length - 1]! + ch.length);
  return index;
}

/** Token and word boundaries of `context` under the tokenizer of `tokenizerJson`. */
export async function contextBoundaries(tokenizerJson: string, context: string): Promise<ContextBoundaries> {
  let tokenizer = tokenizers.get(tokenizerJson);
  if (!tokenizer) {
    tokenizer = Tokenizer.fromString(tokenizerJson);
    tokenizer.disableTruncation();
    tokenizer.disablePadding();
    tokenizers.set(tokenizerJson, tokenizer);
  }
  const encoding = await tokenizer.encode(context, null, { addSpecialTokens: false });
  const index = utf16Index(context);
  const tokens = encoding.getOffsets().map(([s, e]) => [index[s!]!, index[e!]!] as [number, number]);
  const wordStarts = new Set<number>();
  const wordEnds = new Set<number>();
  for (const word of new Set(encoding.getWordIds())) {
    if (word === null || word === undefined) continue;
    const chars = encoding.wordToChars(word);
    if (!chars) continue;
    wordStarts.add(index[chars[0]]!);
    wordEnds.add(index[chars[1]]!);
  }
  return { context, tokens, wordStarts, wordEnds };
}

/**
 * What is wrong with `span` as an answer on this context (null when nothing): not the context's
 * text at those offsets, not on token (or word) boundaries, empty where no empty answer may be,
 * or longer than `maxAnswerLength` tokens.
 */
export function spanProblem(
  b: ContextBoundaries,
  span: Span,
  options: { alignToWords: boolean; maxAnswerLength: number; handleImpossibleAnswer: boolean },
): string | null {
  const where = `${JSON.stringify(span.text)} [${span.start},${span.end})`;
  if (span.start === 0 && span.end === 0 && span.text === '')
    return options.handleImpossibleAnswer ? null : `${where}: the empty answer, not asked for`;
  if (!(0 <= span.start && span.start < span.end && span.end <= b.context.length))
    return `${where}: not a span of the ${b.context.length}-unit context`;
  if (b.context.slice(span.start, span.end) !== span.text)
    return `${where}: the text is not the context's at those offsets`;
  const covered = b.tokens.filter(([s, e]) => s >= span.start && e <= span.end).length;
  if (covered === 0) return `${where}: covers no token`;
  if (options.alignToWords) {
    if (!b.wordStarts.has(span.start) || !b.wordEnds.has(span.end)) return `${where}: not on word boundaries`;
    return null;
  }
  if (!b.tokens.some(([s]) => s === span.start) || !b.tokens.some(([, e]) => e === span.end))
    return `${where}: not on token boundaries`;
  if (covered > options.maxAnswerLength)
    return `${where}: ${covered} tokens, over maxAnswerLength ${options.maxAnswerLength}`;
  return null;
}

/** Every problem of `spans` on `context` (an empty list when they are all sound answers). */
export async function spanProblems(
  tokenizerJson: string,
  context: string,
  spans: readonly Span[],
  options: Partial<{ alignToWords: boolean; maxAnswerLength: number; handleImpossibleAnswer: boolean }> = {},
): Promise<string[]> {
  const b = await contextBoundaries(tokenizerJson, context);
  const resolved = { alignToWords: true, maxAnswerLength: 15, handleImpossibleAnswer: false, ...options };
  return spans.map((s) => spanProblem(b, s, resolved)).filter((p): p is string => p !== null);
}
