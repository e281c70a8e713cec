/**
 * Crafted bundles against the unpacker (src/model/loading/archive.ts): each one must end the load
 * with a coded error naming what is wrong, in bounded time, and never leave a rejection unhandled.
 * The bundles are built here: real tar.gz files, then corrupted, inflated or duplicated.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header, create as createTar } from 'tar';
import { unpackModelBundle, type UnpackOptions } from '../../src/model/loading/archive';
import { trackUnhandledRejections } from '../helpers/s3rver';

const MiB = 1024 * 1024;
let work: string;
const checkRejections = trackUnhandledRejections();

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'bundle-trust-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
  checkRejections();
});

/** A tar.gz of `files` (name → content), entries in the order given. */
async function bundle(files: Record<string, Buffer | string>): Promise<Buffer> {
  const dir = await mkdtemp(path.join(work, 'src-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  const chunks: Buffer[] = [];
  for await (const c of createTar(
    { gzip: true, cwd: dir, portable: true },
    Object.keys(files),
  ) as AsyncIterable<Buffer>)
    chunks.push(c);
  return Buffer.concat(chunks);
}

/** The buffer in chunks of `size`, each after a turn of the event loop (a download, roughly). */
async function* drip(buffer: Buffer, size = 16 * 1024): AsyncGenerator<Buffer> {
  for (let i = 0; i < buffer.length; i += size) {
    await new Promise((resolve) => setImmediate(resolve));
    yield buffer.subarray(i, i + size);
  }
}

const options = (over: Partial<UnpackOptions> = {}): UnpackOptions => ({
  preferQuantized: true,
  maxInMemoryBytes: 64 * MiB,
  spillDir: work,
  ...over,
});

/** Settles within `ms` (or says it hung). */
function within<T>(promise: Promise<T>, ms = 10_000): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms).unref()),
  ]);
}

const model = () => ({
  'tokenizer.json': '{"model":{}}',
  'config.json': '{}',
  'onnx/model.onnx': randomBytes(64 * 1024),
});

