/**
 * @jest-environment ./test/helpers/jest-ort-environment.js
 *
 * The generated test models must be what they claim: the graph computes DistilBERT/BERT QA maths
 * over the generated weights (checked against an independent TypeScript forward pass), the int8
 * file really is dynamically quantized and stays close to fp32, the pointer model answers where it
 * is told, and a spec always produces the same bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import {
  ensureTestModel,
  GeneratedModel,
  generateTestModel,
  specKey,
  TestModelSpec,
  weightsForSpec,
} from '../../scripts/model-generator';
import { inspectOnnx, InspectedModel } from '../helpers/onnx-inspect';
import { erf, referenceForward } from '../helpers/reference-forward';
import { DataType } from '../../scripts/model-generator/onnx-proto';
import { lcg } from '../helpers/random';

const REPO = path.resolve(__dirname, '..', '..');

interface Row {
  ids: number[];
  mask: number[];
  types?: number[];
}

/** Deterministic pseudo-random token ids in the ordinary-word range of bert-base-uncased. */
function tokenIds(n: number, seed: number, avoid: readonly number[] = []): number[] {
  const next = lcg(seed);
  const out: number[] = [];
  while (out.length < n) {
    const id = 1996 + (next() % 27000);
    if (!avoid.includes(id)) out.push(id);
  }
  return out;
}

/** [CLS] question [SEP] context [SEP], with BERT segment ids. */
function qaRow(qLen: number, cLen: number, seed: number): Row {
  const q = tokenIds(qLen, seed);
  const c = tokenIds(cLen, seed + 1);
  const ids = [101, ...q, 102, ...c, 102];
  return { ids, mask: ids.map(() => 1), types: ids.map((_, i) => (i < qLen + 2 ? 0 : 1)) };
}

function padTo(row: Row, len: number): Row {
  const extra = len - row.ids.length;
  return {
    ids: [...row.ids, ...Array(extra).fill(0)],
    mask: [...row.mask, ...Array(extra).fill(0)],
    types: row.types ? [...row.types, ...Array(extra).fill(0)] : undefined,
  };
}

async function run(session: ort.InferenceSession, rows: Row[]): Promise<{ start: number[][]; end: number[][] }> {
  const len = rows[0]!.ids.length;
  const t = (get: (r: Row) => number[]): ort.Tensor =>
    new ort.Tensor('int64', BigInt64Array.from(rows.flatMap((r) => get(r).map(BigInt))), [rows.length, len]);
  const feeds: Record<string, ort.Tensor> = { input_ids: t((r) => r.ids), attention_mask: t((r) => r.mask) };
  if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = t((r) => r.types ?? r.ids.map(() => 0));
  const out = await session.run(feeds);
  const split = (data: Float32Array): number[][] =>
    rows.map((_, b) => Array.from(data.subarray(b * len, (b + 1) * len)));
  expect(out.start_logits!.dims).toEqual([rows.length, len]);
  expect(out.end_logits!.dims).toEqual([rows.length, len]);
  return { start: split(out.start_logits!.data as Float32Array), end: split(out.end_logits!.data as Float32Array) };
}

const maxAbsDiff = (a: number[], b: number[]): number => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
const argmax = (a: number[]): number => a.indexOf(Math.max(...a));
const std = (a: number[]): number => {
  const m = a.reduce((s, v) => s + v, 0) / a.length;
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length);
};

let tmp: string;
const models = new Map<string, GeneratedModel>();
const sessions: ort.InferenceSession[] = [];

async function session(file: string): Promise<ort.InferenceSession> {
  const s = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
  sessions.push(s);
  return s;
}

const DISTIL: TestModelSpec = { size: 'tiny', variant: 'distilbert' };
const BERT: TestModelSpec = { size: 'tiny', variant: 'bert', seed: 7 };
const POINTER: TestModelSpec = { variant: 'pointer', startTokenIds: [2054, 4000], endTokenIds: [2003] };

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'test-models-'));
  for (const [name, spec] of [
    ['distil', DISTIL],
    ['bert', BERT],
    ['pointer', POINTER],
  ] as const) {
    models.set(name, await generateTestModel(path.join(tmp, name), spec));
  }
});

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.release()));
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('reference forward pass', () => {
  it('uses an accurate erf (GELU depends on it)', () => {
    // Values from the closed forms / published tables of the error function.
    expect(erf(0)).toBe(0);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erf(-0.7)).toBeCloseTo(-0.6778011938374184, 14);
    expect(erf(2)).toBeCloseTo(0.9953222650189527, 14);
    expect(erf(4.5)).toBeCloseTo(0.9999999998033839, 14);
  });
});

