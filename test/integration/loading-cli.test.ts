/** `npm run model -- pull|push|info` through its entry point, against the local Hub and s3rver. */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../scripts/model-cli';
import { formatProgress } from '../../scripts/model-cli/progress';
import { loadModelLoadingConfig } from '../../src/model/loading/config';
import { hubCacheDir } from '../../src/model/loading/hub-source';
import { installedOnnxRuntimeVersion } from '../../src/model/onnxruntime/version';
import { startS3, trackUnhandledRejections, type TestS3 } from '../helpers/s3rver';
import { startHubServer, type HubServer } from '../helpers/hub-server';

const checkRejections = trackUnhandledRejections();
let s3: TestS3;
let hub: HubServer;
let work: string;
const saved = { ...process.env };
const REPO = 'Xenova/distilbert-base-cased-distilled-squad';
const onnx = Buffer.alloc(200_000, 3);
const fp32 = Buffer.alloc(300_000, 5);

/** The files a pull left in `dir` (posix paths, sorted), the pull manifest aside. */
async function pulledFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name !== '.hub-pull.json')
    .map((e) =>
      path
        .relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
        .split(path.sep)
        .join('/'),
    )
    .sort();
}

beforeAll(async () => {
  s3 = await startS3(['models']);
  hub = await startHubServer([
    {
      repo: 'Xenova/distilbert-base-cased-distilled-squad',
      revision: 'v1',
      commit: 'abc',
      files: {
        'config.json': Buffer.from('{"model_type":"distilbert"}'),
        'tokenizer.json': Buffer.from('{}'),
        'onnx/model_quantized.onnx': onnx,
        'onnx/model.onnx': fp32,
      },
    },
  ]);
  work = await mkdtemp(path.join(os.tmpdir(), 'loading-cli-'));
  Object.assign(process.env, s3.env, { HF_ENDPOINT: hub.endpoint });
});

afterAll(async () => {
  process.env = saved;
  await hub?.close();
  await s3?.close();
  await rm(work, { recursive: true, force: true });
  checkRejections();
});

