/**
 * The loader against a real S3-protocol server (s3rver), with a fake engine factory so these tests
 * check what reaches the engine (bytes, tokenizer) without onnxruntime. loading-e2e.test.ts does the
 * same with the real engine and a generated model.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startS3, sendS3Error, trackUnhandledRejections, type TestS3 } from '../helpers/s3rver';
import { pushModel } from '../../scripts/model-cli/push';
import { loadModel, type EngineFactory, type LoadModelOptions } from '../../src/model/loading/load-model';
import { createModelProvider } from '../../src/model/loading/provider';
import { ModelUnavailableError } from '../../src/model/loading/errors';
import type { QuestionAnswererSource } from '../../src/model/question-answerer';

const TOKENIZER = path.join(__dirname, '../fixtures/bert-base-uncased/tokenizer.json');
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

let s3: TestS3;
let dir: string;
let work: string;
let quantized: Buffer;
let full: Buffer;
const checkRejections = trackUnhandledRejections();
const seen: QuestionAnswererSource[] = [];

/** Stands in for QuestionAnswerer.create: records what it got, fails like onnxruntime on garbage. */
const fakeEngine: EngineFactory = async (src) => {
  seen.push(src);
  const bytes = typeof src.model === 'string' ? await readFile(src.model) : src.model;
  if (Buffer.from(bytes.subarray(0, 7)).toString() === 'CORRUPT') {
    throw new Error('Load model from buffer failed:Protobuf parsing failed.');
  }
  JSON.parse(src.tokenizerJson);
  return {
    description: {
      inputNames: ['input_ids', 'attention_mask'],
      outputNames: [],
      usesTokenTypeIds: false,
      maxPositionEmbeddings: 512,
    },
    loadTimings: { sessionCreateMs: 12, tokenizerMs: 3 },
    answer: async () => [],
    answerMany: async () => [],
  };
};

const opts = (over: Partial<LoadModelOptions> = {}): LoadModelOptions => ({
  s3: s3.client,
  preferQuantized: true,
  read: { idleTimeoutMs: 2_000, totalTimeoutMs: 10_000, maxInMemoryBytes: 64 * 1024 * 1024, spillDir: work },
  createEngine: fakeEngine,
  ...over,
});

beforeAll(async () => {
  s3 = await startS3(['models']);
  work = await mkdtemp(path.join(os.tmpdir(), 'loading-s3-'));
  dir = path.join(work, 'model');
  await mkdir(path.join(dir, 'onnx'), { recursive: true });
  // 12 MiB so push goes multipart with 5 MiB parts.
  quantized = Buffer.concat([Buffer.from('ONNXQ'), randomBytes(12 * 1024 * 1024)]);
  full = Buffer.concat([Buffer.from('ONNXF'), randomBytes(1024 * 1024)]);
  await writeFile(path.join(dir, 'onnx/model_quantized.onnx'), quantized);
  await writeFile(path.join(dir, 'onnx/model.onnx'), full);
  await copyFile(TOKENIZER, path.join(dir, 'tokenizer.json'));
  await writeFile(
    path.join(dir, 'config.json'),
    JSON.stringify({ _name_or_path: 'synthetic', max_position_embeddings: 512, _generated: { demo: true } }),
  );
  // The Hugging Face layout without a manifest (loading-manifest.test.ts covers versioned pushes).
  await pushModel(dir, 's3://models/synthetic/', { client: s3.client, partSize: 5 * 1024 * 1024, layout: 'flat' });
  await pushModel(dir, 's3://models/bundles/synthetic.tar.gz', { client: s3.client });
});

afterAll(async () => {
  await s3?.close();
  await rm(work, { recursive: true, force: true });
  checkRejections();
});