describe.each([
  ['distilbert', 'distil', ['input_ids', 'attention_mask']],
  ['bert', 'bert', ['input_ids', 'attention_mask', 'token_type_ids']],
] as const)('tiny %s fp32', (_label, key, inputNames) => {
  const spec = key === 'distil' ? DISTIL : BERT;

  it('declares the Hugging Face export interface', async () => {
    const m = inspectOnnx(await fs.readFile(models.get(key)!.modelPath));
    expect(m.opsets).toEqual([{ domain: '', version: 17 }]);
    expect(m.inputs).toEqual(
      inputNames.map((name) => ({ name, elemType: DataType.INT64, shape: ['batch_size', 'sequence_length'] })),
    );
    expect(m.outputs).toEqual(
      ['start_logits', 'end_logits'].map((name) => ({
        name,
        elemType: DataType.FLOAT,
        shape: ['batch_size', 'sequence_length'],
      })),
    );
    const s = await session(models.get(key)!.modelPath);
    expect(s.inputNames).toEqual([...inputNames]);
    expect(s.outputNames).toEqual(['start_logits', 'end_logits']);
  });

  it('matches the TypeScript forward pass, with and without padding', async () => {
    const weights = weightsForSpec(spec);
    const s = await session(models.get(key)!.modelPath);
    const full = qaRow(6, 20, 11); // 29 tokens
    const short = qaRow(4, 12, 23); // 19 tokens, padded to 29 in the batch
    const rows = [full, padTo(short, full.ids.length)];
    const out = await run(s, rows);
    rows.forEach((row, b) => {
      const ref = referenceForward(weights, { inputIds: row.ids, attentionMask: row.mask, tokenTypeIds: row.types });
      // The tolerance only means something if the logits are not all near zero.
      expect(std(ref.start)).toBeGreaterThan(0.2);
      expect(std(ref.end)).toBeGreaterThan(0.2);
      expect(maxAbsDiff(out.start[b]!, ref.start)).toBeLessThan(1e-4);
      expect(maxAbsDiff(out.end[b]!, ref.end)).toBeLessThan(1e-4);
    });
    // A different length (positions, Range over the dynamic axis) on its own.
    const alone = qaRow(3, 40, 5);
    const single = await run(s, [alone]);
    const ref = referenceForward(weights, {
      inputIds: alone.ids,
      attentionMask: alone.mask,
      tokenTypeIds: alone.types,
    });
    expect(maxAbsDiff(single.start[0]!, ref.start)).toBeLessThan(1e-4);
    expect(maxAbsDiff(single.end[0]!, ref.end)).toBeLessThan(1e-4);
  });

  it('masks padding: padded logits equal the unpadded run, and the mask is not ignored', async () => {
    const s = await session(models.get(key)!.modelPath);
    const row = qaRow(4, 12, 99);
    const n = row.ids.length;
    const unpadded = await run(s, [row]);
    const padded = padTo(row, n + 9);
    const withPadding = await run(s, [padded]);
    expect(maxAbsDiff(withPadding.start[0]!.slice(0, n), unpadded.start[0]!)).toBeLessThan(1e-5);
    expect(maxAbsDiff(withPadding.end[0]!.slice(0, n), unpadded.end[0]!)).toBeLessThan(1e-5);
    // The same padded ids with the mask all ones: the [PAD] keys are attended, logits move.
    const attended = await run(s, [{ ...padded, mask: padded.ids.map(() => 1) }]);
    expect(maxAbsDiff(attended.start[0]!.slice(0, n), unpadded.start[0]!)).toBeGreaterThan(1e-3);
  });
});

it('bert: token_type_ids change the logits (the embedding is wired in)', async () => {
  const s = await session(models.get('bert')!.modelPath);
  const row = qaRow(5, 10, 3);
  const a = await run(s, [row]);
  const b = await run(s, [{ ...row, types: row.ids.map(() => 0) }]);
  expect(maxAbsDiff(a.start[0]!, b.start[0]!)).toBeGreaterThan(1e-3);
});

