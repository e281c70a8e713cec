/**
 * Cold load measured cold, and what overlapping it gains: fresh (bundled) processes load a model
 * from the S3 stand-in at S3's per-connection rate and time to first byte, and the same parts are
 * measured alone, each in its own fresh process:
 *   download  the loader's fetch of the files, nothing else;
 *   engine    the engine created from bytes already in memory: the process's first onnxruntime
 *             session (its one-time start included, what a Lambda cold start pays), the tokenizer
 *             and the probe run; and, for comparison, a later session of the same process.
 * The cold load (loadModel, end to end: download, first session, tokenizer) runs with the loader's
 * overlap (onnxruntime's warm-up and the tokenizer's parse while the bytes arrive) and without it,
 * the API's modules evaluated before its clock starts, so that it holds the same work as its parts
 * alone; and once more with the API evaluated during the download, as the Lambda entry orders it.
 * All variants alternate run by run, pinned to the same cores (taskset), so ratios come from one
 * run on one machine.
 *
 * The floor is the least any overlap of the same work could reach, from the same run: on one core,
 * the cold load's own CPU time (one core runs one thing at a time); on two, the download alone and
 * then the session, which needs all of its bytes (as fast as it was in the cold load, after the
 * warm-up), or half the CPU time if that is more.
 */
import type { ChildBundle } from '../children';
import type { ColdReport, DownloadReport, EngineReport } from '../child/serve';
import type { SizedInput } from '../inputs';
import type { ModelFolder } from '../model-folder';
import { startS3StandIn } from '../s3-standin';
import { summarize, type Summary } from '../stats';
import { DEFAULT_THROTTLE } from '../../test/helpers/throttle-proxy';

export interface CoreSet {
  name: string;
  /** taskset's list; undefined: every core. */
  cpus: string | undefined;
  count: number;
}

export const CORE_SETS: readonly CoreSet[] = [
  { name: '1 core', cpus: '0', count: 1 },
  { name: '2 cores', cpus: '0,1', count: 2 },
];

export interface OverlapRow {
  model: string;
  cores: string;
  runs: number;
  /** Cold load with the overlap: loadModel's total in a fresh process, the API evaluated before it. */
  coldLoad: Summary;
  /** CPU time of the process (every thread) during that cold load. */
  coldLoadCpu: Summary;
  /** The same without the overlap (BENCH_WARM_UP=0). */
  coldLoadSerial: Summary;
  /** With the overlap and the API evaluated during the download (the Lambda entry's order). */
  coldLoadApiDuring: Summary;
  /** Inside the overlapped cold load: its download, session and tokenizer, and the warm-up. */
  inColdDownload: Summary;
  inColdSession: Summary;
  inColdTokenizer: Summary;
  warmUp: Summary;
  /** Parts alone, each in a fresh process. */
  downloadAlone: Summary;
  engineAlone: Summary;
  firstSession: Summary;
  tokenizerAlone: Summary;
  laterSession: Summary;
  /** CPU time of the parts alone (download + engine), each in its own process. */
  partsAloneCpu: Summary;
  /** The floor (above) / parts alone, per round, median. */
  floorRatio: number;
  /**
   * coldLoad / (downloadAlone + engineAlone): the median of the per-round ratios (each round runs
   * every variant once, so a round slowed by other load slows all its samples alike).
   */
  ratio: number;
  ratioSerial: number;
}

type Variant = 'cold' | 'serial' | 'apiDuring' | 'download' | 'engine';
const VARIANTS: readonly Variant[] = ['cold', 'serial', 'apiDuring', 'download', 'engine'];

