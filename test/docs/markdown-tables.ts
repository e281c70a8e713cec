/** Just enough markdown to read the docs' pipe tables (no dependency). */

export interface Table {
  /** The nearest heading above the table, without its #s. */
  heading: string;
  header: string[];
  rows: string[][];
}

function cells(line: string): string[] {
  return line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
}

export function parseTables(markdown: string): Table[] {
  const tables: Table[] = [];
  const lines = markdown.split('\n');
  let heading = '';
  let inFence = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*```/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const h = /^#{1,6}\s+(.*)$/.exec(line);
    if (h) { heading = h[1]!.trim(); continue; }
    if (line.startsWith('|') && /^\|?\s*:?-{3,}/.test(lines[i + 1] ?? '')) {
      const table: Table = { heading, header: cells(line), rows: [] };
      i += 2;
      while (i < lines.length && lines[i]!.startsWith('|')) table.rows.push(cells(lines[i++]!));
      i--;
      tables.push(table);
    }
  }
  return tables;
}

/**
 * The variable names in a table's first cell: each `NAME` in backticks; `PREFIX_*` stays a
 * wildcard; a `_SUFFIX` form after a full name (`MODEL_S3_CONNECT_TIMEOUT_MS` / `_IDLE_TIMEOUT_MS`)
 * replaces as many of that name's last words as it has.
 */
export function tableVariables(cell: string): string[] {
  const names: string[] = [];
  for (const m of cell.matchAll(/`([A-Z_][A-Z0-9_]*\*?)`/g)) {
    const token = m[1]!;
    if (token.startsWith('_')) {
      const previous = names[names.length - 1];
      if (!previous) throw new Error(`"${token}" has no full name before it in "${cell}"`);
      const words = previous.split('_');
      const suffixWords = token.slice(1).split('_');
      names.push([...words.slice(0, words.length - suffixWords.length), ...suffixWords].join('_'));
    } else if (/^[A-Z][A-Z0-9_]*[A-Z0-9*]$/.test(token)) {
      names.push(token);
    }
  }
  return names;
}

const UNITS: Record<string, number> = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/**
 * A stated default: true/false, a number (1048576, 1,048,576, 1_048_576, 16 MiB; the first one in
 * the cell), otherwise the cell's text; undefined for "—" or an empty cell.
 */
export function parseDefault(cell: string): number | boolean | string | undefined {
  const text = cell.replace(/`/g, '').trim();
  if (text === '' || text === '—' || text === '-') return undefined;
  const bool = /^(true|false)\b/.exec(text);
  if (bool) return bool[1] === 'true';
  const num = /(\d[\d,_]*(?:\.\d+)?)(?:\s*(KiB|MiB|GiB)\b)?/.exec(text);
  if (num) return Number(num[1]!.replace(/[,_]/g, '')) * (num[2] ? UNITS[num[2]]! : 1);
  return text;
}
