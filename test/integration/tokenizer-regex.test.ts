/**
 * A tokenizer.json whose pre-tokenizer or normalizer uses a regex that backtracks exponentially must
 * be refused at load: run on "a"×31 + "!", `(a+)+$` makes Oniguruma hit its retry limit and the
 * Rust library's panic aborts the process (SIGABRT). The load runs in a child process here, so
 * that the test survives the abort it guards against.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { backtrackingProblem, regexPatterns } from '../../src/model/regex-safety';

const REPO = path.join(__dirname, '../..');
const CHILD = path.join(__dirname, 'tokenizer-regex.child.ts');
const FIXTURE = path.join(__dirname, '../fixtures/bert-base-uncased/tokenizer.json');
let work: string;
let base: Record<string, unknown>;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'tokenizer-regex-'));
  base = JSON.parse(await readFile(FIXTURE, 'utf8')) as Record<string, unknown>;
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** The fixture with a Split pre-tokenizer (or a Replace normalizer) on `pattern` before its own. */
async function withRegex(name: string, pattern: string, where: 'pre_tokenizer' | 'normalizer'): Promise<string> {
  const json = { ...base };
  if (where === 'pre_tokenizer') {
    json.pre_tokenizer = {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
        base.pre_tokenizer,
      ],
    };
  } else {
    json.normalizer = {
      type: 'Sequence',
      normalizers: [{ type: 'Replace', pattern: { Regex: pattern }, content: ' ' }, base.normalizer],
    };
  }
  const file = path.join(work, `${name}.json`);
  await writeFile(file, JSON.stringify(json));
  return file;
}

function runChild(file: string, text: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', CHILD, file, text], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('a backtracking regex in tokenizer.json', () => {
  it.each(['pre_tokenizer', 'normalizer'] as const)(
    'in the %s is refused at load, naming it; the process lives',
    async (where) => {
      const file = await withRegex(`evil-${where}`, '(a+)+$', where);
      const child = runChild(file, `${'a'.repeat(31)}!`);
      expect(child.signal).toBeNull();
      expect(child.stdout).toContain('refused: tokenizer.json: the regex "(a+)+$"');
      expect(child.stdout).toContain(
        `at ${where}.${where === 'pre_tokenizer' ? 'pretokenizers' : 'normalizers'}[0].pattern`,
      );
    },
    70_000,
  );

  it('a safe Split pattern (GPT-2 style) still loads and encodes', async () => {
    const file = await withRegex(
      'gpt2',
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
      'pre_tokenizer',
    );
    const child = runChild(file, `${'a'.repeat(31)}!`);
    expect(child.signal).toBeNull();
    expect(child.stdout).toMatch(/^encoded \d+ tokens/);
  }, 70_000);
});

describe('the static check (pure)', () => {
  it.each([
    '(a+)+$',
    '(a*)*',
    '(a|a)+$',
    '(?:\\s+)+x',
    '((ab)*)+',
    '(\\w+\\s?)+$',
    '([a-z]+)*@',
    '(?<word>\\p{L}+){2,}',
    '(a+){1,5}',
  ])('refuses %s', (pattern) => {
    expect(backtrackingProblem(pattern)).toMatch(/^the repeated group /);
  });

  it.each([
    // GPT-2, Llama 3, Qwen 2 pre-tokenizer patterns; a Metaspace replacement; bounded repeats.
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    ' ',
    '\\s+',
    '(ab){2}',
    '(a+)',
    '[(+)]+',
    '\\(a+\\)+',
  ])('accepts %s', (pattern) => {
    expect(backtrackingProblem(pattern)).toBeNull();
  });

  it('finds every Regex in a tokenizer.json, skipping the vocabulary', () => {
    expect(
      regexPatterns({
        model: { vocab: { '{"Regex"': 1 } },
        normalizer: { type: 'Sequence', normalizers: [{ pattern: { Regex: 'x+' } }] },
      }),
    ).toEqual([{ at: 'normalizer.normalizers[0].pattern', pattern: 'x+' }]);
  });
});
