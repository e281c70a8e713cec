/**
 * Fault injection through the API, with the real loader and engine (the tiny generated DistilBERT
 * in s3rver behind the counting, fault-injecting front of test/helpers/s3rver.ts): S3 down, S3
 * stalling (the read timeout fires), a connection reset mid-download, a corrupt model, an invalid
 * tokenizer, and an ONNX run that throws. Each gives a coded error through the API (Lambda and
 * local), the service recovers without a restart once the fault is gone, and no unhandled
 * rejection or uncaught exception happens anywhere (the suite fails on one).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startS3, type TestS3 } from '../helpers/s3rver';
import { pushModel } from '../../scripts/model-cli/push';
import { ensureTestModel } from '../../scripts/model-generator';
import { loadModel } from '../../src/model/loading/load-model';
import { createModelProvider } from '../../src/model/loading/provider';
import type { ModelProvider } from '../../src/model/loading/types';
import type { QAEngine } from '../../src/model/engine';
import type { Answer, ModelDescription, QAInput } from '../../src/model/types';
import { createApi, type Api } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { listen, type RunningServer } from '../../src/local-server';
import type { LogEntry } from '../../src/server/request-log';
import { fixedModel } from '../api/helpers/engines';
import {
  lambdaTransport,
  localTransport,
  trackProcessFailures,
  validRequest,
  type Transport,
} from './helpers/transports';

const BACKOFF_MS = 100;
const checkProcess = trackProcessFailures();
let s3: TestS3;
let modelDir: string;
/** The engine on the model loaded from the folder: the reference, and what FlakyEngine wraps. */
let folderEngine: QAEngine;
const good: Record<string, Buffer> = {};
let reference: string;
const apis: Api[] = [];
const servers: RunningServer[] = [];
const logs: LogEntry[] = [];
const figures: string[] = [];

/** An API (both transports) on a fresh model singleton loading from s3rver, its load attempts counted. */
interface Subject {
  lambda: Transport;
  local: Transport;
  provider: ModelProvider;
  /** Load attempts started so far. */
  attempts: () => number;
  /** Why each failed load failed, as the provider logs it. */
  failures: string[];
  /** Moves the provider's clock, which stands still otherwise: the backoff passes only when the test says. */
  advance: (ms: number) => void;
}

async function apiOn(uri: string): Promise<Subject> {
  let attempts = 0;
  let now = Date.parse('2026-01-01T00:00:00.000Z');
  const failures: string[] = [];
  const provider = createModelProvider({
    load: () => (
      attempts++,
      loadModel(uri, {
        s3: s3.client,
        preferQuantized: true,
        read: { idleTimeoutMs: 400, totalTimeoutMs: 5_000, maxInMemoryBytes: 1 << 30, spillDir: '/tmp' },
      })
    ),
    backoff: { initialMs: BACKOFF_MS, maxMs: BACKOFF_MS, factor: 1 },
    now: () => now,
    logger: {
      info: () => undefined,
      warn: () => undefined,
      error: (_m, extra) => void failures.push(String(extra?.reason)),
    },
  });
  const make = () => {
    const api = createApi({
      config: apiConfig({ production: true, introspection: false, ide: false }),
      provider,
      ideAssetsDir: null,
      logSink: (e) => void logs.push(e),
    });
    apis.push(api);
    return api;
  };
  const running = await listen(make(), { port: 0, host: '127.0.0.1' });
  servers.push(running);
  return {
    lambda: lambdaTransport(make()),
    local: localTransport(running),
    provider,
    attempts: () => attempts,
    failures,
    advance: (ms) => void (now += ms),
  };
}

async function putObject(key: string, body: Buffer | string): Promise<void> {
  await s3.client.send(new PutObjectCommand({ Bucket: 'models', Key: key, Body: body }));
}

async function expectUnavailable(transport: Transport, maxMs: number): Promise<void> {
  const t0 = Date.now();
  const res = await transport(validRequest());
  const ms = Date.now() - t0;
  expect(res.status).toBe(503);
  expect(res.headers['retry-after']).toBe('5');
  expect(res.json.errors.map((e: any) => e.extensions.code)).toEqual(['MODEL_UNAVAILABLE']);
  expect(res.json.errors[0].message).toBe('The model is not available right now; retry later.');
  expect(res.text).not.toMatch(/s3:\/\/|127\.0\.0\.1|\/tmp|stack/);
  expect(ms).toBeLessThan(maxMs);
}

