/**
 * The shell blocks of a markdown file that are marked to run in tests: a fenced ```sh block right
 * after a line `<!-- doc-test: NAME -->`. Blocks without the marker are prose examples and stay
 * free. Blocks of one file with the same NAME form one sequence, in document order.
 */

export interface DocCommand {
  /** The command as a shell reads it: continuation lines (`\` at the end) joined. */
  text: string;
  /** 1-based line of the command's first line in the markdown file. */
  line: number;
}

export interface DocBlock {
  name: string;
  /** 1-based line of the opening fence. */
  line: number;
  commands: DocCommand[];
}

const MARKER = /^<!--\s*doc-test:\s*([\w-]+)\s*-->\s*$/;

/** The marked blocks of `markdown`; a marker not directly followed by a ```sh fence is an error. */
export function markedBlocks(markdown: string, file = 'markdown'): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = MARKER.exec(lines[i]!.trim());
    if (!marker) continue;
    // Strictly the next line: a marker that drifted away from its block must not run another one.
    if (!/^```(sh|bash)\s*$/.test(lines[i + 1] ?? '')) {
      throw new Error(`${file}:${i + 1}: "doc-test: ${marker[1]}" must be the line right before a \`\`\`sh fence`);
    }
    const block: DocBlock = { name: marker[1]!, line: i + 2, commands: [] };
    let j = i + 2;
    let pending: DocCommand | undefined;
    for (; j < lines.length && !/^```\s*$/.test(lines[j]!); j++) {
      const raw = lines[j]!;
      if (!pending && (raw.trim() === '' || raw.trim().startsWith('#'))) continue;
      const continued = /\\\s*$/.test(raw);
      const part = continued ? raw.replace(/\\\s*$/, '') : raw;
      pending = pending ? { ...pending, text: `${pending.text} ${part.trim()}` } : { text: part.trimEnd(), line: j + 1 };
      if (!continued) {
        block.commands.push(pending);
        pending = undefined;
      }
    }
    if (j >= lines.length) throw new Error(`${file}:${block.line}: the "doc-test: ${block.name}" block is never closed`);
    if (pending) throw new Error(`${file}:${pending.line}: the last command of "doc-test: ${block.name}" ends with a line continuation`);
    blocks.push(block);
    i = j;
  }
  return blocks;
}

/** Marked blocks grouped by name, each group's commands in document order. */
export function markedSequences(markdown: string, file = 'markdown'): Map<string, DocCommand[]> {
  const sequences = new Map<string, DocCommand[]>();
  for (const block of markedBlocks(markdown, file)) sequences.set(block.name, [...(sequences.get(block.name) ?? []), ...block.commands]);
  return sequences;
}