describe('S3 folder', () => {
  it('loads what push uploaded (multipart), preferring the quantized file, with provenance', async () => {
    seen.length = 0;
    const { info } = await loadModel('s3://models/synthetic/', opts());
    expect(sha(seen[0]!.model as Uint8Array)).toBe(sha(quantized));
    expect(seen[0]!.tokenizerJson).toBe(await readFile(TOKENIZER, 'utf8'));
    expect(info).toMatchObject({
      name: 'synthetic',
      source: 's3://models/synthetic/',
      quantized: true,
      demo: true,
      inputNames: ['input_ids', 'attention_mask'],
      maxSequenceLength: 384,
    });
    expect(info.bytes).toBeGreaterThan(quantized.length);
    expect(info.etag).toMatch(/^"[0-9a-f]{32}(-\d+)?"$/);
    // push went multipart: create + 3 parts (12 MiB / 5 MiB) + complete.
    expect(s3.count('PUT', 'models', 'synthetic/onnx/model_quantized.onnx')).toBe(3);
    expect(s3.count('POST', 'models', 'synthetic/onnx/model_quantized.onnx')).toBe(2);
    expect(info.timings).toMatchObject({ sessionCreateMs: 12, tokenizerMs: 3 });
    expect(info.timings.downloadMs).toBeGreaterThan(0);
    expect(info.timings.totalMs).toBeGreaterThanOrEqual(info.timings.downloadMs);
  });

  it('without s3:ListBucket a missing manifest is a 403: the folder is still read the Hugging Face way', async () => {
    s3.intercept((req, res) => {
      if (!req.url?.startsWith('/models/synthetic/model-manifest.json')) return false;
      sendS3Error(res, 403, 'AccessDenied', 'Access Denied', '/models/synthetic/model-manifest.json');
      return true;
    });
    try {
      seen.length = 0;
      const { info } = await loadModel('s3://models/synthetic/', opts());
      expect(sha(seen[0]!.model as Uint8Array)).toBe(sha(quantized));
      expect(info.version).toBeNull();
    } finally {
      s3.intercept(undefined);
    }
  });

  it('takes onnx/model.onnx when quantized is not preferred', async () => {
    seen.length = 0;
    const { info } = await loadModel('s3://models/synthetic', opts({ preferQuantized: false }));
    expect(sha(seen[0]!.model as Uint8Array)).toBe(sha(full));
    expect(info.quantized).toBe(false);
  });

  it('streams a body larger than maxInMemoryBytes to a temp file and removes it afterwards', async () => {
    seen.length = 0;
    let existed = false;
    await loadModel(
      's3://models/synthetic/',
      opts({
        read: {
          idleTimeoutMs: 2000,
          totalTimeoutMs: 10000,
          maxInMemoryBytes: 1024 * 1024,
          spillDir: path.join(work, 'spill'),
        },
        createEngine: async (src) => {
          existed = typeof src.model === 'string' && existsSync(src.model);
          return fakeEngine(src);
        },
      }),
    );
    expect(typeof seen[0]!.model).toBe('string');
    expect(existed).toBe(true);
    expect(sha(await readFile(seen[0]!.model as string).catch(() => Buffer.alloc(0)))).not.toBe(sha(quantized)); // removed
    expect(existsSync(seen[0]!.model as string)).toBe(false);
  });

  it('10 concurrent first get() calls download each object exactly once (in its 8 MiB parts)', async () => {
    const before = new Map(s3.requests);
    const provider = createModelProvider({ load: () => loadModel('s3://models/synthetic/', opts()) });
    const engines = await Promise.all(Array.from({ length: 10 }, () => provider.get()));
    expect(new Set(engines).size).toBe(1);
    const delta = (k: string) => (s3.requests.get(k) ?? 0) - (before.get(k) ?? 0);
    // Two ranged GETs of the default 8 MiB for the 12 MiB object, once.
    expect(delta('GET /models/synthetic/onnx/model_quantized.onnx')).toBe(2);
    expect(delta('GET /models/synthetic/tokenizer.json')).toBe(1);
    expect(delta('GET /models/synthetic/config.json')).toBe(1);
    expect(delta('GET /models/synthetic/onnx/model.onnx')).toBe(0);
  });
});

