/**
 * No input crashes the process: the whole abuse suite and the cost attacks, through both
 * transports, in a child process that dies of an unhandled rejection (Node's default, as on Lambda
 * and under `npm start`), once with the model unavailable and once with a working model.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { CASES } from './helpers/abuse-cases';
import { COST_ATTACKS } from './helpers/cost-attacks';

const CHILD = path.join(__dirname, 'crash-child.ts');
const ROOT = path.resolve(__dirname, '..', '..');

function runChild(mode: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // No --unhandled-rejections flag and no NODE_OPTIONS: Node's default ("throw") applies.
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the harness itself dies of an unhandled rejection (so a pass below means something)', async () => {
  const { code, stderr } = await runChild('self-check');
  expect(code).not.toBe(0);
  expect(stderr).toContain('deliberately unhandled');
});

test.each(['unavailable', 'working'])(
  'with the model %s, every hostile request is answered and the process stays alive',
  async (mode) => {
    const { code, stdout, stderr } = await runChild(mode);
    expect({ code, stderr: stderr.split('\n').filter((l) => /Unhandled|uncaught|Error/i.test(l)) }).toEqual({
      code: 0,
      stderr: [],
    });
    const report = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(report).toMatchObject({ mode, alive: true, sent: 2 * (CASES.length + COST_ATTACKS.length + 1) });
    // Hostile requests are the client's fault or the model's absence: never a 500.
    expect(Object.keys(report.statuses).filter((s) => Number(s) >= 500 && Number(s) !== 503)).toEqual([]);
    expect(report.lastStatus).toBe(mode === 'working' ? 200 : 503);
  },
  300_000,
);
