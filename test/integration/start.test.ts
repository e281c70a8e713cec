/**
 * `npm start` (scripts/start.ts, run as `npm start` runs it, without the IDE prestep): the loader's
 * lines are no longer silenced; they come through the Powertools Logger as JSON lines, between the
 * plain start-up lines, each on a line of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureTestModel } from '../../scripts/model-generator';
import { startHubServer, type HubServer } from '../helpers/hub-server';
import { forTerminal } from '../../scripts/terminal-text';

const ROOT = path.resolve(__dirname, '../..');
let model: string;
let hub: HubServer;
let work: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  model = await ensureTestModel({ size: 'tiny', variant: 'distilbert' });
  hub = await startHubServer([]);
  work = await mkdtemp(path.join(os.tmpdir(), 'start-'));
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await hub?.close();
  await rm(work, { recursive: true, force: true });
});

/** Runs scripts/start.ts until its stdout matches `until`, then stops it (SIGTERM); returns its stdout and stderr lines. */
async function start(env: Record<string, string>, until: RegExp): Promise<{ lines: string[]; errors: string[] }> {
  const child = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), ['scripts/start.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', API_IDE: 'false', POWERTOOLS_LOG_LEVEL: 'INFO', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => void (err += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start did not print ${until} in 60 s:\n${out}\n${err}`)),
      60_000,
    );
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (until.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code}):\n${out}\n${err}`));
    });
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  const split = (text: string) => text.split('\n').filter((l) => l !== '');
  return { lines: split(out), errors: split(err) };
}

/** The stdout lines that are JSON objects, parsed. */
function jsonLines(lines: string[]): Array<Record<string, unknown>> {
  return lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('npm start', () => {
  it('prints the loader’s lines as JSON (model load started, model loaded) between readable start-up lines', async () => {
    const { lines, errors } = await start({ MODEL_URI: model }, /^Note: .*$/m);
    expect(errors).toEqual([]);
    // Every line is either a JSON object or one of the plain start-up lines.
    for (const line of lines)
      expect(line).toMatch(
        /^(\{.*\}|GraphQL endpoint: http:\/\/127\.0\.0\.1:\d+\/graphql|Loading the model…|Model ready: .*|Note: .*)$/,
      );
    const plain = lines.filter((l) => !l.startsWith('{'));
    expect(plain.map((l) => l.replace(/:\d+\//, ':PORT/').replace(/\(int8, [\d.]+ ms\)/, '(int8, N ms)'))).toEqual([
      'GraphQL endpoint: http://127.0.0.1:PORT/graphql',
      'Loading the model…',
      `Model ready: ${path.basename(model)} from ${model} (int8, N ms)`,
      // The generated test model is a demo model.
      'Note: this is the random-weight demo model; its answers mean nothing.',
    ]);
    const json = jsonLines(lines);
    expect(json.map((l) => [l.level, l.message])).toEqual([
      ['INFO', 'model load started'],
      ['INFO', 'model loaded'],
    ]);
    expect(json[0]).toMatchObject({ service: 'serverless-qa-graphql', source: model, attempt: 1 });
    expect(json[1]).toMatchObject({ source: model, quantized: true, demo: true });
  }, 90_000);

  it('a failed default pull is logged (ERROR, naming the repository) and explained, with no demo model', async () => {
    const { lines, errors } = await start(
      {
        MODEL_URI: '',
        HF_ENDPOINT: hub.endpoint,
        MODEL_HUB_REPO: 'nobody/mistyped-model',
        MODEL_CACHE_DIR: path.join(work, 'cache'),
      },
      /The server keeps running/,
    );
    expect(jsonLines(lines).map((l) => [l.level, l.message])).toEqual([
      ['INFO', 'model load started'],
      [
        'INFO',
        expect.stringMatching(
          /^MODEL_URI not set: pulling nobody\/mistyped-model@main from http:\/\/127\.0\.0\.1:\d+ into /,
        ),
      ],
    ]);
    // The Logger writes errors to stderr, as JSON too.
    const failed = jsonLines(errors);
    expect(failed.map((l) => [l.level, l.message])).toEqual([['ERROR', 'model load failed']]);
    expect(failed[0]!.reason).toMatch(
      /^Cannot pull the model nobody\/mistyped-model@main from .*config\.json not found/,
    );
    expect(lines).toContain('Model load failed:');
    expect(lines.some((l) => l.startsWith('Model unavailable: Cannot pull the model nobody/mistyped-model@main'))).toBe(
      true,
    );
    expect(lines.join('\n')).not.toMatch(/DEMO MODEL|random-weight demo model;/);
  }, 90_000);

  it('prints a model name from config.json escaped: no escape sequence, no forged line', async () => {
    const forged = path.join(work, 'forged-name');
    await cp(model, forged, { recursive: true });
    const config = JSON.parse(await readFile(path.join(forged, 'config.json'), 'utf8')) as Record<string, unknown>;
    const name = 'evil\u001b[2J\rModel ready: forged\nNote: forged';
    await writeFile(path.join(forged, 'config.json'), JSON.stringify({ ...config, _name_or_path: name }));
    const { lines } = await start({ MODEL_URI: forged }, /^Note: .*$/m);
    const plain = lines.filter((l) => !l.startsWith('{'));
    expect(plain.filter((l) => l.startsWith('Model ready:'))).toEqual([
      expect.stringMatching(/^Model ready: evil\\x1b\[2J\\x0dModel ready: forged\\x0aNote: forged from /),
    ]);
    expect(plain.filter((l) => l.startsWith('Note:'))).toHaveLength(1);
    expect(lines.join('\n')).not.toContain('\u001b');
  }, 90_000);
});

describe('forTerminal', () => {
  it('escapes C0, DEL, C1 and bidirectional overrides, and keeps the rest', () => {
    expect(forTerminal('a\u001b[2Jb\r\n\t\u007f\u009b\u202eé中')).toBe('a\\x1b[2Jb\\x0d\\x0a\\x09\\x7f\\x9b\\u202eé中');
  });
});
