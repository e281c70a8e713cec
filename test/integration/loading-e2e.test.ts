/**
 * End to end with the real engine (onnxruntime + tokenizers) and a generated tiny DistilBERT:
 * pull from a local Hub-like server (with a cut connection to resume) → push to s3rver → cold load
 * through the env-configured provider → answer. Also the `npm start` default resolver.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createApi } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { ensureDemoModel, ensureTestModel } from '../../scripts/model-generator';
import { pushModel } from '../../scripts/model-cli/push';
import { freePort } from '../helpers/free-port';
import { startS3, trackUnhandledRejections, type TestS3 } from '../helpers/s3rver';
import { startHubServer, type HubServer } from '../helpers/hub-server';
import { HubDownloadError, HubPullError } from '../../src/model/loading/hub-errors';
import { pullFromHub, PULL_MANIFEST } from '../../src/model/loading/hub-pull';
import { createModelProvider } from '../../src/model/loading/provider';
import { defaultModelSource, resolveDefaultModelSource, DEMO_WARNING } from '../../src/model/loading/hub-source';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadModelLoadingConfig } from '../../src/model/loading/config';
import { loadModel } from '../../src/model/loading/load-model';
import { QuestionAnswerer } from '../../src/model/question-answerer';
import type { QAEngine } from '../../src/model/engine';
import { compareAnswers } from '../helpers/reference-qa';

const REPO = 'Xenova/distilbert-base-cased-distilled-squad';
const CONTEXT = 'The Eiffel Tower was completed in 1889 and stands in Paris, France.';
const checkRejections = trackUnhandledRejections();
let s3: TestS3;
let hub: HubServer;
let work: string;
let generated: string;
const files: Record<string, Buffer> = {};

const quietLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Null when `engine` (loaded through S3 or a bundle) answers as the generated model opened straight
 * from its folder, without the loader; else the first difference.
 */
async function differsFromFolder(engine: QAEngine, file: string, question: string): Promise<string | null> {
  const input = { question, context: CONTEXT, options: { topK: 3 } };
  const direct = await QuestionAnswerer.create({
    model: path.join(generated, file),
    tokenizerJson: files['tokenizer.json']!.toString('utf8'),
    config: JSON.parse(files['config.json']!.toString('utf8')),
    intraOpNumThreads: 1,
  });
  try {
    const expected = await direct.answer(input);
    if (expected.length === 0) return 'the folder model gave no answer';
    return compareAnswers(expected, await engine.answer(input));
  } finally {
    await direct.dispose();
  }
}

beforeAll(async () => {
  generated = await ensureTestModel({ size: 'tiny', variant: 'distilbert' });
  for (const f of [
    'config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'special_tokens_map.json',
    'vocab.txt',
    'onnx/model.onnx',
    'onnx/model_quantized.onnx',
  ]) {
    files[f] = await readFile(path.join(generated, f));
  }
  hub = await startHubServer([
    { repo: REPO, revision: 'main', commit: 'c0ffee0000000000000000000000000000000000', files },
  ]);
  s3 = await startS3(['models']);
  work = await mkdtemp(path.join(os.tmpdir(), 'loading-e2e-'));
  // Credentials come from the SDK's chain (process.env), as in production.
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
});

afterAll(async () => {
  await hub?.close();
  await s3?.close();
  await rm(work, { recursive: true, force: true });
  checkRejections();
});

