/**
 * The request budget as a property: for every request the generator builds from the schema
 * (helpers/request-generator.ts), sent through the Lambda handler to the real engine (tiny
 * DistilBERT), every axis we can observe stays within its budget (docs/operations.md, "Request
 * budget"):
 * - response bytes: the body is at most API_MAX_RESPONSE_BYTES;
 * - CPU: windows charged at most API_MAX_REQUEST_WINDOWS, windows actually run at most those charged,
 *   and the process's CPU time within a fixed cost plus a cost per window charged;
 * - time: answered within the deadline plus the core's grace (and slack for a busy machine);
 * - memory kept: the heap after a full GC stays within the caches' byte bounds (plus a small slack)
 *   of where it started;
 * - refusals: every error carries a code of ERROR_TABLE, the status is one of those codes' (or 200
 *   with data), and nothing is an INTERNAL_SERVER_ERROR.
 *
 * `npm test` runs a fixed seed and a modest number of cases; `npm run test:budget-fuzz` runs
 * BUDGET_FUZZ_RUNS (10,000) cases with a random seed. A failure prints fast-check's seed, path and
 * the shrunk request.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { createApi, type Api } from '../../src/server/api';
import { apiConfig, type ApiLimits } from '../../src/server/config';
import { DEADLINE_GRACE_MS } from '../../src/server/request-core';
import { ERROR_TABLE } from '../../src/api/errors';
import type { MetricsRecorder, RequestRecord } from '../../src/server/metrics';
import type { QAEngine } from '../../src/model/engine';
import { fixedModel, loadTinyModel } from '../api/helpers/engines';
import { generatedRequest, toHttpRequest, type GeneratedRequest } from './helpers/request-generator';
import { lambdaTransport, trackProcessFailures, type Transport } from './helpers/transports';

const RUNS = Number(process.env.BUDGET_FUZZ_RUNS ?? 100);
const SEED =
  process.env.BUDGET_FUZZ_SEED === 'random'
    ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0
    : Number(process.env.BUDGET_FUZZ_SEED ?? 22);

/** Small enough that generated requests reach every limit, large enough for real answers. */
const LIMITS: Partial<ApiLimits> = { maxResponseBytes: 96 * 1024, requestTimeoutMs: 4_000, maxBodyBytes: 512 * 1024 };
/** Late timers, GC and a window in progress on a busy shared machine. */
const TIME_SLACK_MS = 3_000;
/** CPU a request may use whatever its windows: parsing, tokenizing 100,000 characters, writing the response. */
const FIXED_CPU_MS = 1_500;
/** CPU per window charged, for the tiny model (a window takes a few milliseconds). */
const CPU_PER_WINDOW_MS = 40;
/**
 * Heap kept after a full GC, over where the run started, beyond what the caches may hold (their
 * byte bounds, which are what a request can leave behind): V8's and jest's own drift.
 */
const KEPT_HEAP_SLACK_BYTES = 16 * 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const checkProcess = trackProcessFailures();
const CODES = new Set(Object.keys(ERROR_TABLE));
const statusesOf = (codes: string[]) => new Set(codes.map((c) => ERROR_TABLE[c as keyof typeof ERROR_TABLE].status));

let engine: QAEngine;
let api: Api;
let transport: Transport;
let last: RequestRecord | undefined;
const recorder: MetricsRecorder = {
  request: (record) => void (last = record),
  modelLoaded: () => undefined,
  modelLoadFailed: () => undefined,
};

/** What the caches may keep, by their configured byte bounds, plus the slack. */
function keptHeapBound(): number {
  const { documentCacheBytes, persistedQueryCacheBytes, responseCacheBytes } = api.config;
  return documentCacheBytes + persistedQueryCacheBytes + responseCacheBytes + KEPT_HEAP_SLACK_BYTES;
}

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

beforeAll(async () => {
  engine = (await loadTinyModel()).engine;
  api = createApi({
    config: apiConfig({ production: true, introspection: false, ide: false, limits: LIMITS }),
    provider: fixedModel(engine),
    ideAssetsDir: null,
    logSink: () => undefined,
    metrics: recorder,
  });
  transport = lambdaTransport(api);
});