describe('int8 dynamic quantization', () => {
  let q: InspectedModel;
  let f: InspectedModel;
  beforeAll(async () => {
    q = inspectOnnx(await fs.readFile(models.get('distil')!.quantizedModelPath!));
    f = inspectOnnx(await fs.readFile(models.get('distil')!.modelPath));
  });

  it('stores every weight MatMul as int8 with scale and zero point, run through MatMulInteger', () => {
    const weights = weightsForSpec(DISTIL);
    const linears = [...weights.layers.flatMap((l) => [l.q, l.k, l.v, l.out, l.ffn1, l.ffn2]), weights.qa];
    const mmi = q.nodes.filter((n) => n.opType === 'MatMulInteger');
    expect(mmi).toHaveLength(linears.length);
    // No fp32 MatMul reads a constant weight any more; only attention's activation×activation ones remain.
    for (const n of q.nodes.filter((n) => n.opType === 'MatMul')) {
      expect(n.inputs.some((i) => q.initializers.has(i))).toBe(false);
    }
    const producers = new Map(q.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
    for (const n of mmi) {
      const [a, b, aZp, bZp] = n.inputs;
      expect(producers.get(a!)!.opType).toBe('DynamicQuantizeLinear');
      expect(producers.get(aZp!)!.opType).toBe('DynamicQuantizeLinear');
      const w = q.initializers.get(b!)!;
      expect(w.dataType).toBe(DataType.INT8);
      const zp = q.initializers.get(bZp!)!;
      expect(zp.dataType).toBe(DataType.INT8);
      expect(Array.from(zp.raw)).toEqual([0]);
      // Dequantized back via Cast → Mul(activation scale × weight scale).
      const cast = q.nodes.find((c) => c.inputs[0] === n.outputs[0])!;
      expect(cast.opType).toBe('Cast');
      expect(cast.attributes.to!.i).toBe(DataType.FLOAT);
      expect(q.nodes.find((m) => m.inputs.includes(cast.outputs[0]!))!.opType).toBe('Mul');
    }
    // The int8 values are the fp32 weights quantized (same layout [in, out]), within half a step.
    for (const lin of linears) {
      const w = q.initializers.get(`${lin.name}.weight_quantized`)!;
      const scale = Buffer.from(q.initializers.get(`${lin.name}.weight_scale`)!.raw).readFloatLE(0);
      expect(w.dims).toEqual([lin.inDim, lin.outDim]);
      const values = new Int8Array(Uint8Array.from(w.raw).buffer);
      let worst = 0;
      for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i]! * scale - lin.weight[i]!));
      expect(worst).toBeLessThanOrEqual(scale * 0.5 + 1e-7);
      expect(Math.max(...values.map(Math.abs))).toBe(127); // symmetric: the largest weight maps to ±127
    }
  });

  it('stores the embedding tables as int8 too, so the file is about a quarter of fp32', async () => {
    const bigFloat = [...q.initializers.values()].filter((t) => t.dataType === DataType.FLOAT && t.raw.length > 4096);
    expect(bigFloat).toEqual([]);
    expect(q.nodes.filter((n) => n.opType === 'DequantizeLinear')).toHaveLength(2); // word + position
    const m = models.get('distil')!;
    expect(m.bytes.int8! / m.bytes.fp32).toBeLessThan(0.3);
    expect(f.nodes.some((n) => n.opType === 'MatMulInteger')).toBe(false);
    expect([...f.initializers.values()].some((t) => t.dataType === DataType.INT8)).toBe(false);
  });

  it.each(['distil', 'bert'] as const)('%s: int8 logits stay close to fp32', async (key) => {
    const fp32 = await session(models.get(key)!.modelPath);
    const int8 = await session(models.get(key)!.quantizedModelPath!);
    let worst = 0;
    for (const seed of [1, 2, 3, 4]) {
      const row = qaRow(5, 10 + seed * 9, seed * 31);
      const a = await run(fp32, [row]);
      const b = await run(int8, [row]);
      worst = Math.max(worst, maxAbsDiff(a.start[0]!, b.start[0]!), maxAbsDiff(a.end[0]!, b.end[0]!));
    }
    // Measured on these tiny models: up to ~0.05 (logits' rms ~0.6-0.9), and ~0.08 on the full size.
    // uint8 activations over a LayerNorm output's range (±4) step by ~0.03 and each quantized MatMul
    // adds error of that order, 13 of them in sequence; 0.15 is 3x the measured worst.
    // It must also not be 0: then the int8 path would not be running at all.
    expect(worst).toBeGreaterThan(1e-4);
    expect(worst).toBeLessThan(0.15);
  });
});

