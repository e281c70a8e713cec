/**
 * `model optimize` on the reference fixture's model (a PyTorch export, not ours): it writes
 * onnxruntime's optimized graph beside each standard file, the loader then serves that graph, and the
 * answers stay those of the reference pipeline (expected-int8.json / expected-fp32.json, computed
 * outside this project). The S3 manifest a push would write lists the new files.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../scripts/model-cli';
import {
  buildManifest,
  defaultVersionChoice,
  listModelFiles,
  pushModel,
  versionFiles,
} from '../../scripts/model-cli/push';
import { inspectOnnx } from '../helpers/onnx-inspect';
import { loadModel, type EngineFactory, type LoadedModel } from '../../src/model/loading/load-model';
import { installedOnnxRuntimeVersion } from '../../src/model/onnxruntime/version';
import type { QuestionAnswererSource } from '../../src/model/question-answerer';
import { startS3, type TestS3 } from '../helpers/s3rver';
import {
  REFERENCE_MODEL_DIR,
  answerInput,
  compareAnswers,
  referenceCases,
  referenceExpected,
} from '../helpers/reference-qa';

let dir: string;
/** The ORT-format file's infix: named for the onnxruntime version that wrote it (and alone reads it). */
const ORT = `onnxruntime-${installedOnnxRuntimeVersion()}.ort`;
const read = { idleTimeoutMs: 5_000, totalTimeoutMs: 30_000, maxInMemoryBytes: 1 << 30, spillDir: os.tmpdir() };