afterAll(async () => {
  await api?.server.stop();
  checkProcess();
});

/** The `errors` of every operation of a response (a batch is an array). */
function errorsOf(json: any): any[] {
  return (Array.isArray(json) ? json.flatMap((r: any) => r?.errors ?? []) : json?.errors) ?? [];
}

function hasData(json: any): boolean {
  const results = Array.isArray(json) ? json : [json];
  return results.some((r: any) => r?.data && Object.values(r.data).some((v) => v !== null));
}

/** What the generated requests got (printed, so a run shows it reached answers and every refusal). */
const seen = new Map<string, number>();
const tally = (key: string) => seen.set(key, (seen.get(key) ?? 0) + 1);

async function checkOne(request: GeneratedRequest): Promise<void> {
  const limits = api.config.limits;
  last = undefined;
  const windowsBefore = engine.windowsRun!;
  const cpuBefore = process.cpuUsage();
  const started = Date.now();
  const res = await transport(toHttpRequest(request));
  const elapsed = Date.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const ran = engine.windowsRun! - windowsBefore;
  const charged = last!.windows;

  // Response bytes.
  expect(Buffer.byteLength(res.text)).toBeLessThanOrEqual(limits.maxResponseBytes);
  // CPU: in windows, and in time per window charged.
  expect(charged).toBeLessThanOrEqual(limits.maxRequestWindows);
  expect(ran).toBeLessThanOrEqual(charged);
  expect((cpu.user + cpu.system) / 1000).toBeLessThanOrEqual(FIXED_CPU_MS + CPU_PER_WINDOW_MS * charged);
  // Time.
  expect(elapsed).toBeLessThanOrEqual(limits.requestTimeoutMs + DEADLINE_GRACE_MS + TIME_SLACK_MS);
  // Refusals are coded, with their status.
  expect(res.json).toBeDefined();
  const codes = errorsOf(res.json).map((e) => e?.extensions?.code);
  tally(`HTTP ${res.status}`);
  for (const code of new Set(codes)) tally(code);
  if (process.env.BUDGET_FUZZ_DEBUG) for (const e of errorsOf(res.json)) tally(String(e.message).slice(0, 60));
  if (ran > 0) tally('windows run');
  if (/"The response would be \d+ bytes/.test(res.text)) tally('refused when written');
  if (/"answerMany":\[/.test(res.text) && /"RESPONSE_TOO_LARGE"/.test(res.text))
    tally('answerMany input refused for its bytes');
  expect(codes.filter((c) => !CODES.has(c))).toEqual([]);
  expect(codes).not.toContain('INTERNAL_SERVER_ERROR');
  if (res.status !== 200) {
    expect(codes.length).toBeGreaterThan(0);
    expect([...statusesOf(codes)]).toContain(res.status);
  }
  if (res.status >= 400 && !request.batch) expect(hasData(res.json)).toBe(false);
  expect(last!.codes.filter((c) => !CODES.has(c))).toEqual([]);
}

describe('every generated request stays within the request budget', () => {
  test(
    `${RUNS} requests (seed ${SEED})`,
    async () => {
      // Warm-up: the first request compiles Apollo's and the engine's paths.
      await transport(
        toHttpRequest({ batch: false, operations: [{ fields: [{ kind: 'health', alias: '' }], comment: '' }] }),
      );
      const heapAtStart = heapAfterGc();
      let cases = 0;
      await fc.assert(
        fc.asyncProperty(generatedRequest(api.config.limits.maxBatchOperations), async (request) => {
          await checkOne(request);
          if (++cases % 500 === 0) expect(heapAfterGc() - heapAtStart).toBeLessThanOrEqual(keptHeapBound());
        }),
        { seed: SEED, numRuns: RUNS },
      );
      // Memory kept after all of them.
      expect(heapAfterGc() - heapAtStart).toBeLessThanOrEqual(keptHeapBound());
      const outcomes = [...seen]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      process.stdout.write(
        `budget fuzz: ${RUNS} requests, seed ${SEED}, heap kept ${((heapAfterGc() - heapAtStart) / 2 ** 20).toFixed(1)} MiB; ${outcomes}\n`,
      );
    },
    Math.max(120_000, RUNS * 1_000),
  );
});