/** After the fault is gone and the backoff has passed, both transports answer exactly the reference. */
async function expectRecovered(t: Subject): Promise<void> {
  const before = t.attempts();
  // Within the backoff even a healthy S3 is not tried; once it has passed, one new load.
  await expectUnavailable(t.local, 10_000);
  expect(t.attempts()).toBe(before);
  t.advance(BACKOFF_MS);
  for (const transport of [t.lambda, t.local]) {
    const res = await transport(validRequest());
    expect(res.status).toBe(200);
    expect(res.text).toBe(reference);
  }
  expect(t.provider.state()).toBe('ready');
  expect(t.attempts()).toBe(before + 1);
}

beforeAll(async () => {
  modelDir = await ensureTestModel({ size: 'tiny', variant: 'distilbert' });
  for (const f of ['tokenizer.json', 'onnx/model_quantized.onnx']) good[f] = await readFile(path.join(modelDir, f));
  s3 = await startS3(['models']);
  for (const prefix of ['down', 'slow', 'reset', 'corrupt', 'tokenizer'])
    await pushModel(modelDir, `s3://models/${prefix}/`, { client: s3.client, layout: 'flat' });
  // The reference answer, from an API on the model loaded from the folder.
  ({ engine: folderEngine } = await loadModel(modelDir, {
    preferQuantized: true,
    read: { idleTimeoutMs: 10_000, totalTimeoutMs: 60_000, maxInMemoryBytes: 1 << 30, spillDir: '/tmp' },
  }));
  const api = createApi({
    config: apiConfig(),
    provider: fixedModel(folderEngine),
    ideAssetsDir: null,
    logSink: () => undefined,
  });
  apis.push(api);
  reference = (await lambdaTransport(api)(validRequest())).text;
  expect(JSON.parse(reference).data.answer.text).toEqual(expect.any(String));
});

afterAll(async () => {
  s3.intercept(undefined);
  for (const s of servers) await s.close();
  for (const api of apis) await api.server.stop().catch(() => undefined);
  await s3?.close();
  process.stdout.write(`\nFault injection: ${figures.join('; ')}\n`);
  checkProcess();
});

