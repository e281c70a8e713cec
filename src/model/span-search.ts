/**
 * The answer search of Hugging Face's QuestionAnsweringPipeline (transformers v4.53:
 * `select_starts_ends`, `decode_spans`, `postprocess`), as pure functions over logits: masked
 * softmax per window ([CLS] keeps its share, it scores "no answer"), spans scored
 * p_start * p_end, answers with the same text merged across windows. The reference's details and
 * our two deliberate departures: docs/engine.md.
 */

/** A candidate answer in token positions of one window. */
export interface TokenSpan {
  /** Window positions of the first and last token of the span (inclusive). */
  start: number;
  end: number;
  score: number;
}

export interface WindowSelection {
  /** Best spans, best first, at most topK. Ties keep the lower (start, end) first, as numpy's argmax. */
  spans: TokenSpan[];
  /** p_start([CLS]) * p_end([CLS]): the window's "no answer" score. */
  nullScore: number;
}

/** What the search needs to know about one window's positions. */
export interface WindowMask {
  /** 1 where a token cannot be part of an answer (question, special tokens), 0 where it can, and 0 at [CLS]. */
  pMask: ArrayLike<number>;
  /** Window positions [contextFrom, contextTo) hold the context. */
  contextFrom: number;
  contextTo: number;
}

/** Value the reference writes over masked logits before the softmax. */
const MASKED_LOGIT = -10000;

/** Softmax over the positions the mask allows; masked positions get probability 0 (exp(-10000)). */
export function maskedSoftmax(logits: ArrayLike<number>, pMask: ArrayLike<number>): Float64Array {
  const n = logits.length;
  const out = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = pMask[i] ? MASKED_LOGIT : logits[i];
    if (v > max) max = v;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp((pMask[i] ? MASKED_LOGIT : logits[i]) - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) out[i] /= sum;
  return out;
}

/**
 * Top-k spans of one window. O(context × maxAnswerLength) with a k-sized sorted buffer, instead of
 * scoring and sorting the whole n × n matrix.
 */
export function selectSpans(
  startLogits: ArrayLike<number>,
  endLogits: ArrayLike<number>,
  mask: WindowMask,
  topK: number,
  maxAnswerLength: number,
): WindowSelection {
  const pStart = maskedSoftmax(startLogits, mask.pMask);
  const pEnd = maskedSoftmax(endLogits, mask.pMask);
  const nullScore = pStart[0] * pEnd[0];
  // The reference zeroes [CLS] (position 0) before searching spans.
  pStart[0] = 0;
  pEnd[0] = 0;

  const best: TokenSpan[] = [];
  const from = Math.max(mask.contextFrom, 0);
  const to = Math.min(mask.contextTo, pStart.length);
  for (let s = from; s < to; s++) {
    const ps = pStart[s];
    if (ps === 0) continue;
    const last = Math.min(s + maxAnswerLength - 1, to - 1);
    for (let e = s; e <= last; e++) {
      const score = ps * pEnd[e];
      if (score === 0) continue;
      // Strictly greater: an equal score found later (higher start or end) ranks after.
      if (best.length === topK && score <= best[best.length - 1].score) continue;
      let at = best.length;
      while (at > 0 && best[at - 1].score < score) at--;
      best.splice(at, 0, { start: s, end: e, score });
      if (best.length > topK) best.pop();
    }
  }
  return { spans: best, nullScore };
}

/** The context's tokens as the span-to-text mapping needs them. */
export interface ContextTokens {
  /** [start, end) of each context token in the context, UTF-16 units. */
  offsets: ReadonlyArray<readonly [number, number]>;
  wordIds: ReadonlyArray<number | null>;
}

/**
 * Character range of the context tokens [first, last] (indices into the context encoding), widened
 * to whole words when `alignToWords` (the reference's `token_to_word` + `word_to_chars`, looking only
 * at the tokens inside the window [windowStart, windowEnd)).
 */
export function spanToCharRange(
  tokens: ContextTokens,
  first: number,
  last: number,
  windowStart: number,
  windowEnd: number,
  alignToWords: boolean,
): [number, number] {
  let from = first;
  let to = last;
  if (alignToWords) {
    const startWord = tokens.wordIds[first];
    const endWord = tokens.wordIds[last];
    // Tokenizers without words keep to token offsets, as the reference's fallback does.
    if (startWord !== null && endWord !== null) {
      while (from > windowStart && tokens.wordIds[from - 1] === startWord) from--;
      while (to < windowEnd - 1 && tokens.wordIds[to + 1] === endWord) to++;
    }
  }
  return [tokens.offsets[from][0], tokens.offsets[to][1]];
}

/** A span already mapped to the context's characters, with its window score. */
export interface ScoredRange {
  start: number;
  end: number;
  score: number;
}

export interface RankedAnswer {
  text: string;
  score: number;
  start: number;
  end: number;
}

/**
 * The reference's `postprocess` merge: walks windows in order and their spans best first; an answer
 * whose text equals (case-insensitively) one already seen adds its score to it and keeps the first
 * one's offsets. Then the empty "no answer" (scored by the lowest [CLS] score of all windows) when
 * asked, a stable sort by score, and the first topK.
 */
export function rankAnswers(
  context: string,
  windows: ReadonlyArray<{ ranges: readonly ScoredRange[]; nullScore: number }>,
  topK: number,
  handleImpossibleAnswer: boolean,
): RankedAnswer[] {
  const answers: RankedAnswer[] = [];
  const byText = new Map<string, RankedAnswer>();
  let minNullScore = 1_000_000;
  for (const window of windows) {
    minNullScore = Math.min(minNullScore, window.nullScore);
    for (const range of window.ranges) {
      const text = context.slice(range.start, range.end);
      const key = text.toLowerCase();
      const seen = byText.get(key);
      if (seen) {
        seen.score += range.score;
      } else {
        const answer = { text, score: range.score, start: range.start, end: range.end };
        byText.set(key, answer);
        answers.push(answer);
      }
    }
  }
  if (handleImpossibleAnswer) answers.push({ text: '', score: minNullScore, start: 0, end: 0 });
  // Array.prototype.sort is stable, as Python's sorted: equal scores keep window order.
  return answers.sort((a, b) => b.score - a.score).slice(0, topK);
}
