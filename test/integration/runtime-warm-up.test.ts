/**
 * What the loader does while the model's bytes arrive (onnxruntime's warm-up,
 * src/model/onnxruntime/warm-up.ts, and the early parse of tokenizer.json) changes nothing the
 * model answers: fresh processes (so the warm-up session really is the process's first) load the
 * reference fixture's int8 model with and without it, from a folder and from S3, and all answer
 * exactly alike, and as the independent reference does.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { pushModel } from '../../scripts/model-cli/push';
import { loadModel } from '../../src/model/loading/load-model';
import { loadOnnxRuntime } from '../../src/model/onnxruntime/load';
import type { QuestionAnswererSource } from '../../src/model/question-answerer';
import { QATokenizer } from '../../src/model/tokenizer';
import { oneNodeGraph, warmUpOnnxRuntime } from '../../src/model/onnxruntime/warm-up';
import type { Answer } from '../../src/model/types';
import { compareAnswers, referenceExpected, REFERENCE_MODEL_DIR } from '../helpers/reference-qa';
import { startS3, type TestS3 } from '../helpers/s3rver';

const CHILD = path.join(__dirname, 'runtime-warm-up.child.ts');
const CASES = 12;
const URI = 's3://models/reference/';

interface ChildOutput {
  runtimeWarmUpMs: number | null;
  tokenizerMs: number;
  results: Array<{ id: string; answers: Answer[] }>;
}

let s3: TestS3;
let folder: string;

beforeAll(async () => {
  s3 = await startS3(['models']);
  // The fixture's tokenizer files are links, which `model push` does not follow.
  folder = mkdtempSync(path.join(os.tmpdir(), 'warm-up-test-'));
  cpSync(REFERENCE_MODEL_DIR, folder, { recursive: true });
  for (const name of ['tokenizer.json', 'vocab.txt']) {
    rmSync(path.join(folder, name));
    copyFileSync(realpathSync(path.join(REFERENCE_MODEL_DIR, name)), path.join(folder, name));
  }
  await pushModel(folder, URI, { client: s3.client });
}, 60_000);

afterAll(async () => {
  await s3?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

async function runChild(warmUp: boolean, uri?: string): Promise<ChildOutput> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', CHILD, warmUp ? '1' : '0', String(CASES), ...(uri ? [uri] : [])],
    {
      cwd: path.resolve(__dirname, '..', '..'),
      env: { ...process.env, ...(uri ? s3.env : {}) },
      maxBuffer: 16 * 2 ** 20,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as ChildOutput;
}

describe('the loader’s work during the download', () => {
  test('the warm-up graph is a real model: its session runs and returns its input', async () => {
    const ort = loadOnnxRuntime();
    const session = await ort.InferenceSession.create(oneNodeGraph());
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(2.5), [1]) });
    await session.release();
    expect(Array.from(out.y!.data as Float32Array)).toEqual([2.5]);
    expect(await warmUpOnnxRuntime()).toBeGreaterThan(0);
  });

  test('fresh processes answer the same with and without it, from a folder and from S3, as the reference does', async () => {
    const runs = await Promise.all([runChild(true), runChild(false), runChild(true, URI), runChild(false, URI)]);
    const [warm, cold, warmS3, coldS3] = runs;
    expect(typeof warm!.runtimeWarmUpMs).toBe('number');
    expect(typeof warmS3!.runtimeWarmUpMs).toBe('number');
    expect(cold!.runtimeWarmUpMs).toBeNull();
    expect(coldS3!.runtimeWarmUpMs).toBeNull();
    expect(warm!.results).toHaveLength(CASES);
    for (const other of [cold, warmS3, coldS3]) expect(other!.results).toEqual(warm!.results);
    const expected = referenceExpected('int8');
    for (const { id, answers } of warm!.results) {
      const reference = expected.get(id)!;
      expect([id, compareAnswers(reference.answers, answers, reference.flags)]).toEqual([id, null]);
    }
  }, 180_000);

  test('from S3, tokenizer.json reaches the engine already parsed, and parsed from the same text', async () => {
    const sources: QuestionAnswererSource[] = [];
    const failure = new Error('no engine in this test');
    const load = loadModel(URI, {
      s3: s3.client,
      preferQuantized: true,
      read: { idleTimeoutMs: 10_000, totalTimeoutMs: 60_000, maxInMemoryBytes: 1e9, spillDir: os.tmpdir() },
      warmUp: true,
      createEngine: async (source) => {
        sources.push(source);
        throw failure;
      },
    });
    await expect(load).rejects.toMatchObject({ cause: failure });
    const [source] = sources;
    expect(source!.parsedTokenizer).toBeDefined();
    const text = 'Where does the warm-up run? While the bytes arrive.';
    const fresh = QATokenizer.fromJson(source!.tokenizerJson);
    expect((await source!.parsedTokenizer!.tokenizer.encode(text)).ids).toEqual((await fresh.encode(text)).ids);
  }, 60_000);
});