describe('pull → push → cold load → answer', () => {
  it('resumes a cut download, verifies it, uploads it, and a cold provider loads and answers', async () => {
    const dir = path.join(work, 'pulled');
    hub.cutNext('onnx/model_quantized.onnx', 300_000);
    const pulled = await pullFromHub({ repo: REPO, dir, endpoint: hub.endpoint, retries: 2 });
    const onnx = pulled.files.find((f) => f.path === 'onnx/model_quantized.onnx')!;
    // What arrived before the cut (≤ 300,000 bytes; the client may see less under load) is kept and resumed.
    expect(onnx.resumedFrom).toBeGreaterThan(0);
    expect(onnx.resumedFrom).toBeLessThanOrEqual(300_000);
    expect(hub.log.some((r) => r.range === `bytes=${onnx.resumedFrom}-` && r.url.startsWith('/cdn/'))).toBe(true);
    expect(await readFile(path.join(dir, 'onnx/model_quantized.onnx'))).toEqual(files['onnx/model_quantized.onnx']);
    expect(pulled.commit).toBe('c0ffee0000000000000000000000000000000000');
    expect((await readdir(path.join(dir, 'onnx'))).sort()).toEqual(['model_quantized.onnx']);

    const pushed = await pushModel(dir, 's3://models/distilbert/', { client: s3.client });
    const manifest = JSON.parse(
      await (
        await s3.client.send(new GetObjectCommand({ Bucket: 'models', Key: 'distilbert/model-manifest.json' }))
      ).Body!.transformToString(),
    );
    // The manifest records where the pushed folder came from: the Hub repo at the pulled commit.
    expect(manifest.source).toBe(`${REPO}@c0ffee0000000000000000000000000000000000`);
    expect(pushed.at(-1)).toMatchObject({ key: 'distilbert/model-manifest.json', version: manifest.version });
    const provider = createModelProvider({
      env: { ...s3.env, MODEL_URI: 's3://models/distilbert/' },
      logger: quietLogger,
    });
    const warm = await provider.warmUp();
    if (provider.error()) throw provider.error();
    expect(warm).toBe(true);
    const engine = await provider.get();
    expect(await differsFromFolder(engine, 'onnx/model_quantized.onnx', 'When was the tower completed?')).toBeNull();
    const info = provider.info()!;
    expect(info).toMatchObject({
      source: 's3://models/distilbert/',
      quantized: true,
      demo: true,
      maxSequenceLength: 384,
    });
    expect(info.inputNames).toEqual(expect.arrayContaining(['input_ids', 'attention_mask']));
    expect(info.etag).toMatch(/^"[0-9a-f]+/);
    expect(info.bytes).toBeGreaterThan(files['onnx/model_quantized.onnx']!.length);
    expect(info.version).toBe(manifest.version);
    // And through the API: `model { version }`.
    const api = createApi({ config: apiConfig(), provider, ideAssetsDir: null, logSink: () => undefined });
    const res = await api.server.executeOperation(
      { query: '{ model { version sizeBytes } }' },
      { contextValue: await api.createContext() },
    );
    expect(res.body.kind === 'single' && res.body.singleResult.data).toEqual({
      model: { version: manifest.version, sizeBytes: info.bytes },
    });
    for (const k of ['downloadMs', 'sessionCreateMs', 'tokenizerMs', 'totalMs'] as const)
      expect(info.timings[k]).toBeGreaterThan(0);
    // Measured figures, for the report.
    console.log('cold load from s3rver (tiny int8 model):', JSON.stringify(info.timings), `${info.bytes} bytes`);
  });

  it('a second pull finds the files in place and downloads nothing', async () => {
    const dir = path.join(work, 'pulled');
    const before = hub.log.filter((r) => r.method === 'GET').length;
    const again = await pullFromHub({ repo: REPO, dir, endpoint: hub.endpoint });
    expect(again.files.every((f) => f.cached)).toBe(true);
    expect(hub.log.filter((r) => r.method === 'GET').length).toBe(before);
  });

  it('rejects a download whose sha256 does not match the Hub and leaves no file', async () => {
    const dir = path.join(work, 'corrupt');
    hub.corrupt('onnx/model.onnx');
    await expect(pullFromHub({ repo: REPO, onnx: 'fp32', dir, endpoint: hub.endpoint })).rejects.toThrow(
      /Checksum mismatch for .*onnx\/model\.onnx: sha256 [0-9a-f]{64}, the Hub says [0-9a-f]{64}/,
    );
    await expect(readFile(path.join(dir, 'onnx/model.onnx'))).rejects.toThrow();
  });

  it('a corrupt ONNX object in S3 fails with the session error, naming the object', async () => {
    await s3.client.send(
      new PutObjectCommand({
        Bucket: 'models',
        Key: 'corrupt/onnx/model.onnx',
        Body: files['onnx/model.onnx']!.subarray(0, 100_000),
      }),
    );
    await s3.client.send(
      new PutObjectCommand({ Bucket: 'models', Key: 'corrupt/tokenizer.json', Body: files['tokenizer.json'] }),
    );
    const cfg = loadModelLoadingConfig({});
    const err = (await loadModel('s3://models/corrupt/', { s3: s3.client, preferQuantized: true, read: cfg.s3 }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err).toMatchObject({ name: 'InvalidModelError', object: 's3://models/corrupt/onnx/model.onnx' });
    expect(err.message).toMatch(/^Invalid model s3:\/\/models\/corrupt\/onnx\/model\.onnx: engine creation failed/);
  });

  it('the tar.gz bundle loads and answers', async () => {
    await pushModel(generated, 's3://models/bundle.tar.gz', { client: s3.client });
    const cfg = loadModelLoadingConfig({});
    const { engine, info } = await loadModel('s3://models/bundle.tar.gz', {
      s3: s3.client,
      preferQuantized: false,
      read: cfg.s3,
    });
    expect(info.quantized).toBe(false);
    expect(await differsFromFolder(engine, 'onnx/model.onnx', 'Where is it?')).toBeNull();
  });
});

describe('the npm start default', () => {
  it('pulls the default Hub model into the cache once, then uses the cache', async () => {
    const cacheDir = path.join(work, 'cache');
    const config = loadModelLoadingConfig({ HF_ENDPOINT: hub.endpoint, MODEL_CACHE_DIR: cacheDir });
    const first = await resolveDefaultModelSource({ config, logger: quietLogger });
    expect(first).toEqual({
      uri: path.join(cacheDir, 'Xenova', 'distilbert-base-cased-distilled-squad', 'main'),
      origin: 'hub',
      demo: false,
      name: REPO,
    });
    await expect(readFile(path.join(first.uri, PULL_MANIFEST), 'utf8')).resolves.toContain(REPO);
    const downloads = hub.log.filter((r) => r.method === 'GET').length;
    const second = await resolveDefaultModelSource({ config, logger: quietLogger });
    expect(second).toEqual({ ...first, origin: 'hub-cache' });
    // Used from the cache: not one file asked of the Hub again.
    expect(hub.log.filter((r) => r.method === 'GET').length).toBe(downloads);
  });

  it('falls back to the generated demo model with a loud warning when the Hub is unreachable', async () => {
    // A port that was just freed: connection refused, quickly.
    const port = await freePort();
    const warnings: string[] = [];
    const logger = { ...quietLogger, warn: (m: string) => void warnings.push(m) };
    const provider = createModelProvider({
      env: {
        HF_ENDPOINT: `http://127.0.0.1:${port}`,
        MODEL_CACHE_DIR: path.join(work, 'cache-offline'),
        MODEL_HUB_TIMEOUT_MS: '1000',
      },
      logger,
      // What npm start gives it (scripts/start.ts).
      defaultSource: defaultModelSource({ demoModel: ensureDemoModel }),
    });
    const t0 = Date.now();
    const engine = await provider.get();
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(warnings).toContain(DEMO_WARNING);
    expect(provider.info()).toMatchObject({ demo: true });
    await expect(engine.answer({ question: 'Where?', context: CONTEXT })).resolves.toHaveLength(1);
  });

  it('without a demo model given (all production code), an unreachable Hub is a HubPullError', async () => {
    const port = await freePort();
    const config = loadModelLoadingConfig({
      HF_ENDPOINT: `http://127.0.0.1:${port}`,
      MODEL_CACHE_DIR: path.join(work, 'cache-nodemo'),
      MODEL_HUB_TIMEOUT_MS: '1000',
    });
    const result = await resolveDefaultModelSource({ config, logger: quietLogger }).catch((e: unknown) => e);
    expect(result).toBeInstanceOf(HubPullError);
    expect(((result as Error).cause as HubDownloadError).kind).toBe('UNREACHABLE');
  });

  describe('a pull failure other than an unreachable Hub is an error naming the repository, never the demo model', () => {
    /** Resolves with `env`, counting demo-model generations and warnings. */
    async function resolveWith(env: Record<string, string>) {
      const warnings: string[] = [];
      let demos = 0;
      const config = loadModelLoadingConfig({ HF_ENDPOINT: hub.endpoint, MODEL_HUB_TIMEOUT_MS: '2000', ...env });
      const result = await resolveDefaultModelSource({
        config,
        logger: { ...quietLogger, warn: (m: string) => void warnings.push(m) },
        demoModel: async () => {
          demos += 1;
          return generated;
        },
      }).catch((e: unknown) => e);
      return { result, warnings, demos };
    }

    it('a mistyped repository (the Hub answers 404)', async () => {
      const { result, warnings, demos } = await resolveWith({
        MODEL_HUB_REPO: 'Xenova/distilbert-base-cased-distilled-squd',
        MODEL_CACHE_DIR: path.join(work, 'c404'),
      });
      expect(result).toBeInstanceOf(HubPullError);
      expect((result as Error).message).toMatch(
        /^Cannot pull the model Xenova\/distilbert-base-cased-distilled-squd@main from http:\/\/127\.0\.0\.1:\d+: config\.json not found in Xenova\/distilbert-base-cased-distilled-squd@main/,
      );
      expect((result as Error).message).toContain('MODEL_HUB_REPO');
      expect(((result as Error).cause as HubDownloadError).kind).toBe('NOT_FOUND');
      expect(demos).toBe(0);
      expect(warnings).toEqual([]);
    });

    it('a repository the Hub refuses (401, as huggingface.co answers an unknown or private repo)', async () => {
      hub.refuse('acme/private-qa');
      const { result, warnings, demos } = await resolveWith({
        MODEL_HUB_REPO: 'acme/private-qa',
        MODEL_CACHE_DIR: path.join(work, 'c401'),
      });
      expect(result).toBeInstanceOf(HubPullError);
      expect((result as Error).message).toMatch(
        /^Cannot pull the model acme\/private-qa@main from .*HTTP 401.*HF_TOKEN/,
      );
      expect(((result as Error).cause as HubDownloadError).kind).toBe('REFUSED');
      expect([demos, warnings.length]).toEqual([0, 0]);
    });

    it('a checksum mismatch', async () => {
      const bad = await startHubServer([
        { repo: REPO, revision: 'main', commit: 'c0ffee0000000000000000000000000000000000', files },
      ]);
      try {
        bad.corrupt('onnx/model_quantized.onnx');
        const { result, warnings, demos } = await resolveWith({
          HF_ENDPOINT: bad.endpoint,
          MODEL_CACHE_DIR: path.join(work, 'csum'),
        });
        expect(result).toBeInstanceOf(HubPullError);
        expect((result as Error).message).toMatch(
          /^Cannot pull the model Xenova\/distilbert-base-cased-distilled-squad@main .*Checksum mismatch for .*onnx\/model_quantized\.onnx/,
        );
        expect(((result as Error).cause as HubDownloadError).kind).toBe('INTEGRITY');
        expect([demos, warnings.length]).toEqual([0, 0]);
        await expect(
          readFile(path.join(work, 'csum', 'Xenova', 'distilbert-base-cased-distilled-squad', 'main', PULL_MANIFEST)),
        ).rejects.toThrow(/ENOENT/);
      } finally {
        await bad.close();
      }
    });

    it('through the provider (npm start): MODEL_UNAVAILABLE naming the repository, no demo model loaded', async () => {
      const warnings: string[] = [];
      const provider = createModelProvider({
        env: {
          HF_ENDPOINT: hub.endpoint,
          MODEL_HUB_REPO: 'nobody/no-such-model',
          MODEL_CACHE_DIR: path.join(work, 'cprov'),
        },
        logger: { ...quietLogger, warn: (m: string) => void warnings.push(m) },
        defaultSource: defaultModelSource(),
      });
      await expect(provider.get()).rejects.toMatchObject({
        code: 'MODEL_UNAVAILABLE',
        message: expect.stringContaining('Cannot pull the model nobody/no-such-model@main'),
      });
      expect(provider.info()).toBeNull();
      expect(warnings).not.toContain(DEMO_WARNING);
    });

    it('but a Hub that accepts the connection and never answers (timeout) is unreachable: the demo model, loudly', async () => {
      const silent = http.createServer(() => undefined);
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      try {
        const port = (silent.address() as AddressInfo).port;
        const t0 = Date.now();
        const { result, warnings, demos } = await resolveWith({
          HF_ENDPOINT: `http://127.0.0.1:${port}`,
          MODEL_HUB_TIMEOUT_MS: '300',
          MODEL_CACHE_DIR: path.join(work, 'ctimeout'),
        });
        expect(Date.now() - t0).toBeLessThan(15_000);
        expect(result).toEqual({ uri: generated, origin: 'demo', demo: true });
        expect([demos, warnings]).toEqual([1, [DEMO_WARNING]]);
      } finally {
        silent.closeAllConnections();
        await new Promise<void>((r) => silent.close(() => r()));
      }
    });

    it('and so is a host name that does not resolve (DNS)', async () => {
      const { result, warnings, demos } = await resolveWith({
        HF_ENDPOINT: 'http://hub.invalid',
        MODEL_HUB_TIMEOUT_MS: '3000',
        MODEL_CACHE_DIR: path.join(work, 'cdns'),
      });
      expect(result).toEqual({ uri: generated, origin: 'demo', demo: true });
      expect([demos, warnings]).toEqual([1, [DEMO_WARNING]]);
    });
  });

  it('without MODEL_URI and without the default, the provider says what to set', async () => {
    const provider = createModelProvider({ env: {} });
    await expect(provider.get()).rejects.toMatchObject({
      code: 'MODEL_UNAVAILABLE',
      message: expect.stringContaining('set MODEL_URI'),
    });
  });
});
