/**
 * docs/benchmarks.md is written by the bench, a section per command: `npm run bench` writes the
 * page, and the commands that measure alone (`--sections optimized`, `--sections budget`,
 * `bench:cold`, `bench:download`) replace their own `## ` section in it, so every figure on the
 * page comes from a run and none is pasted by hand. A full run keeps the sections it does not
 * measure (`SECTIONS_MEASURED_ALONE`).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { OPTIMIZED_HEADING } from './sections/optimized';

export { OPTIMIZED_HEADING };

export const BENCHMARKS_DOC = path.resolve(__dirname, '..', 'docs', 'benchmarks.md');

export const COLD_HEADING = '## Cold start measured cold (`npm run bench:cold`)';
export const DOWNLOAD_HEADING = '## Download against the floor Node sets (`npm run bench:download`)';

/** Sections a full `npm run bench` does not measure, each kept from the page it replaces, in order. */
export const SECTIONS_MEASURED_ALONE = [DOWNLOAD_HEADING, COLD_HEADING, OPTIMIZED_HEADING] as const;

/** Where a section measured alone goes when the page has none yet. */
const PLACED_BEFORE = '## Peak memory while serving';

/** The section of `doc` that starts at `heading`, up to the next `## ` heading, or undefined. */
export function keptSection(doc: string, heading: string): string | undefined {
  const start = doc.indexOf(`${heading}\n`);
  if (start < 0) return undefined;
  const end = doc.indexOf('\n## ', start + heading.length);
  return end >= 0 ? doc.slice(start, end + 1) : doc.slice(start);
}

/** `doc` with the section that starts at `heading` replaced by `section` (or inserted before `before`). */
export function spliceSection(doc: string, heading: string, section: string, before = PLACED_BEFORE): string {
  const start = doc.indexOf(`${heading}\n`);
  if (start >= 0) {
    const end = doc.indexOf('\n## ', start + heading.length);
    return doc.slice(0, start) + section + (end >= 0 ? doc.slice(end + 1) : '');
  }
  const at = doc.indexOf(`${before}\n`);
  return at >= 0 ? doc.slice(0, at) + section + doc.slice(at) : `${doc}\n${section}`;
}

/** Replaces the section at `heading` in docs/benchmarks.md (when the page exists); true when written. */
export function writeSection(heading: string, section: string, before?: string): boolean {
  if (!existsSync(BENCHMARKS_DOC)) return false;
  writeFileSync(BENCHMARKS_DOC, spliceSection(readFileSync(BENCHMARKS_DOC, 'utf8'), heading, section, before));
  return true;
}

/** A section's first lines: its heading and when and how it was measured. */
export function sectionHead(heading: string, how: string): string {
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
  return `${heading}\n\nMeasured ${new Date().toISOString().slice(0, 10)} (load average at the end ${load}). ${how}\n\n`;
}
