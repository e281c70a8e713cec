/**
 * onnxruntime's warm-up (src/model/onnxruntime/warm-up.ts), run by the loader while the model's
 * bytes arrive, changes nothing the model answers: fresh processes (so the warm-up session really is
 * the process's first) load the reference fixture's int8 model with and without it, and both
 * answer exactly alike, and as the independent reference does.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from '@jest/globals';
import { loadOnnxRuntime } from '../../src/model/onnxruntime/load';
import { oneNodeGraph, warmUpOnnxRuntime } from '../../src/model/onnxruntime/warm-up';
import type { Answer } from '../../src/model/types';
import { compareAnswers, referenceExpected } from '../helpers/reference-qa';

const CHILD = path.join(__dirname, 'runtime-warm-up.child.ts');
const CASES = 12;

interface ChildOutput {
  runtimeWarmUpMs: number | null;
  results: Array<{ id: string; answers: Answer[] }>;
}

async function runChild(warmUp: boolean): Promise<ChildOutput> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', CHILD, warmUp ? '1' : '0', String(CASES)],
    { cwd: path.resolve(__dirname, '..', '..'), maxBuffer: 16 * 2 ** 20 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as ChildOutput;
}

describe('onnxruntime warm-up', () => {
  test('the one-node graph is a real model: its session runs and returns its input', async () => {
    const ort = await loadOnnxRuntime();
    const session = await ort.InferenceSession.create(oneNodeGraph());
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(2.5), [1]) });
    await session.release();
    expect(Array.from(out.y!.data as Float32Array)).toEqual([2.5]);
    expect(await warmUpOnnxRuntime()).toBeGreaterThan(0);
  });

  test('a fresh process answers the same with and without it, and as the reference does', async () => {
    const [warm, cold] = await Promise.all([runChild(true), runChild(false)]);
    expect(typeof warm.runtimeWarmUpMs).toBe('number');
    expect(cold.runtimeWarmUpMs).toBeNull();
    expect(warm.results).toHaveLength(CASES);
    expect(warm.results).toEqual(cold.results);
    const expected = referenceExpected('int8');
    for (const { id, answers } of warm.results) {
      const reference = expected.get(id)!;
      expect([id, compareAnswers(reference.answers, answers, reference.flags)]).toEqual([id, null]);
    }
  }, 120_000);
});