describe('S3 outage at cold start', () => {
  it('reports MODEL_UNAVAILABLE while S3 is down, fails fast during the backoff, then loads on a later request with no restart', async () => {
    // The provider's clock is the test's: the 100 ms backoff passes when the test says so, however
    // busy the machine. Each load attempt is counted, so "fails fast" means "no new attempt".
    const T0 = Date.parse('2026-01-01T00:00:00.000Z');
    let now = T0;
    let attempts = 0;
    const provider = createModelProvider({
      load: () => (attempts++, loadModel('s3://models/synthetic/', opts())),
      now: () => now,
      backoff: { initialMs: 100, maxMs: 100, factor: 2 },
    });
    await s3.down();
    try {
      const t0 = Date.now();
      const err = (await provider.get().catch((e: unknown) => e)) as ModelUnavailableError;
      // A refused connection fails in milliseconds; the bound only catches a hang.
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(err).toBeInstanceOf(ModelUnavailableError);
      expect(err.code).toBe('MODEL_UNAVAILABLE');
      expect(err.message).toMatch(/^Model unavailable: Cannot reach storage for s3:\/\/models\/synthetic\//);
      expect(attempts).toBe(1);
      now += 99;
      // During the backoff: fail fast, say when, and do not try again.
      await expect(provider.get()).rejects.toThrow('; next load attempt in 1 s (at 2026-01-01T00:00:00.100Z)');
      expect(attempts).toBe(1);
      expect(provider.state()).toBe('failed');
    } finally {
      await s3.up();
    }
    // S3 is back, but the backoff has 1 ms to go: still no new attempt (one would now succeed).
    await expect(provider.get()).rejects.toThrow(/next load attempt/);
    expect(attempts).toBe(1);
    now = T0 + 100;
    await expect(provider.get()).resolves.toBeDefined();
    expect(attempts).toBe(2);
    expect(provider.state()).toBe('ready');
    expect(provider.info()?.source).toBe('s3://models/synthetic/');
  });
});

describe('clear errors naming the object', () => {
  afterAll(() => s3.intercept(undefined));

  it('a body cut short (ContentLength mismatch) → TruncatedModelObjectError', async () => {
    s3.intercept((req, res) => {
      if (!req.url?.startsWith('/models/synthetic/onnx/model_quantized.onnx') || req.method !== 'GET') return false;
      res.writeHead(200, {
        'content-length': String(quantized.length),
        etag: '"abc"',
        'content-type': 'application/octet-stream',
      });
      res.write(quantized.subarray(0, 1024 * 1024), () => res.destroy());
      return true;
    });
    const t0 = Date.now();
    await expect(loadModel('s3://models/synthetic/', opts())).rejects.toMatchObject({
      name: 'TruncatedModelObjectError',
      object: 's3://models/synthetic/onnx/model_quantized.onnx',
      message: expect.stringMatching(
        /^Truncated read of s3:\/\/models\/synthetic\/onnx\/model_quantized\.onnx: received \d+ of 12582917 bytes$/,
      ),
    });
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('a stalled body → ModelReadTimeoutError after the idle timeout', async () => {
    s3.intercept((req, res) => {
      if (!req.url?.startsWith('/models/synthetic/onnx/model_quantized.onnx')) return false;
      res.writeHead(200, { 'content-length': String(quantized.length) });
      res.write(quantized.subarray(0, 1000));
      setTimeout(() => res.destroy(), 5_000).unref();
      return true;
    });
    const t0 = Date.now();
    await expect(
      loadModel(
        's3://models/synthetic/',
        opts({ read: { idleTimeoutMs: 300, totalTimeoutMs: 10_000, maxInMemoryBytes: 1e9, spillDir: work } }),
      ),
    ).rejects.toThrow('Timed out after 300 ms (no data) reading s3://models/synthetic/onnx/model_quantized.onnx');
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('access denied (a real S3 403 XML error) → ModelAccessDeniedError', async () => {
    s3.intercept((req, res) => {
      if (!req.url?.startsWith('/models/synthetic/tokenizer.json')) return false;
      sendS3Error(res, 403, 'AccessDenied', 'Access Denied', '/models/synthetic/tokenizer.json');
      return true;
    });
    await expect(loadModel('s3://models/synthetic/', opts())).rejects.toMatchObject({
      name: 'ModelAccessDeniedError',
      reason: 'ACCESS_DENIED',
      message: 'Access denied reading s3://models/synthetic/tokenizer.json (check s3:GetObject and KMS permissions)',
    });
    s3.intercept(undefined);
  });

  it('a missing tokenizer → MissingModelFileError', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: 'models', Key: 'notok/onnx/model.onnx', Body: full }));
    await expect(loadModel('s3://models/notok/', opts())).rejects.toMatchObject({
      name: 'MissingModelFileError',
      object: 's3://models/notok/tokenizer.json',
    });
  });

  it('no ONNX file → MissingModelFileError listing what was tried', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: 'models', Key: 'noonnx/tokenizer.json', Body: '{}' }));
    await expect(loadModel('s3://models/noonnx/', opts())).rejects.toThrow(
      'Missing model file: s3://models/noonnx/onnx/model_quantized.onnx (no ONNX model under s3://models/noonnx/; tried onnx/model_quantized.onnx, onnx/model.onnx, model_quantized.onnx, model.onnx)',
    );
  });

  it('a wrong bucket → ModelBucketNotFoundError', async () => {
    await expect(loadModel('s3://no-such-bucket/m/', opts())).rejects.toMatchObject({
      name: 'ModelBucketNotFoundError',
      reason: 'BUCKET_NOT_FOUND',
    });
  });

  it('a corrupt ONNX object → InvalidModelError naming it, with the engine error as cause', async () => {
    await s3.client.send(
      new PutObjectCommand({ Bucket: 'models', Key: 'corrupt/onnx/model.onnx', Body: Buffer.from('CORRUPT garbage') }),
    );
    await s3.client.send(
      new PutObjectCommand({ Bucket: 'models', Key: 'corrupt/tokenizer.json', Body: await readFile(TOKENIZER) }),
    );
    const err = (await loadModel('s3://models/corrupt/', opts()).catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ name: 'InvalidModelError', object: 's3://models/corrupt/onnx/model.onnx' });
    expect(err.message).toContain('Protobuf parsing failed');
    expect((err.cause as Error).message).toContain('Protobuf');
  });

  it('an invalid config.json → InvalidModelError naming it', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: 'models', Key: 'badcfg/onnx/model.onnx', Body: full }));
    await s3.client.send(new PutObjectCommand({ Bucket: 'models', Key: 'badcfg/tokenizer.json', Body: '{}' }));
    await s3.client.send(new PutObjectCommand({ Bucket: 'models', Key: 'badcfg/config.json', Body: '{not json' }));
    await expect(loadModel('s3://models/badcfg/', opts())).rejects.toThrow(
      /^Invalid model s3:\/\/models\/badcfg\/config\.json: not valid JSON/,
    );
  });
});

