/**
 * A local model folder or bundle that is not made of regular files of sane sizes: the load ends
 * with a coded error naming the file, within the read timeouts, instead of blocking on a FIFO.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel, type LoadModelOptions } from '../../src/model/loading/load-model';

const MiB = 1024 * 1024;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'local-trust-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const opts = (over: Partial<LoadModelOptions['read']> = {}): LoadModelOptions => ({
  preferQuantized: true,
  read: { idleTimeoutMs: 1_000, totalTimeoutMs: 5_000, maxInMemoryBytes: 64 * MiB, spillDir: work, ...over },
  createEngine: async () => {
    throw new Error('the engine must not be created');
  },
});

/** A folder with a tokenizer, an ONNX file, and `extra` files. */
async function folder(name: string, extra: Record<string, string | Buffer> = {}): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(path.join(dir, 'onnx'), { recursive: true });
  const files = { 'tokenizer.json': '{}', 'onnx/model.onnx': randomBytes(1024), ...extra };
  for (const [f, content] of Object.entries(files)) await writeFile(path.join(dir, f), content);
  return dir;
}

function within<T>(promise: Promise<T>, ms = 10_000): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms).unref()),
  ]);
}

describe('a local folder', () => {
  it.each(['config.json', 'tokenizer.json'])('%s as a FIFO fails the load, naming it', async (name) => {
    const dir = await folder(`fifo-${name}`);
    await rm(path.join(dir, name), { force: true });
    execFileSync('mkfifo', [path.join(dir, name)]);
    await expect(within(loadModel(dir, opts()))).rejects.toMatchObject({
      reason: 'INVALID_MODEL',
      object: path.join(dir, name),
      message: expect.stringContaining('not a regular file'),
    });
  });

  it('a tokenizer.json over the memory budget is refused from its size', async () => {
    const dir = await folder('bigtok', { 'tokenizer.json': Buffer.alloc(2 * MiB, 0x20) });
    await expect(within(loadModel(dir, opts({ maxInMemoryBytes: MiB })))).rejects.toMatchObject({
      reason: 'INVALID_MODEL',
      object: path.join(dir, 'tokenizer.json'),
      message: expect.stringContaining('over the limit of 1048576'),
    });
  });

  it('a config.json over 1 MiB is refused', async () => {
    const dir = await folder('bigcfg', { 'config.json': JSON.stringify({ padding: ' '.repeat(2 * MiB) }) });
    await expect(within(loadModel(dir, opts()))).rejects.toMatchObject({
      reason: 'INVALID_MODEL',
      object: path.join(dir, 'config.json'),
    });
  });

  it('a bundle path that is a FIFO fails the load', async () => {
    const fifo = path.join(work, 'model.tar.gz');
    execFileSync('mkfifo', [fifo]);
    await expect(within(loadModel(fifo, opts()))).rejects.toMatchObject({ reason: 'INVALID_MODEL', object: fifo });
  });
  it.each([0.5, 0, 8, '512', 1e9])(
    'config.json with max_position_embeddings %p is refused, naming it',
    async (value) => {
      const dir = await folder(`mpe-${String(value)}`, {
        'config.json': JSON.stringify({ max_position_embeddings: value }),
      });
      await expect(within(loadModel(dir, opts()))).rejects.toMatchObject({
        reason: 'INVALID_MODEL',
        object: path.join(dir, 'config.json'),
        message: expect.stringContaining('max_position_embeddings must be an integer from 16 to 1048576'),
      });
    },
  );
});
