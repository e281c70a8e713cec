/**
 * Every ```graphql block of the README and the docs can be pasted as is: it parses and validates
 * against the schema (no `…` placeholders, no field the API does not have).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { buildSchema, parse, validate } from 'graphql';

const ROOT = path.resolve(__dirname, '..', '..');
const FILES = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const schema = buildSchema(readFileSync(path.join(ROOT, 'schema', 'schema.graphql'), 'utf8'));

/** The ```graphql blocks of a markdown file, with the line of each opening fence. */
function graphqlBlocks(file: string): Array<{ line: number; text: string }> {
  const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const blocks: Array<{ line: number; text: string }> = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```graphql\s*$/.test(lines[i]!)) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    blocks.push({ line: i + 1, text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

describe('query blocks in the docs', () => {
  const blocks = FILES.flatMap((file) => graphqlBlocks(file).map((b) => ({ file, ...b })));

  it('the README and docs/api.md have some', () => {
    expect(blocks.filter((b) => b.file === 'README.md').length).toBeGreaterThan(0);
    expect(blocks.filter((b) => b.file === 'docs/api.md').length).toBeGreaterThan(0);
  });

  it.each(blocks.map((b) => [`${b.file}:${b.line}`, b.text]))('%s parses and validates against the schema', (_where, text) => {
    const errors = validate(schema, parse(text)).map((e) => e.message);
    expect(errors).toEqual([]);
  });
});
