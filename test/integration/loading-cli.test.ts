/** `npm run model -- pull|push|info` through its entry point, against the local Hub and s3rver. */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../scripts/model-cli';
import { formatProgress } from '../../scripts/model-cli/progress';
import { loadModelLoadingConfig } from '../../src/model/loading/config';
import { hubCacheDir } from '../../src/model/loading/default-source';
import { startS3, trackUnhandledRejections, type TestS3 } from '../helpers/s3rver';
import { startHubServer, type HubServer } from '../helpers/hub-server';

const checkRejections = trackUnhandledRejections();
let s3: TestS3;
let hub: HubServer;
let work: string;
const saved = { ...process.env };
const onnx = Buffer.alloc(200_000, 3);

beforeAll(async () => {
  s3 = await startS3(['models']);
  hub = await startHubServer([{
    repo: 'Xenova/distilbert-base-cased-distilled-squad', revision: 'v1', commit: 'abc',
    files: { 'config.json': Buffer.from('{"model_type":"distilbert"}'), 'tokenizer.json': Buffer.from('{}'), 'onnx/model_quantized.onnx': onnx },
  }]);
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
      expect(await main(['pull', '--revision', 'v1', '--quantized', dir])).toBe(0);
      expect(await readFile(path.join(dir, 'onnx/model_quantized.onnx'))).toEqual(onnx);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toContain('onnx/model_quantized.onnx');
      out.mockClear();
      expect(await main(['push', dir, 's3://models/cli/'])).toBe(0);
      const pushed = JSON.parse(String(out.mock.calls[0]![0]));
      expect(pushed.at(-1)).toMatchObject({ key: 'cli/model-manifest.json', version: expect.stringMatching(/^\d{8}T\d{6}Z-[0-9a-f]{12}$/) });
      out.mockClear();
      expect(await main(['info', 's3://models/cli/'])).toBe(0);
      const info = JSON.parse(String(out.mock.calls[0]![0]));
      expect(info.files.map((f: { path: string }) => f.path).sort()).toEqual(['config.json', 'onnx/model_quantized.onnx', 'tokenizer.json']);
      // The version, where it came from (the Hub repo at the pulled commit), and each file's SHA-256.
      expect(info).toMatchObject({ version: pushed.at(-1).version, versions: [pushed.at(-1).version] });
      expect(info.manifest.source).toMatch(/^Xenova\/distilbert-base-cased-distilled-squad@/);
      expect(info.files.find((f: { path: string }) => f.path === 'onnx/model_quantized.onnx').sha256).toBe(createHash('sha256').update(onnx).digest('hex'));
      expect(await main(['frobnicate'])).toBe(2);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });

  it('pull without a folder fills the cache `npm start` uses when MODEL_URI is unset', async () => {
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const cacheDir = path.join(work, 'cache');
    Object.assign(process.env, { MODEL_CACHE_DIR: cacheDir, MODEL_HUB_REVISION: 'v1' });
    try {
      expect(await main(['pull', '--quantized'])).toBe(0);
      const expected = hubCacheDir(loadModelLoadingConfig());
      expect(expected).toBe(path.join(cacheDir, 'Xenova', 'distilbert-base-cased-distilled-squad', 'v1'));
      expect(await readFile(path.join(expected, 'onnx/model_quantized.onnx'))).toEqual(onnx);
    } finally {
      delete process.env.MODEL_CACHE_DIR;
      delete process.env.MODEL_HUB_REVISION;
      out.mockRestore();
      err.mockRestore();
    }
  });

  it('formats progress', () => {
    expect(formatProgress('f', 50e6, 100e6, 1000, 10)).toBe('f [#####-----]  50%  50.0/100.0 MB  50.0 MB/s');
    expect(formatProgress('f', 5e6, undefined, 1000)).toBe('f  5.0 MB  5.0 MB/s');
  });
});