export async function runOverlapSection(
  bundle: ChildBundle,
  models: ReadonlyArray<{ name: string; folder: ModelFolder }>,
  input: SizedInput,
  threads: number,
  runs: number,
  log: (m: string) => void,
  bytesPerSecond: number = DEFAULT_THROTTLE.bytesPerSecond,
): Promise<OverlapRow[]> {
  const rows: OverlapRow[] = [];
  for (const { name, folder } of models) {
    const s3 = await startS3StandIn({
      modelDir: folder.dir,
      bytesPerSecond,
      firstByteMs: DEFAULT_THROTTLE.firstByteMs,
    });
    try {
      for (const cores of CORE_SETS) {
        const samples = {
          cold: [] as ColdReport[],
          serial: [] as ColdReport[],
          apiDuring: [] as ColdReport[],
          download: [] as DownloadReport[],
          engine: [] as EngineReport[],
        };
        const base = {
          MODEL_QUANTIZED: 'true',
          MODEL_THREADS: String(threads),
          BENCH_QUESTION: input.question,
          BENCH_CONTEXT: input.context,
        };
        for (let i = 0; i < runs; i++) {
          const order = i % 2 ? [...VARIANTS].reverse() : VARIANTS;
          for (const variant of order) {
            const env: Record<string, string> =
              variant === 'engine'
                ? { ...base, MODEL_URI: folder.dir, BENCH_MODE: 'engine' }
                : {
                    ...base,
                    ...s3.env,
                    MODEL_URI: s3.uri,
                    BENCH_MODE: variant === 'download' ? 'download' : 'cold',
                    BENCH_WARM_UP: variant === 'serial' ? '0' : '1',
                    BENCH_API_FIRST: variant === 'apiDuring' ? '0' : '1',
                  };
            const { child, report } = await bundle.start<ColdReport | DownloadReport | EngineReport>(env, {
              cpus: cores.cpus,
            });
            await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
            (samples[variant] as unknown[]).push(report);
          }
          log(`  ${name}, ${cores.name}: run ${i + 1}/${runs}`);
        }
        const coldLoad = summarize(samples.cold.map((r) => r.loadTotalMs));
        const coldLoadSerial = summarize(samples.serial.map((r) => r.loadTotalMs));
        const downloadAlone = summarize(samples.download.map((r) => r.downloadMs));
        const engineAlone = summarize(samples.engine.map((r) => r.createMs));
        const partsAlone = samples.download.map((d, i) => d.downloadMs + samples.engine[i]!.createMs);
        const perRound = (list: ColdReport[]) => summarize(list.map((r, i) => r.loadTotalMs / partsAlone[i]!)).median;
        const floor = samples.cold.map((r, i) =>
          cores.count === 1
            ? r.loadCpuMs
            : Math.max(samples.download[i]!.downloadMs + r.sessionCreateMs, r.loadCpuMs / cores.count),
        );
        rows.push({
          model: name,
          cores: cores.name,
          runs,
          coldLoad,
          coldLoadCpu: summarize(samples.cold.map((r) => r.loadCpuMs)),
          coldLoadSerial,
          coldLoadApiDuring: summarize(samples.apiDuring.map((r) => r.loadTotalMs)),
          inColdDownload: summarize(samples.cold.map((r) => r.downloadMs)),
          inColdSession: summarize(samples.cold.map((r) => r.sessionCreateMs)),
          inColdTokenizer: summarize(samples.cold.map((r) => r.tokenizerMs)),
          warmUp: summarize(samples.cold.map((r) => r.runtimeWarmUpMs ?? NaN)),
          downloadAlone,
          engineAlone,
          firstSession: summarize(samples.engine.map((r) => r.firstSessionMs)),
          tokenizerAlone: summarize(samples.engine.map((r) => r.tokenizerMs)),
          laterSession: summarize(samples.engine.map((r) => r.laterSessionMs)),
          partsAloneCpu: summarize(samples.download.map((d, i) => d.cpuMs + samples.engine[i]!.createCpuMs)),
          floorRatio: summarize(floor.map((f, i) => f / partsAlone[i]!)).median,
          ratio: perRound(samples.cold),
          ratioSerial: perRound(samples.serial),
        });
      }
    } finally {
      await s3.close();
    }
  }
  return rows;
}
