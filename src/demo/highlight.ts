/**
 * Cutting a context into the pieces the demo page shows: plain text, and highlighted runs that
 * each belong to the best-ranked answer covering them. Pure, so the offsets logic is testable
 * without a browser.
 *
 * Answers are UTF-16 offsets (the API's `start`/`end`), which is what String.prototype.slice and
 * DOM text offsets count, so slicing here puts each highlight exactly at the API's offsets. The
 * top-k answers of one question often overlap (a span and a longer span around it); a piece
 * covered by several gets the best rank, so the best answer is always one unbroken run.
 */
export interface Offsets {
  start: number;
  end: number;
}

export interface Piece {
  text: string;
  /** Index (0 = best) of the best answer covering this piece; null for plain text. */
  rank: number | null;
}

export function pieces(context: string, answers: readonly Offsets[]): Piece[] {
  // The no-answer result (start = end) covers nothing; an answer outside the context is ignored.
  const spans = answers
    .map((a, rank) => ({ start: a.start, end: a.end, rank }))
    .filter((a) => a.start < a.end && a.start >= 0 && a.end <= context.length);
  const cuts = [...new Set([0, context.length, ...spans.flatMap((s) => [s.start, s.end])])].sort((a, b) => a - b);
  const out: Piece[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const from = cuts[i]!;
    const to = cuts[i + 1]!;
    const covering = spans.filter((s) => s.start <= from && s.end >= to).map((s) => s.rank);
    const rank = covering.length > 0 ? Math.min(...covering) : null;
    const last = out[out.length - 1];
    if (last && last.rank === rank) last.text += context.slice(from, to);
    else out.push({ text: context.slice(from, to), rank });
  }
  return out;
}