async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await main(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const opTypes = async (file: string) => new Set(inspectOnnx(await readFile(file)).nodes.map((n) => n.opType));

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'optimize-'));
  // dereference: tokenizer.json is a link into the fixture's bert-base-uncased folder.
  await cp(REFERENCE_MODEL_DIR, dir, { recursive: true, dereference: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('model optimize', () => {
  it('writes a fused graph beside each standard file and prints the logit check', async () => {
    const { code, out } = await runCli(['optimize', dir]);
    expect(code).toBe(0);
    const printed = JSON.parse(out) as Array<{
      from: string;
      path: string;
      check: { windows: number; maxAbsDiff: number; sameArgmax: number };
    }>;
    expect(printed.map((p) => p.path).sort()).toEqual([
      `onnx/model.${ORT}`,
      'onnx/model.optimized.onnx',
      `onnx/model_quantized.${ORT}`,
      'onnx/model_quantized.optimized.onnx',
    ]);
    for (const p of printed) {
      expect(p.check.windows).toBeGreaterThan(3);
      expect(p.check.maxAbsDiff).toBeLessThanOrEqual(1e-3);
      expect(p.check.sameArgmax).toBe(p.check.windows);
    }
    // The rewrite is real: the export's decomposed LayerNorm and GELU (ReduceMean/Pow/Sqrt, Erf) are
    // fused into onnxruntime's kernels, and the int8 graph's MatMulInteger chains into fused ones.
    const before = await opTypes(path.join(dir, 'onnx/model_quantized.onnx'));
    const after = await opTypes(path.join(dir, 'onnx/model_quantized.optimized.onnx'));
    expect(before.has('ReduceMean') && before.has('Erf') && before.has('MatMulInteger')).toBe(true);
    expect([...after].filter((t) => ['ReduceMean', 'Erf', 'MatMulInteger', 'Constant'].includes(t))).toEqual([]);
    expect(after.has('LayerNormalization')).toBe(true);
    expect(after.has('DynamicQuantizeMatMul') || after.has('MatMulIntegerToFloat')).toBe(true);
    const sidecar = JSON.parse(await readFile(path.join(dir, 'onnx/model_quantized.optimized.json'), 'utf8'));
    expect(sidecar).toMatchObject({ from: 'onnx/model_quantized.onnx', level: 'extended' });
  });

  it('rejects a bad tolerance and a folder without a standard file as usage/errors, not stacks', async () => {
    expect((await runCli(['optimize', dir, '--tolerance', '-1'])).code).toBe(2);
    const empty = await mkdtemp(path.join(os.tmpdir(), 'optimize-empty-'));
    await expect(main(['optimize', empty])).rejects.toThrow(/No standard ONNX file/);
    await rm(empty, { recursive: true });
  });

  it('reads the root layout (the tutorial bundle: model_quantized.onnx beside tokenizer.json) too', async () => {
    const flat = await mkdtemp(path.join(os.tmpdir(), 'optimize-flat-'));
    try {
      for (const f of ['tokenizer.json', 'config.json']) await cp(path.join(dir, f), path.join(flat, f));
      await cp(path.join(dir, 'onnx/model_quantized.onnx'), path.join(flat, 'model_quantized.onnx'));
      const { code, out } = await runCli(['optimize', flat]);
      expect(code).toBe(0);
      expect((JSON.parse(out) as Array<{ path: string }>).map((p) => p.path)).toEqual([
        'model_quantized.optimized.onnx',
        `model_quantized.${ORT}`,
      ]);
      expect((await opTypes(path.join(flat, 'model_quantized.optimized.onnx'))).has('LayerNormalization')).toBe(true);
    } finally {
      await rm(flat, { recursive: true, force: true });
    }
  });

  it('a version `model push` writes holds the ORT-format file the loader serves and its standard file (every file with `all`)', async () => {
    const manifest = await buildManifest(dir, await versionFiles(dir), new Date(0));
    const paths = manifest.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining(['onnx/model_quantized.onnx', `onnx/model_quantized.${ORT}`, 'tokenizer.json']),
    );
    expect(paths.filter((p) => /\.(onnx|ort)$/.test(p)).sort()).toEqual(
      ['onnx/model_quantized.onnx', `onnx/model_quantized.${ORT}`].sort(),
    );
    const all = await versionFiles(dir, { ...defaultVersionChoice(), all: true });
    expect(all).toEqual(await listModelFiles(dir));
    expect(all).toEqual(expect.arrayContaining(['onnx/model_quantized.optimized.onnx']));
  });

  describe.each([
    ['int8', true],
    ['fp32', false],
  ] as const)('served by the loader (%s)', (precision, preferQuantized) => {
    let optimized: LoadedModel;
    let standard: LoadedModel;
    beforeAll(async () => {
      optimized = await loadModel(dir, { preferQuantized, preferOptimized: true, read, threads: 1 });
      standard = await loadModel(dir, { preferQuantized, preferOptimized: false, read, threads: 1 });
    });
    afterAll(async () => {
      await (optimized?.engine as { dispose?: () => Promise<void> } | undefined)?.dispose?.();
      await (standard?.engine as { dispose?: () => Promise<void> } | undefined)?.dispose?.();
    });

    it("prefers the optimized file when asked, and its answers are still the reference pipeline's", async () => {
      expect(optimized.info.quantized).toBe(preferQuantized);
      expect(standard.info.quantized).toBe(preferQuantized);
      expect([optimized.info.optimized, standard.info.optimized]).toEqual([true, false]);
      // The ORT-format file was served: the loaded bytes differ by exactly its size less the standard file's.
      const stem = preferQuantized ? 'onnx/model_quantized' : 'onnx/model';
      const size = async (rel: string) => (await readFile(path.join(dir, rel))).length;
      expect(optimized.info.bytes - standard.info.bytes).toBe(
        (await size(`${stem}.${ORT}`)) - (await size(`${stem}.onnx`)),
      );
      const expected = referenceExpected(precision);
      const mismatches: string[] = [];
      for (const c of referenceCases()) {
        const input = answerInput(c) as {
          question: string;
          context: string;
          topK: number;
          options?: Record<string, unknown>;
        };
        const options = { ...input.options, topK: input.topK };
        const answers = await optimized.engine.answer({ question: c.question, context: c.context, options });
        const problem = compareAnswers(expected.get(c.id)!.answers, answers);
        if (problem) mismatches.push(`${c.id}: ${problem}`);
      }
      expect(mismatches).toEqual([]);
    });
  });

  it('an ORT-format file of another onnxruntime version is not a candidate: the optimized ONNX graph is served', async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), 'optimize-other-'));
    try {
      await cp(dir, other, { recursive: true });
      const { rename } = await import('node:fs/promises');
      await rename(
        path.join(other, `onnx/model_quantized.${ORT}`),
        path.join(other, 'onnx/model_quantized.onnxruntime-0.0.1.ort'),
      );
      const seen: QuestionAnswererSource[] = [];
      const recordingFactory: EngineFactory = async (source) => {
        seen.push(source);
        return {
          description: {
            inputNames: ['input_ids'],
            outputNames: [],
            usesTokenTypeIds: false,
            maxPositionEmbeddings: 512,
          },
          answer: async () => [],
          answerMany: async () => [],
        };
      };
      await loadModel(other, { preferQuantized: true, preferOptimized: true, read, createEngine: recordingFactory });
      expect(seen.map((s) => path.relative(other, String(s.model)))).toEqual([
        path.join('onnx', 'model_quantized.optimized.onnx'),
      ]);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it("the engine keeps ORT-format bytes alive for its session: after a garbage collection its logits are still the standard graph's", async () => {
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { OnnxQAModel } = await import('../../src/model/onnx-model');
    const { checkWindows } = await import('../../scripts/model-cli/optimize');
    // The bytes are handed over and not referenced here: only the engine can keep them alive.
    const inPlace = await OnnxQAModel.create(await readFile(path.join(dir, `onnx/model_quantized.${ORT}`)), {
      intraOpNumThreads: 1,
      preOptimized: true,
    });
    const standard = await OnnxQAModel.create(path.join(dir, 'onnx/model_quantized.onnx'), { intraOpNumThreads: 1 });
    try {
      for (let i = 0; i < 3; i++) {
        gc();
        // Fresh allocations of the same size, to land where the bytes were if they had been freed.
        const junk = Array.from({ length: 4 }, () => Buffer.alloc(2 << 20, 0x7f));
        for (const window of (await checkWindows(dir)).slice(0, 3)) {
          const [a, b] = [await inPlace.run(window), await standard.run(window)];
          expect(Array.from(a.start)).toEqual(Array.from(b.start));
          expect(Array.from(a.end)).toEqual(Array.from(b.end));
        }
        expect(junk).toHaveLength(4);
      }
    } finally {
      await Promise.all([inPlace.dispose(), standard.dispose()]);
    }
  });

  describe('pushed to S3 (manifest folder and bundle)', () => {
    let s3: TestS3;
    beforeAll(async () => {
      s3 = await startS3(['models']);
      await pushModel(dir, 's3://models/optimized/', { client: s3.client });
      await pushModel(dir, 's3://models/optimized.tar.gz', { client: s3.client });
    });
    afterAll(async () => {
      await s3?.close();
    });

    /** A fake engine that records what the loader handed it: no onnxruntime needed to see the choice. */
    const recording =
      (seen: QuestionAnswererSource[]): EngineFactory =>
      async (source) => {
        seen.push(source);
        return {
          description: {
            inputNames: ['input_ids'],
            outputNames: [],
            usesTokenTypeIds: false,
            maxPositionEmbeddings: 512,
          },
          answer: async () => [],
          answerMany: async () => [],
        };
      };

    it.each(['s3://models/optimized/', 's3://models/optimized.tar.gz'])(
      '%s: the ORT-format file, created without re-optimizing; the standard one when not preferred',
      async (uri) => {
        const optimizedBytes = await readFile(path.join(dir, `onnx/model_quantized.${ORT}`));
        const standardBytes = await readFile(path.join(dir, 'onnx/model_quantized.onnx'));
        const bytesOf = async (m: string | Uint8Array) => (typeof m === 'string' ? readFile(m) : Buffer.from(m));
        for (const [preferOptimized, expected] of [
          [true, optimizedBytes],
          [false, standardBytes],
        ] as const) {
          const seen: QuestionAnswererSource[] = [];
          await loadModel(uri, {
            s3: s3.client,
            preferQuantized: true,
            preferOptimized,
            read,
            createEngine: recording(seen),
          });
          expect(seen).toHaveLength(1);
          expect((await bytesOf(seen[0]!.model)).equals(expected)).toBe(true);
          expect(seen[0]!.preOptimized).toBe(preferOptimized);
        }
      },
    );
  });
});
