/**
 * Cold start: a fresh (bundled) process to its first answer, int8, with the loader's own timings
 * of each part. Sources alternate run by run. `runColdSection` compares, in one run, the local
 * folder and S3 through the throttling proxy (S3's per-connection bandwidth and time to first
 * byte): one stream against ranged reads, in memory against spilled to /tmp, and the same ranged
 * reads through an unthrottled proxy (what this machine can move at all). Each child gets
 * a fresh TMPDIR whose size is sampled while it runs (peak /tmp).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ColdReport } from '../child/serve';
import type { ChildBundle } from '../children';
import type { SizedInput } from '../inputs';
import type { ModelFolder } from '../model-folder';
import { startS3WithModel } from '../s3';
import { summarize, type Summary } from '../stats';
import { DEFAULT_THROTTLE, startThrottleProxy } from '../../test/helpers/throttle-proxy';
import { DEFAULT_CONCURRENCY, DEFAULT_PART_BYTES } from '../../src/model/loading/config';

export interface ColdRow {
  source: string;
  runs: number;
  /** Fork to first answer, measured by the parent. */
  wall: Summary;
  boot: Summary;
  download: Summary;
  sessionCreate: Summary;
  tokenizer: Summary;
  firstRun: Summary;
  /** download + session create + tokenizer + first run, per run. */
  parts: Summary;
  /** loadModel's total beyond its parts: lazy import of the engine and onnxruntime's addon, config. */
  loaderExtra: Summary;
  /** Fork to the child's clock start, plus the IPC message back: wall − the child's own clock. */
  forkAndIpc: Summary;
  /** Evaluating the API's modules (during the download, or before it for `apiFirst`). */
  apiImport: Summary;
  /** wall / parts, per run. */
  ratio: Summary;
  /** Peak bytes under the child's TMPDIR, sampled every 10 ms, in MB. */
  peakTmpMb: Summary;
}

/** Bytes under `dir` now (files only; a file removed while listing counts as 0). */
function treeBytes(dir: string): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return 0;
  }
  for (const name of names) {
    try {
      const st = statSync(path.join(dir, name));
      if (st.isFile()) total += st.size;
    } catch {
      // Removed meanwhile.
    }
  }
  return total;
}

export async function runColdStart(
  bundle: ChildBundle,
  sources: Array<{ name: string; uri: string; env: Record<string, string> }>,
  input: SizedInput,
  threads: number,
  runs: number,
  log: (m: string) => void,
): Promise<ColdRow[]> {
  const samples = new Map<string, Array<{ wall: number; r: ColdReport; peakTmp: number }>>(
    sources.map((s) => [s.name, []]),
  );
  for (let i = 0; i < runs; i++) {
    for (const source of i % 2 ? [...sources].reverse() : sources) {
      const tmp = mkdtempSync(path.join(os.tmpdir(), 'qa-bench-tmpdir-'));
      let peakTmp = 0;
      // Bounded: stopped as soon as the child has exited.
      const sampler = setInterval(() => (peakTmp = Math.max(peakTmp, treeBytes(tmp))), 10);
      let wallMs: number;
      let r: ColdReport;
      try {
        const started = await bundle.start({
          ...source.env,
          TMPDIR: tmp,
          MODEL_URI: source.uri,
          MODEL_QUANTIZED: 'true',
          BENCH_MODE: 'cold',
          MODEL_THREADS: String(threads),
          BENCH_QUESTION: input.question,
          BENCH_CONTEXT: input.context,
        });
        wallMs = started.wallMs;
        r = started.report as ColdReport;
        const { child } = started;
        await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      } finally {
        clearInterval(sampler);
        rmSync(tmp, { recursive: true, force: true });
      }
      if (!r.quantized) throw new Error('cold start loaded fp32, expected int8');
      samples.get(source.name)!.push({ wall: wallMs, r, peakTmp });
      log(`  ${source.name} run ${i + 1}/${runs}: ${Math.round(wallMs)} ms`);
    }
  }
  return sources.map(({ name }) => {
    const list = samples.get(name)!;
    const pick = (f: (x: { wall: number; r: ColdReport; peakTmp: number }) => number) => summarize(list.map(f));
    const parts = (x: { r: ColdReport }) => x.r.downloadMs + x.r.sessionCreateMs + x.r.tokenizerMs + x.r.firstRunMs;
    return {
      source: name,
      runs: list.length,
      wall: pick((x) => x.wall),
      boot: pick((x) => x.r.bootMs),
      download: pick((x) => x.r.downloadMs),
      sessionCreate: pick((x) => x.r.sessionCreateMs),
      tokenizer: pick((x) => x.r.tokenizerMs),
      firstRun: pick((x) => x.r.firstRunMs),
      parts: pick(parts),
      loaderExtra: pick((x) => x.r.loadTotalMs - x.r.downloadMs - x.r.sessionCreateMs - x.r.tokenizerMs),
      forkAndIpc: pick((x) => x.wall - x.r.doneMs),
      apiImport: pick((x) => x.r.apiImportMs),
      ratio: pick((x) => x.wall / parts(x)),
      peakTmpMb: pick((x) => x.peakTmp / 1e6),
    };
  });
}