describe('tar.gz bundle and local sources', () => {
  it('loads the bundle that push packed', async () => {
    seen.length = 0;
    const { info } = await loadModel('s3://models/bundles/synthetic.tar.gz', opts());
    expect(sha(seen[0]!.model as Uint8Array)).toBe(sha(quantized));
    expect(info).toMatchObject({
      source: 's3://models/bundles/synthetic.tar.gz',
      quantized: true,
      demo: true,
      name: 'synthetic',
    });
    // Read in two ranged parts (8 MiB default), then unpacked.
    expect(s3.count('GET', 'models', 'bundles/synthetic.tar.gz')).toBe(2);
  });

  it('a bundle that is not a tar.gz → InvalidModelError naming it', async () => {
    await s3.client.send(
      new PutObjectCommand({ Bucket: 'models', Key: 'bundles/bad.tar.gz', Body: randomBytes(4096) }),
    );
    await expect(loadModel('s3://models/bundles/bad.tar.gz', opts())).rejects.toMatchObject({
      name: 'InvalidModelError',
      object: 's3://models/bundles/bad.tar.gz',
    });
  });

  it('a bundle without tokenizer.json → MissingModelFileError listing its entries', async () => {
    const noTok = path.join(work, 'notok');
    await mkdir(path.join(noTok, 'onnx'), { recursive: true });
    await writeFile(path.join(noTok, 'onnx/model.onnx'), full);
    await pushModel(noTok, 's3://models/bundles/notok.tar.gz', { client: s3.client });
    await expect(loadModel('s3://models/bundles/notok.tar.gz', opts())).rejects.toThrow(
      'Missing model file: s3://models/bundles/notok.tar.gz!/tokenizer.json (entries: onnx/model.onnx)',
    );
  });

  it('loads a local folder (the ONNX handed over as a path) and a local bundle', async () => {
    seen.length = 0;
    const local = await loadModel(dir, opts());
    expect(seen[0]!.model).toBe(path.join(dir, 'onnx/model_quantized.onnx'));
    expect(local.info).toMatchObject({ source: dir, quantized: true, etag: null });
    await expect(loadModel(path.join(work, 'missing'), opts())).rejects.toMatchObject({
      name: 'MissingModelFileError',
    });
  });
});