describe('pointer model', () => {
  it('puts start and end argmax on the chosen tokens, wherever they are, fp32 and int8', async () => {
    const m = models.get('pointer')!;
    for (const file of [m.modelPath, m.quantizedModelPath!]) {
      const s = await session(file);
      expect(s.inputNames).toEqual(['input_ids', 'attention_mask']);
      const ids = [101, ...tokenIds(382, 8, [2054, 4000, 2003]), 102];
      ids[370] = 4000;
      ids[375] = 2003;
      const out = await run(s, [{ ids, mask: ids.map(() => 1) }]);
      expect(argmax(out.start[0]!)).toBe(370);
      expect(argmax(out.end[0]!)).toBe(375);
      expect(out.start[0]![370]).toBeCloseTo(10, 1);
      // Everything else is background: |logit| <= 0.5 (plus int8 rounding).
      const others = out.start[0]!.filter((_, i) => i !== 370);
      expect(Math.max(...others.map(Math.abs))).toBeLessThan(0.55);
      // Padding positions are pushed far down, real positions untouched.
      const padded = padTo({ ids: ids.slice(0, 380), mask: ids.slice(0, 380).map(() => 1) }, 384);
      const p = await run(s, [padded]);
      expect(Math.max(...p.start[0]!.slice(380))).toBeLessThan(-9000);
      expect(maxAbsDiff(p.start[0]!.slice(0, 380), out.start[0]!.slice(0, 380))).toBeLessThan(1e-6);
    }
  });

  it('rejects token ids outside the vocabulary', async () => {
    await expect(
      generateTestModel(path.join(tmp, 'bad'), { variant: 'pointer', startTokenIds: [30522] }),
    ).rejects.toThrow(/startTokenIds/);
  });
});

describe('files and determinism', () => {
  it('writes a Hugging Face repo folder marked as generated', async () => {
    for (const [key, type] of [
      ['distil', 'distilbert'],
      ['bert', 'bert'],
    ] as const) {
      const dir = models.get(key)!.dir;
      const config = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
      expect(config.model_type).toBe(type);
      expect(config._generated).toMatchObject({ demo: true, seed: key === 'bert' ? 7 : 42 });
      expect(config.vocab_size).toBe(30522);
      expect(config.max_position_embeddings).toBe(512);
      for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt']) {
        const fixture = await fs.readFile(path.join(REPO, 'test', 'fixtures', 'bert-base-uncased', f));
        expect((await fs.readFile(path.join(dir, f))).equals(fixture)).toBe(true);
      }
    }
  });

  it('same spec → byte-identical files; another seed → different weights', async () => {
    const again = await generateTestModel(path.join(tmp, 'again'), DISTIL);
    const first = models.get('distil')!;
    for (const f of ['config.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx']) {
      const a = await fs.readFile(path.join(first.dir, f));
      const b = await fs.readFile(path.join(again.dir, f));
      expect(a.equals(b)).toBe(true);
    }
    const other = await generateTestModel(path.join(tmp, 'other'), { ...DISTIL, seed: 43 });
    const a = await fs.readFile(first.modelPath);
    const b = await fs.readFile(other.modelPath);
    expect(a.length).toBe(b.length);
    expect(a.equals(b)).toBe(false);
    expect(specKey({ ...DISTIL, seed: 43 })).not.toBe(specKey(DISTIL));
    expect(specKey({ variant: 'distilbert' })).toBe(specKey({ size: 'tiny', variant: 'distilbert', seed: 42 }));
  });

  it('ensureTestModel caches by spec and survives concurrent callers in several processes', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const spec: TestModelSpec = { variant: 'pointer', startTokenIds: [1000], endTokenIds: [1001], fp32Only: true };
    // Two processes race to create the same entry (as parallel jest workers do).
    const script = path.join(tmp, 'race.ts');
    await fs.writeFile(
      script,
      `import { ensureTestModel } from ${JSON.stringify(path.join(REPO, 'scripts', 'model-generator'))};\n` +
        `ensureTestModel(${JSON.stringify(spec)}, { cacheDir: ${JSON.stringify(cacheDir)} }).then((d) => console.log(d));\n`,
    );
    const tsx = path.join(REPO, 'node_modules', '.bin', 'tsx');
    const racers = await Promise.all([1, 2].map(() => promisify(execFile)(tsx, [script], { cwd: REPO })));
    const dirs = racers.map((r) => r.stdout.trim());
    expect(dirs[0]).toBe(path.join(cacheDir, specKey(spec)));
    expect(dirs[1]).toBe(dirs[0]);
    // And in-process callers share the result.
    const [a, b] = await Promise.all([ensureTestModel(spec, { cacheDir }), ensureTestModel(spec, { cacheDir })]);
    expect(a).toBe(dirs[0]);
    expect(b).toBe(a);
    expect((await fs.readdir(cacheDir)).sort()).toEqual([specKey(spec)]); // no temp folders left
    expect((await fs.readdir(path.join(a, 'onnx'))).sort()).toEqual(['model.onnx']); // fp32Only
  });
});