/** Source names of the section, for reports and targets. */
export const COLD_SOURCES = {
  local: 'local folder',
  oneStream: 'S3 via proxy, one stream',
  ranged: 'S3 via proxy, ranged',
  spilled: 'S3 via proxy, ranged, spilled to /tmp',
  ceiling: "S3 via unthrottled proxy, ranged (the rig's ceiling)",
  apiFirst: 'S3 via proxy, ranged, API evaluated before the load',
} as const;

export interface ColdSection {
  rows: ColdRow[];
  /** Median download, one stream / ranged (same run, interleaved). */
  downloadSpeedup: number;
  /**
   * Median download, one stream / the unthrottled proxy's ranged download: the most ranged reads
   * could gain on this machine, where s3rver, the proxy and the loader share the CPU.
   */
  rigCeilingSpeedup: number;
  /** The int8 ONNX file's size, and what one stream would take at the proxy's rate. */
  modelBytes: number;
  idealOneStreamMs: number;
  settings: { bytesPerSecond: number; firstByteMs: number; partBytes: number; concurrency: number };
}

/**
 * The cold-start section: s3rver with the model pushed as a version, the throttling proxy in
 * front at its defaults, and four sources alternating run by run.
 */
export async function runColdSection(
  bundle: ChildBundle,
  model: ModelFolder,
  input: SizedInput,
  threads: number,
  runs: number,
  log: (m: string) => void,
): Promise<ColdSection> {
  const { s3, uri } = await startS3WithModel(model.dir);
  const proxy = await startThrottleProxy(s3.endpoint);
  const unthrottled = await startThrottleProxy(s3.endpoint, { bytesPerSecond: 0, firstByteMs: 0 });
  try {
    const viaProxy = { ...s3.env, AWS_ENDPOINT_URL_S3: proxy.endpoint };
    const rows = await runColdStart(
      bundle,
      [
        { name: COLD_SOURCES.local, uri: model.dir, env: {} },
        { name: COLD_SOURCES.oneStream, uri, env: { ...viaProxy, MODEL_S3_PART_BYTES: '0' } },
        { name: COLD_SOURCES.ranged, uri, env: viaProxy },
        // A quarter of a 64 MiB function's memory: the ONNX body goes to /tmp (what a small function does).
        { name: COLD_SOURCES.spilled, uri, env: { ...viaProxy, MODEL_MAX_IN_MEMORY_BYTES: String(16 * 2 ** 20) } },
        // The order before src/lambda-model.ts: Apollo & co. evaluated, then the download started.
        { name: COLD_SOURCES.apiFirst, uri, env: { ...viaProxy, BENCH_API_FIRST: '1' } },
        // The same two HTTP hops with no throttle: how fast this machine can move the bytes at all.
        { name: COLD_SOURCES.ceiling, uri, env: { ...s3.env, AWS_ENDPOINT_URL_S3: unthrottled.endpoint } },
      ],
      input,
      threads,
      runs,
      log,
    );
    const row = (name: string) => rows.find((r) => r.source === name)!;
    const modelBytes = statSync(path.join(model.dir, 'onnx', 'model_quantized.onnx')).size;
    return {
      rows,
      downloadSpeedup: row(COLD_SOURCES.oneStream).download.median / row(COLD_SOURCES.ranged).download.median,
      rigCeilingSpeedup: row(COLD_SOURCES.oneStream).download.median / row(COLD_SOURCES.ceiling).download.median,
      modelBytes,
      idealOneStreamMs: (modelBytes / DEFAULT_THROTTLE.bytesPerSecond) * 1000 + DEFAULT_THROTTLE.firstByteMs,
      settings: { ...DEFAULT_THROTTLE, partBytes: DEFAULT_PART_BYTES, concurrency: DEFAULT_CONCURRENCY },
    };
  } finally {
    await unthrottled.close();
    await proxy.close();
    await s3.close();
  }
}
