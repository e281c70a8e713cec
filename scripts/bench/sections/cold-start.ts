/**
 * Cold start: a fresh (bundled) process to its first answer, int8, from the local folder and from
 * the local S3 server, with the loader's own timings of each part. Sources alternate run by run.
 */
import type { ColdReport } from '../child/serve';
import type { ChildBundle } from '../children';
import type { SizedInput } from '../inputs';
import { summarize, type Summary } from '../stats';

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
  /** wall / parts, per run. */
  ratio: Summary;
}

export async function runColdStart(
  bundle: ChildBundle,
  sources: Array<{ name: string; uri: string; env: Record<string, string> }>,
  input: SizedInput,
  threads: number,
  runs: number,
  log: (m: string) => void,
): Promise<ColdRow[]> {
  const samples = new Map<string, Array<{ wall: number; r: ColdReport }>>(sources.map((s) => [s.name, []]));
  for (let i = 0; i < runs; i++) {
    for (const source of i % 2 ? [...sources].reverse() : sources) {
      const { child, report, wallMs } = await bundle.start({
        ...source.env,
        MODEL_URI: source.uri,
        MODEL_QUANTIZED: 'true',
        BENCH_MODE: 'cold',
        MODEL_THREADS: String(threads),
        BENCH_QUESTION: input.question,
        BENCH_CONTEXT: input.context,
      });
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      const r = report as ColdReport;
      if (!r.quantized) throw new Error('cold start loaded fp32, expected int8');
      samples.get(source.name)!.push({ wall: wallMs, r });
      log(`  ${source.name} run ${i + 1}/${runs}: ${Math.round(wallMs)} ms`);
    }
  }
  return sources.map(({ name }) => {
    const list = samples.get(name)!;
    const pick = (f: (x: { wall: number; r: ColdReport }) => number) => summarize(list.map(f));
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
      ratio: pick((x) => x.wall / parts(x)),
    };
  });
}