describe('model CLI', () => {
  it('pull (default repo) → push → info', async () => {
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const dir = path.join(work, 'm');
      expect(await main(['pull', REPO, dir, '--revision', 'v1'])).toBe(0);
      expect(await readFile(path.join(dir, 'onnx/model_quantized.onnx'))).toEqual(onnx);
      expect(await pulledFiles(dir)).toEqual(['config.json', 'onnx/model_quantized.onnx', 'tokenizer.json']);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toContain('onnx/model_quantized.onnx');
      out.mockClear();
      err.mockClear();
      expect(await main(['push', dir, 's3://models/cli/'])).toBe(0);
      // No `model optimize` ran: push says what the version will serve and how to do better.
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toContain(`npm run model -- optimize ${dir}`);
      const pushed = JSON.parse(String(out.mock.calls[0]![0]));
      expect(pushed.at(-1)).toMatchObject({
        key: 'cli/model-manifest.json',
        version: expect.stringMatching(/^\d{8}T\d{6}Z-[0-9a-f]{12}$/),
      });
      out.mockClear();
      expect(await main(['info', 's3://models/cli/'])).toBe(0);
      const info = JSON.parse(String(out.mock.calls[0]![0]));
      expect(info.files.map((f: { path: string }) => f.path).sort()).toEqual([
        'config.json',
        'onnx/model_quantized.onnx',
        'tokenizer.json',
      ]);
      // The version, where it came from (the Hub repo at the pulled commit), and each file's SHA-256.
      expect(info).toMatchObject({ version: pushed.at(-1).version, versions: [pushed.at(-1).version] });
      expect(info.manifest.source).toMatch(/^Xenova\/distilbert-base-cased-distilled-squad@/);
      expect(info.files.find((f: { path: string }) => f.path === 'onnx/model_quantized.onnx').sha256).toBe(
        createHash('sha256').update(onnx).digest('hex'),
      );
      // With an ORT file of the installed onnxruntime in the folder (as `model optimize` writes it), no note.
      await writeFile(path.join(dir, `onnx/model_quantized.onnxruntime-${installedOnnxRuntimeVersion()}.ort`), onnx);
      err.mockClear();
      expect(await main(['push', dir, 's3://models/cli/'])).toBe(0);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).not.toContain('model -- optimize');
      expect(await main(['frobnicate'])).toBe(2);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });

  it('the documented `npm run model -- pull` (no flag, no folder) fills the cache `npm start` uses with exactly the int8 files', async () => {
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const cacheDir = path.join(work, 'cache');
    Object.assign(process.env, { MODEL_CACHE_DIR: cacheDir, MODEL_HUB_REVISION: 'v1' });
    try {
      const before = hub.log.length;
      expect(await main(['pull'])).toBe(0);
      const expected = hubCacheDir(loadModelLoadingConfig());
      expect(expected).toBe(path.join(cacheDir, 'Xenova', 'distilbert-base-cased-distilled-squad', 'v1'));
      expect(await readFile(path.join(expected, 'onnx/model_quantized.onnx'))).toEqual(onnx);
      expect(await pulledFiles(expected)).toEqual(['config.json', 'onnx/model_quantized.onnx', 'tokenizer.json']);
      // The fp32 export (265 MB for the real model) is not even asked for.
      expect(hub.log.slice(before).some((r) => r.url.includes('model.onnx'))).toBe(false);
      expect(hub.log.slice(before).some((r) => r.url.endsWith('/onnx/model_quantized.onnx'))).toBe(true);
    } finally {
      delete process.env.MODEL_CACHE_DIR;
      delete process.env.MODEL_HUB_REVISION;
      out.mockRestore();
      err.mockRestore();
    }
  });

  it('pull --fp32 fetches only onnx/model.onnx, --all both; --fp32 with --all and the old --quantized are usage errors', async () => {
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const only32 = path.join(work, 'fp32');
      expect(await main(['pull', REPO, only32, '--revision', 'v1', '--fp32'])).toBe(0);
      expect(await pulledFiles(only32)).toEqual(['config.json', 'onnx/model.onnx', 'tokenizer.json']);
      expect(await readFile(path.join(only32, 'onnx/model.onnx'))).toEqual(fp32);
      const both = path.join(work, 'all');
      expect(await main(['pull', REPO, both, '--revision', 'v1', '--all'])).toBe(0);
      expect(await pulledFiles(both)).toEqual([
        'config.json',
        'onnx/model.onnx',
        'onnx/model_quantized.onnx',
        'tokenizer.json',
      ]);
      expect(await readFile(path.join(both, 'onnx/model.onnx'))).toEqual(fp32);
      expect(await readFile(path.join(both, 'onnx/model_quantized.onnx'))).toEqual(onnx);
      err.mockClear();
      expect(await main(['pull', REPO, path.join(work, 'neither'), '--fp32', '--all'])).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toContain('--fp32 and --all exclude each other');
      err.mockClear();
      expect(await main(['pull', REPO, path.join(work, 'old'), '--quantized'])).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(
        /Unknown option '--quantized'[\s\S]*usage: npm run model/,
      );
      await expect(readdir(path.join(work, 'neither'))).rejects.toThrow(/ENOENT/);
      await expect(readdir(path.join(work, 'old'))).rejects.toThrow(/ENOENT/);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });

  it("one argument is the repo: `pull owner/name` fills that repo's cache folder, never a folder named owner/name", async () => {
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const cacheDir = path.join(work, 'cache-one-arg');
    const cwd = process.cwd();
    Object.assign(process.env, { MODEL_CACHE_DIR: cacheDir });
    process.chdir(work);
    try {
      expect(await main(['pull', REPO, '--revision', 'v1'])).toBe(0);
      const expected = path.join(cacheDir, 'Xenova', 'distilbert-base-cased-distilled-squad', 'v1');
      expect(await pulledFiles(expected)).toEqual(['config.json', 'onnx/model_quantized.onnx', 'tokenizer.json']);
      await expect(readdir(path.join(work, 'Xenova'))).rejects.toThrow(/ENOENT/);
    } finally {
      process.chdir(cwd);
      delete process.env.MODEL_CACHE_DIR;
      out.mockRestore();
      err.mockRestore();
    }
  });

  it('a failed pull leaves no empty folder behind', async () => {
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const target = path.join(work, 'mistyped');
      await expect(main(['pull', 'Xenova/no-such-repo', target, '--revision', 'v1'])).rejects.toThrow();
      await expect(readdir(target)).rejects.toThrow(/ENOENT/);
    } finally {
      err.mockRestore();
    }
  });

  it('--help prints the usage and exits 0; an unknown command says so and exits 2', async () => {
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['--help'])).toBe(0);
      expect(out.mock.calls.map((c) => String(c[0])).join('')).toMatch(
        /^usage: npm run model[\s\S]*optimize[\s\S]*\.ort/,
      );
      expect(await main(['pul'])).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(
        /^error: unknown command "pul"\nusage: npm run model/,
      );
      err.mockClear();
      expect(await main([])).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/^usage: npm run model/);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });

  it('formats progress', () => {
    expect(formatProgress('f', 50e6, 100e6, 1000, 10)).toBe('f [#####-----]  50%  50.0/100.0 MB  50.0 MB/s');
    expect(formatProgress('f', 5e6, undefined, 1000)).toBe('f  5.0 MB  5.0 MB/s');
  });
});