describe('a bundle that is not what it says ends the load as INVALID_MODEL', () => {
  it('a valid bundle still unpacks (the control)', async () => {
    const files = model();
    const out = await within(unpackModelBundle(drip(await bundle(files)), 's3://b/m.tar.gz', options()));
    expect(out.onnxName).toBe('onnx/model.onnx');
    expect((out.onnx as Buffer).equals(files['onnx/model.onnx'])).toBe(true);
    expect(out.tokenizer?.toString()).toBe(files['tokenizer.json']);
  });

  it('64 bytes flipped at offset 1000', async () => {
    // Compressible bytes first (as in a real tokenizer.json), so that offset 1000 is inside deflate's codes.
    const vocab = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`token${i}`, i]));
    const good = await bundle({
      'tokenizer.json': JSON.stringify({ model: { vocab } }),
      'onnx/model.onnx': randomBytes(4 * MiB),
    });
    const bad = Buffer.from(good);
    for (let i = 1000; i < 1064; i++) bad[i] = bad[i]! ^ 0xff;
    // 1 MiB chunks, as the loader feeds a downloaded bundle.
    await expect(within(unpackModelBundle(drip(bad, MiB), 's3://b/m.tar.gz', options()))).rejects.toMatchObject({
      reason: 'INVALID_MODEL',
      object: 's3://b/m.tar.gz',
    });
  });

  it('a gzip header followed by random bytes', async () => {
    const bad = Buffer.concat([gzipSync(Buffer.alloc(0)).subarray(0, 10), randomBytes(256 * 1024)]);
    await expect(within(unpackModelBundle(drip(bad), 's3://b/m.tar.gz', options()))).rejects.toMatchObject({
      reason: 'INVALID_MODEL',
    });
  });

  it('a bundle cut short', async () => {
    const good = await bundle(model());
    await expect(
      within(unpackModelBundle(drip(good.subarray(0, good.length - 5000)), 's3://b/m.tar.gz', options())),
    ).rejects.toMatchObject({
      reason: 'INVALID_MODEL',
    });
  });

  it('a decompression bomb (over 1000:1) stops early', async () => {
    // One tar entry of zeros, gzipped whole: deflate approaches 1030:1 on long runs of zeros.
    const size = 96 * MiB;
    const header = new Header({ path: 'onnx/model.onnx', size, type: 'File', mode: 0o644, mtime: new Date(0) });
    header.encode();
    const bomb = gzipSync(Buffer.concat([header.block!, Buffer.alloc(size)]), { level: 9 });
    const started = Date.now();
    await expect(
      within(unpackModelBundle(drip(bomb, 64 * 1024), 's3://b/bomb.tar.gz', options({ maxInMemoryBytes: 1024 }))),
    ).rejects.toMatchObject({
      reason: 'INVALID_MODEL',
      message: expect.stringContaining('decompression ratio'),
    });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('sizes and names', () => {
  it('a tokenizer.json over the memory budget is refused from its header, naming the entry', async () => {
    const big = await bundle({
      'bundle/tokenizer.json': Buffer.alloc(3 * MiB, 0x20),
      'bundle/onnx/model.onnx': randomBytes(1024),
    });
    await expect(
      within(unpackModelBundle(drip(big), 's3://b/m.tar.gz', options({ maxInMemoryBytes: MiB }))),
    ).rejects.toMatchObject({
      reason: 'INVALID_MODEL',
      object: 's3://b/m.tar.gz!/bundle/tokenizer.json',
      message: expect.stringMatching(/3145728 bytes, over the limit of 1048576 \(MODEL_MAX_IN_MEMORY_BYTES/),
    });
  });

  it('a config.json over 1 MiB is refused', async () => {
    const big = await bundle({
      'config.json': Buffer.alloc(2 * MiB, 0x20),
      'tokenizer.json': '{}',
      'onnx/model.onnx': randomBytes(1024),
    });
    await expect(within(unpackModelBundle(drip(big), 's3://b/m.tar.gz', options()))).rejects.toMatchObject({
      object: 's3://b/m.tar.gz!/config.json',
      reason: 'INVALID_MODEL',
    });
  });

  it.each([
    ['old first', ['old/tokenizer.json', 'tokenizer.json']],
    ['root first', ['tokenizer.json', 'old/tokenizer.json']],
  ])('two tokenizer.json entries (%s) are refused, naming both', async (_name, order) => {
    const files: Record<string, string | Buffer> = {};
    for (const name of order) files[name] = `{"from":"${name}"}`;
    files['onnx/model.onnx'] = randomBytes(1024);
    const error = await within(unpackModelBundle(drip(await bundle(files)), 's3://b/m.tar.gz', options())).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ reason: 'INVALID_MODEL', object: `s3://b/m.tar.gz!/${order[1]}` });
    expect((error as Error).message).toContain(`two tokenizer.json entries (${order[0]} and ${order[1]})`);
  });

  it('two entries for the same ONNX candidate are refused', async () => {
    const files = {
      'a/onnx/model.onnx': randomBytes(1024),
      'onnx/model.onnx': randomBytes(1024),
      'tokenizer.json': '{}',
    };
    await expect(within(unpackModelBundle(drip(await bundle(files)), 's3://b/m.tar.gz', options()))).rejects.toThrow(
      'two entries for the same model file (a/onnx/model.onnx and onnx/model.onnx)',
    );
  });

  it.each([
    ['int8 first', ['onnx/model_int8.onnx', 'onnx/model_fp16.onnx']],
    ['fp16 first', ['onnx/model_fp16.onnx', 'onnx/model_int8.onnx']],
  ])('among ONNX files with no standard name, the first by name wins whatever the order (%s)', async (_name, order) => {
    const files: Record<string, Buffer | string> = { 'tokenizer.json': '{}' };
    for (const name of order) files[name] = randomBytes(1024);
    const out = await within(unpackModelBundle(drip(await bundle(files)), 's3://b/m.tar.gz', options()));
    expect(out.onnxName).toBe('onnx/model_fp16.onnx');
    expect((out.onnx as Buffer).equals(files['onnx/model_fp16.onnx'] as Buffer)).toBe(true);
  });
});

describe('a source that fails', () => {
  it('is the source’s error (STORAGE_ERROR), not a verdict on the bundle', async () => {
    const good = await bundle({ ...model(), 'onnx/model.onnx': randomBytes(256 * 1024) });
    async function* broken(): AsyncGenerator<Buffer> {
      yield good.subarray(0, 64 * 1024);
      throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    }
    await expect(within(unpackModelBundle(broken(), '/models/m.tar.gz', options()))).rejects.toMatchObject({
      reason: 'STORAGE_ERROR',
      message: 'Error reading /models/m.tar.gz: EIO: i/o error, read',
    });
  });
});

describe('a spill that fails', () => {
  it('is a LOCAL_STORAGE error naming the entry, with no unhandled rejection', async () => {
    const seen: unknown[] = [];
    const onRejection = (reason: unknown): void => void seen.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const files = {
        'onnx/model.onnx': randomBytes(512 * 1024),
        'tokenizer.json': '{}',
        'padding.bin': randomBytes(512 * 1024),
      };
      await expect(
        within(
          unpackModelBundle(
            drip(await bundle(files), 4096),
            's3://b/m.tar.gz',
            options({ maxInMemoryBytes: 1024, spillDir: path.join(work, 'gone') }),
          ),
        ),
      ).rejects.toMatchObject({ reason: 'LOCAL_STORAGE', object: 's3://b/m.tar.gz!/onnx/model.onnx' });
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('unhandledRejection', onRejection);
    }
    expect(seen).toEqual([]);
  });
});
