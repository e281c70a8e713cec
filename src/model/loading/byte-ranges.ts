/** The byte ranges of a ranged read (pure): which parts cover an object, and its size from a 206. */

/** One ranged GET's share of an object. */
export interface Part {
  index: number;
  start: number;
  /** Inclusive, as in a Range header. */
  end: number;
}

/** `bytes a-b/total` → total, or undefined. */
export function totalFromContentRange(value: string | undefined): number | undefined {
  const m = /^bytes\s+\d+-\d+\/(\d+)$/.exec(value?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Parts of `partBytes` covering `[0, total)`, the last one shorter. */
export function planParts(total: number, partBytes: number): Part[] {
  if (total <= 0) return [];
  const size = Number.isFinite(partBytes) && partBytes > 0 ? Math.floor(partBytes) : total;
  const parts: Part[] = [];
  for (let start = 0, index = 0; start < total; start += size, index++) {
    parts.push({ index, start, end: Math.min(total, start + size) - 1 });
  }
  return parts;
}
