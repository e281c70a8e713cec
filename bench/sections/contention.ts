/**
 * 1 against 2 threads while another process keeps one core busy: what a shared machine, a Lambda
 * with less than one full vCPU of time, or a second request in the same container looks like. A
 * 2-thread pool splits every operator across both cores and waits for the slower half, so one
 * stolen core can cost more than the second thread gains.
 */
import { spawn } from 'node:child_process';
import type { Floor } from '../floor';
import type { ModelFolder } from '../model-folder';
import { engineWindows } from '../floor';
import type { SizedInput } from '../inputs';
import { interleave, type Case, type Summary } from '../stats';

/** A busy loop on one core, bounded in time so it can never outlive a crashed bench. */
function startHog(maxSeconds: number) {
  return spawn(process.execPath, ['-e', `const end = Date.now() + ${maxSeconds * 1000}; while (Date.now() < end) {}`], {
    stdio: 'ignore',
  });
}

export async function runContention(
  model: ModelFolder,
  floors: Map<string, Floor>,
  inputs: readonly SizedInput[],
  rounds: number,
  log: (m: string) => void,
): Promise<Map<string, Summary>> {
  const cases: Case[] = [];
  for (const [i, name] of ['~150', '~380'].entries()) {
    const input = inputs[i]!;
    const windows = await engineWindows(model.tokenizer, input.question, input.context);
    for (const t of [1, 2]) {
      const floor = floors.get(`int8/${t}`)!;
      const feeds = floor.feeds(windows);
      cases.push({ id: `${t}/${name}`, run: () => floor.run(feeds) });
    }
  }
  const hog = startHog(180);
  try {
    log(`  ${cases.length} cases × ${rounds} rounds with one core busy`);
    return await interleave(cases, { warmup: 2, rounds, seed: 9, pauseMs: 25 });
  } finally {
    hog.kill('SIGKILL');
  }
}
