/**
 * Manifests and objects whose sizes lie (s3rver): every size read from outside is bounded before a
 * byte is allocated or a part is planned for it, and checked against the object's real size.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startS3, trackUnhandledRejections, type TestS3 } from '../helpers/s3rver';
import { loadModel, type LoadModelOptions } from '../../src/model/loading/load-model';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const checkRejections = trackUnhandledRejections();
let s3: TestS3;
let work: string;

beforeAll(async () => {
  s3 = await startS3(['models']);
  work = await mkdtemp(path.join(os.tmpdir(), 'manifest-lies-'));
});
afterAll(async () => {
  await s3?.close();
  await rm(work, { recursive: true, force: true });
  checkRejections();
});

const never = async (): Promise<never> => {
  throw new Error('the engine must not be created');
};
const opts = (over: Partial<LoadModelOptions['read']> = {}): LoadModelOptions => ({
  s3: s3.client,
  preferQuantized: true,
  read: { idleTimeoutMs: 5_000, totalTimeoutMs: 30_000, maxInMemoryBytes: 64 * MiB, spillDir: work, ...over },
  createEngine: never,
});

const put = (key: string, body: Buffer | string) =>
  s3.client.send(new PutObjectCommand({ Bucket: 'models', Key: key, Body: body }));

/** A version whose manifest lists `files` (path → bytes to list), each object holding `real[path]`. */
async function version(prefix: string, listed: Record<string, number>, real: Record<string, Buffer>): Promise<void> {
  const folder = 'versions/v1/';
  for (const [p, body] of Object.entries(real)) await put(`${prefix}${folder}${p}`, body);
  const files = Object.entries(listed).map(([p, bytes]) => ({ path: p, bytes, sha256: sha(real[p] ?? '') }));
  await put(
    `${prefix}model-manifest.json`,
    JSON.stringify({ format: 1, version: 'v1', folder, source: 'test', createdAt: new Date(0).toISOString(), files }),
  );
}

describe('sizes from a manifest', () => {
  it('bytes of 10^15 are refused from the manifest, before any part is planned', async () => {
    const onnx = randomBytes(1024);
    await version(
      'huge/',
      { 'onnx/model.onnx': 1e15, 'tokenizer.json': 2 },
      { 'onnx/model.onnx': onnx, 'tokenizer.json': Buffer.from('{}') },
    );
    const before = process.memoryUsage().rss;
    await expect(loadModel('s3://models/huge/', opts())).rejects.toMatchObject({
      reason: 'INVALID_MODEL',
      object: 's3://models/huge/model-manifest.json',
      message: expect.stringContaining('onnx/model.onnx: 1000000000000000 bytes is over the ceiling'),
    });
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * MiB);
  });

  it('a listed size the object does not have fails on the first answer, naming the object', async () => {
    const onnx = randomBytes(1024);
    await version(
      'wrong/',
      { 'onnx/model.onnx': 8 * 1024 * MiB, 'tokenizer.json': 2 },
      { 'onnx/model.onnx': onnx, 'tokenizer.json': Buffer.from('{}') },
    );
    await expect(loadModel('s3://models/wrong/', opts({ maxInMemoryBytes: MiB }))).rejects.toMatchObject({
      reason: 'CHECKSUM_MISMATCH',
      object: 's3://models/wrong/versions/v1/onnx/model.onnx',
      // Whichever part answers first: the one that says the size, or one past the end (416).
      message: expect.stringMatching(
        new RegExp(
          `the object has 1024 bytes, the manifest lists ${8 * 1024 * MiB}|shorter than the ${8 * 1024 * MiB} bytes`,
        ),
      ),
    });
  });

  it('a tokenizer.json listed over the memory budget is refused before it is read', async () => {
    await version(
      'bigtok/',
      { 'onnx/model.onnx': 4, 'tokenizer.json': 600 * MiB },
      { 'onnx/model.onnx': Buffer.from('onnx'), 'tokenizer.json': Buffer.from('{}') },
    );
    await expect(loadModel('s3://models/bigtok/', opts({ maxInMemoryBytes: MiB }))).rejects.toMatchObject({
      reason: 'INVALID_MODEL',
      object: 's3://models/bigtok/versions/v1/tokenizer.json',
      message: expect.stringContaining('over the limit of 1048576 (MODEL_MAX_IN_MEMORY_BYTES'),
    });
  });
});

describe('sizes from the object itself (no manifest)', () => {
  it('a tokenizer.json over the memory budget is refused once its size is known, naming it', async () => {
    await put('flat/tokenizer.json', Buffer.alloc(2 * MiB, 0x20));
    await put('flat/onnx/model.onnx', randomBytes(1024));
    await expect(loadModel('s3://models/flat/', opts({ maxInMemoryBytes: MiB }))).rejects.toMatchObject({
      reason: 'INVALID_MODEL',
      object: 's3://models/flat/tokenizer.json',
    });
  });

  it('a config.json over 1 MiB is refused', async () => {
    await put('flatcfg/tokenizer.json', '{}');
    await put('flatcfg/config.json', JSON.stringify({ padding: ' '.repeat(2 * MiB) }));
    await put('flatcfg/onnx/model.onnx', randomBytes(1024));
    await expect(loadModel('s3://models/flatcfg/', opts())).rejects.toMatchObject({
      reason: 'INVALID_MODEL',
      object: 's3://models/flatcfg/config.json',
    });
  });
});
