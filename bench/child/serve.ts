/**
 * A fresh process for the cold-start and memory rows, bundled with esbuild like the Lambda code
 * (see ../children.ts). It loads the model through the production loader (src/model/loading),
 * then, by BENCH_MODE:
 *   cold   answers one question, reports where the time went, exits;
 *   serve  starts the local server on a free port and reports its URL; the parent sends the
 *          requests and reads this process's peak RSS from /proc.
 *   phases serve, and also record where each request's time goes (../phases.ts): the marks of
 *          src/support/phase-marks.ts between the HTTP request's start and its response's finish
 *          (Node's diagnostics channels), sent to the parent when it asks ('phases').
 *   download  only the loader's fetch of the files (the part "download" measured alone), exits.
 *   engine    only the engine's creation from files already in memory (read before the clock):
 *          the process's first onnxruntime session, the tokenizer, and a second session after
 *          the first is released (what the bench used to report), exits.
 * BENCH_WARM_UP=0 turns off the loader's work during the download (cold mode; default on).
 * Talks to the parent over the fork IPC channel.
 */
import { subscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
// Taken before anything else in the bundle's main runs: node start-up plus evaluating the bundle.
const bootMs = performance.now();

// Only the loader is imported up front; the API's modules are imported once the model's GETs are
// in flight, as the Lambda entry does (src/lambda.mts). BENCH_API_FIRST=1 imports them first
// instead (the order before), for the comparison.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { createModelS3Client, loadModelLoadingConfig } from '../../src/model/loading/config';
import { fetchModelFiles } from '../../src/model/loading/fetch-model-files';
import { loadModel } from '../../src/model/loading/load-model';
import { isOptimizedName, onnxCandidates } from '../../src/model/loading/model-files';
import { installedOnnxRuntimeVersion } from '../../src/model/onnxruntime/version';
import { parseModelUri } from '../../src/model/loading/source-uri';
import { bool, oneOf, str } from '../../src/support/env';
import { recordPhases } from '../../src/support/phase-marks';
import type { PhaseRecord, PhasesReport } from '../phases';

async function importApi() {
  const [{ createApi }, { apiConfig }, { listen }, { fixedModel }] = await Promise.all([
    import('../../src/server/api'),
    import('../../src/server/config'),
    import('../../src/local-server'),
    import('../../src/model/loading/fixed-model'),
  ]);
  return { createApi, apiConfig, listen, fixedModel };
}

export interface ColdReport {
  kind: 'cold';
  bootMs: number;
  downloadMs: number;
  sessionCreateMs: number;
  tokenizerMs: number;
  /** loadModel's own total, which includes what the parts above do not (imports done lazily). */
  loadTotalMs: number;
  /** CPU time of the whole process (every thread) from loadModel's call to its result. */
  loadCpuMs: number;
  firstRunMs: number;
  /** performance.now() when the first answer was ready: ms since this process started. */
  doneMs: number;
  /** Evaluating the API's modules (Apollo, graphql, resolvers): overlapped with the download unless BENCH_API_FIRST. */
  apiImportMs: number;
  /** onnxruntime's warm-up during the download; null when off (BENCH_WARM_UP=0). */
  runtimeWarmUpMs: number | null;
  quantized: boolean;
  rssMb: number;
}

/** `download` mode: the loader's fetch alone, in a fresh process. */
export interface DownloadReport {
  kind: 'download';
  downloadMs: number;
  /** CPU time of the whole process (every thread) during the download. */
  cpuMs: number;
  bytes: number;
}

/** `engine` mode: the engine's creation alone, in a fresh process, from bytes in memory. */
export interface EngineReport {
  kind: 'engine';
  /** QuestionAnswerer.create: tokenizer + first session + the probe run. */
  createMs: number;
  /** CPU time of the whole process (every thread) during that creation. */
  createCpuMs: number;
  /** Of which: the process's first session (onnxruntime's library and environment included). */
  firstSessionMs: number;
  tokenizerMs: number;
  /** A second engine's session, created after the first engine was released. */
  laterSessionMs: number;
}

/**
 * Every request's marks, from the HTTP request's start to its response's finish. One request at a
 * time, as the bench sends them to this server: a request that overlapped another would mix marks.
 */
function recordRequests(): PhaseRecord[] {
  const records: PhaseRecord[] = [];
  let current: PhaseRecord | undefined;
  recordPhases((mark, at) => current?.push([mark, at]));
  subscribe('http.server.request.start', () => {
    current = [['request', performance.now()]];
  });
  subscribe('http.server.response.finish', () => {
    current?.push(['response', performance.now()]);
    if (current) records.push(current);
    current = undefined;
  });
  return records;
}

export interface ServeReport {
  kind: 'serve';
  url: string;
  rssAfterLoadMb: number;
  quantized: boolean;
}

type Report = ColdReport | ServeReport | PhasesReport | DownloadReport | EngineReport;

/** CPU time (user + system, every thread of the process) since `since`, in ms. */
function cpuMsSince(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
}

function send(message: Report | { kind: 'error'; message: string }): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

async function main(): Promise<void> {
  // Set by the bench's parent process (sections/cold-start.ts, sections/memory.ts), not by users.
  const env = process.env;
  const mode = oneOf(env, 'BENCH_MODE', ['cold', 'serve', 'phases', 'download', 'engine'] as const);
  const records = mode === 'phases' ? recordRequests() : [];
  const config = loadModelLoadingConfig(env);
  const uri = config.modelUri;
  if (!uri) throw new Error('MODEL_URI is required');
  const s3 = uri.startsWith('s3://') ? createModelS3Client(config) : undefined;
  if (mode === 'download') {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    // The file the loader would serve (loadModel passes the same preferences): the ORT file where
    // the version holds one for this onnxruntime.
    const files = await fetchModelFiles(parseModelUri(uri), {
      s3,
      preferQuantized: config.preferQuantized,
      preferOptimized: config.preferOptimized,
      onnxruntimeVersion: config.preferOptimized ? installedOnnxRuntimeVersion() : undefined,
      read: config.s3,
    });
    const downloadMs = performance.now() - t0;
    await send({ kind: 'download', downloadMs, cpuMs: cpuMsSince(cpu0), bytes: files.bytes });
    process.exit(0);
  }
  if (mode === 'engine') {
    await send(await engineAlone(uri, config.preferQuantized, config.preferOptimized, config.threads));
    process.exit(0);
  }
  const apiFirst = bool(env, 'BENCH_API_FIRST', false);
  const timeApi = async () => {
    const t0 = performance.now();
    const api = await importApi();
    return { api, ms: performance.now() - t0 };
  };
  const before = apiFirst ? await timeApi() : undefined;
  let markRequested: () => void = () => undefined;
  const requested = new Promise<void>((resolve) => (markRequested = resolve));
  const loadCpu0 = process.cpuUsage();
  let loadCpuMs = NaN;
  const loading = loadModel(uri, {
    s3,
    preferQuantized: config.preferQuantized,
    preferOptimized: config.preferOptimized,
    read: config.s3,
    // The thread count under test comes as MODEL_THREADS, as in production.
    threads: config.threads,
    onModelRequested: () => markRequested(),
    warmUp: bool(env, 'BENCH_WARM_UP', true),
  });
  loading.then(() => {
    loadCpuMs = cpuMsSince(loadCpu0);
    markRequested();
  }, markRequested);
  let imported = before;
  if (!imported) {
    await Promise.race([requested, new Promise((resolve) => setTimeout(resolve, 250))]);
    imported = await timeApi();
  }
  const { createApi, apiConfig, listen, fixedModel } = imported.api;
  const loaded = await loading;
  const t = loaded.info.timings;
  if (mode === 'cold') {
    const r0 = performance.now();
    await loaded.engine.answer({ question: str(env, 'BENCH_QUESTION')!, context: str(env, 'BENCH_CONTEXT')! });
    const doneMs = performance.now();
    await send({
      kind: 'cold',
      bootMs,
      downloadMs: t.downloadMs,
      sessionCreateMs: t.sessionCreateMs,
      tokenizerMs: t.tokenizerMs,
      loadTotalMs: t.totalMs,
      loadCpuMs,
      firstRunMs: doneMs - r0,
      doneMs,
      apiImportMs: imported.ms,
      runtimeWarmUpMs: loaded.runtimeWarmUpMs ?? null,
      quantized: loaded.info.quantized,
      rssMb: process.memoryUsage.rss() / 2 ** 20,
    });
    process.exit(0);
  }
  const api = createApi({
    config: apiConfig({ ide: false }),
    provider: fixedModel(loaded.engine),
    ideAssetsDir: null,
  });
  const running = await listen(api, { port: 0, host: '127.0.0.1' });
  await send({
    kind: 'serve',
    url: running.url,
    rssAfterLoadMb: process.memoryUsage.rss() / 2 ** 20,
    quantized: loaded.info.quantized,
  });
  // The parent asks for the records ('phases') or ends us with any other message (or by
  // disconnecting); never outlive it.
  process.on('message', (message) => {
    if (message === 'phases') void send({ kind: 'phases', records: records.splice(0) });
    else void running.close().then(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
}

/**
 * The engine created from a local model folder's files, read into memory before the clock starts:
 * the ONNX file the loader would serve from that folder (the same candidates, in the same order).
 */
async function engineAlone(
  dir: string,
  quantized: boolean,
  optimized: boolean,
  threads: number | undefined,
): Promise<EngineReport> {
  const { QuestionAnswerer } = await import('../../src/model/question-answerer');
  const candidates = onnxCandidates(quantized, optimized, optimized ? installedOnnxRuntimeVersion() : undefined);
  const name = candidates.find((c) => existsSync(path.join(dir, c)));
  if (!name) throw new Error(`${dir} holds none of ${candidates.join(', ')}`);
  const [model, tokenizerJson, configText] = await Promise.all([
    readFile(path.join(dir, name)),
    readFile(path.join(dir, 'tokenizer.json'), 'utf8'),
    readFile(path.join(dir, 'config.json'), 'utf8'),
  ]);
  const source = {
    model,
    tokenizerJson,
    config: JSON.parse(configText),
    intraOpNumThreads: threads,
    preOptimized: isOptimizedName(name),
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const first = await QuestionAnswerer.create(source);
  const createMs = performance.now() - t0;
  const createCpuMs = cpuMsSince(cpu0);
  await first.dispose();
  const second = await QuestionAnswerer.create(source);
  await second.dispose();
  return {
    kind: 'engine',
    createMs,
    createCpuMs,
    firstSessionMs: first.loadTimings.sessionCreateMs,
    tokenizerMs: first.loadTimings.tokenizerMs,
    laterSessionMs: second.loadTimings.sessionCreateMs,
  };
}

main().catch(async (error: unknown) => {
  await send({ kind: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