describe('model loading faults → MODEL_UNAVAILABLE (503), then recovery without restart', () => {
  test('S3 unavailable', async () => {
    const t = await apiOn('s3://models/down/');
    await s3.down();
    try {
      const t0 = Date.now();
      await expectUnavailable(t.lambda, 10_000);
      expect(t.attempts()).toBe(1);
      await expectUnavailable(t.local, 10_000); // during the backoff: fails fast, no new attempt
      expect(t.attempts()).toBe(1);
      expect(t.failures).toEqual([expect.stringMatching(/^Cannot reach storage for s3:\/\/models\/down\//)]);
      figures.push(`S3 down → 503 in ${Date.now() - t0} ms`);
    } finally {
      await s3.up();
    }
    await expectRecovered(t);
    // MODEL_UNAVAILABLE is expected, not an internal error (the loader logs the cause itself).
    expect(logs.filter((e) => e.msg === 'internal error')).toEqual([]);
  });

  test('S3 slow: the idle read timeout fires', async () => {
    const t = await apiOn('s3://models/slow/');
    s3.intercept((req, res) => {
      if (!req.url?.startsWith('/models/slow/onnx/model_quantized.onnx') || req.method !== 'GET') return false;
      res.writeHead(200, { 'content-length': String(good['onnx/model_quantized.onnx']!.length) });
      res.write(good['onnx/model_quantized.onnx']!.subarray(0, 1000));
      setTimeout(() => res.destroy(), 5_000).unref();
      return true;
    });
    const t0 = Date.now();
    try {
      await expectUnavailable(t.lambda, 3_000);
    } finally {
      s3.intercept(undefined);
    }
    // The idle timeout fired (not the total one, nor the server's cut at 5 s).
    expect(t.failures).toEqual([expect.stringContaining('Timed out after 400 ms (no data)')]);
    figures.push(`S3 stalled → 503 after ${Date.now() - t0} ms (idle timeout 400 ms)`);
    await expectRecovered(t);
  });

  test('connection reset mid-download', async () => {
    const t = await apiOn('s3://models/reset/');
    s3.intercept((req, res) => {
      if (!req.url?.startsWith('/models/reset/onnx/model_quantized.onnx') || req.method !== 'GET') return false;
      res.writeHead(200, { 'content-length': String(good['onnx/model_quantized.onnx']!.length) });
      res.write(good['onnx/model_quantized.onnx']!.subarray(0, 4096), () => res.socket?.resetAndDestroy());
      return true;
    });
    try {
      await expectUnavailable(t.lambda, 5_000);
    } finally {
      s3.intercept(undefined);
    }
    await expectRecovered(t);
  });

  test('a corrupt model file', async () => {
    const t = await apiOn('s3://models/corrupt/');
    await putObject(
      'corrupt/onnx/model_quantized.onnx',
      Buffer.concat([Buffer.from('CORRUPT'), good['onnx/model_quantized.onnx']!.subarray(0, 5000)]),
    );
    await expectUnavailable(t.lambda, 5_000);
    await putObject('corrupt/onnx/model_quantized.onnx', good['onnx/model_quantized.onnx']!);
    await expectRecovered(t);
  });

  test('an invalid tokenizer file', async () => {
    const t = await apiOn('s3://models/tokenizer/');
    await putObject('tokenizer/tokenizer.json', '{"version": "1.0", "model": {"type": "NoSuchModel"');
    await expectUnavailable(t.lambda, 5_000);
    await expectUnavailable(t.local, 5_000);
    await putObject('tokenizer/tokenizer.json', good['tokenizer.json']!);
    await expectRecovered(t);
  });
});

/** Wraps the real engine; while `failing` is set, every run throws like onnxruntime would. */
class FlakyEngine implements QAEngine {
  failing: 'sync' | 'async' | null = null;
  constructor(private readonly inner: QAEngine) {}
  get description(): ModelDescription {
    return this.inner.description;
  }
  answer(input: QAInput): Promise<Answer[]> {
    return this.inner.answer(input);
  }
  answerMany(inputs: readonly QAInput[]): Promise<Array<Answer[] | Error>> {
    if (this.failing === 'sync')
      throw new Error(
        `Non-zero status code returned while running Gather node. Name:'/embeddings/Gather' at ${modelDir}/onnx/model.onnx`,
      );
    if (this.failing === 'async') {
      return new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`onnxruntime::RunAsync failed: ${modelDir}/onnx/model_quantized.onnx`)), 5),
      );
    }
    return this.inner.answerMany(inputs);
  }
}

describe('an ONNX run that throws → INTERNAL_SERVER_ERROR (500), masked, logged with the request id', () => {
  test.each(['sync', 'async'] as const)('%s failure, then recovery', async (mode) => {
    const flaky = new FlakyEngine(folderEngine);
    const provider = fixedModel(flaky);
    const seen: LogEntry[] = [];
    const make = () => {
      const api = createApi({
        config: apiConfig({ production: true, introspection: false, ide: false }),
        provider,
        ideAssetsDir: null,
        logSink: (e) => void seen.push(e),
      });
      apis.push(api);
      return api;
    };
    const running = await listen(make(), { port: 0, host: '127.0.0.1' });
    servers.push(running);
    for (const transport of [lambdaTransport(make()), localTransport(running)]) {
      flaky.failing = mode;
      seen.length = 0;
      const res = await transport(validRequest());
      expect(res.status).toBe(500);
      expect(res.json.errors).toEqual([
        {
          message: 'Internal server error',
          path: ['answer'],
          locations: expect.any(Array),
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        },
      ]);
      expect(res.text).not.toContain(modelDir);
      expect(res.text).not.toMatch(/onnx|Gather|\/tmp|\/work/);
      // The operator's log has the real error, tied to the response by its request id.
      const internal = seen.filter((e) => e.msg === 'internal error');
      expect(internal).toHaveLength(1);
      expect(internal[0]!.requestId).toBe(res.headers['x-request-id']);
      expect(String(internal[0]!.message)).toContain(modelDir);
      flaky.failing = null;
      const ok = await transport(validRequest());
      expect(ok.status).toBe(200);
      expect(ok.text).toBe(reference);
    }
  });
});
