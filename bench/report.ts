/** Markdown for the terminal and docs/benchmarks.md. Pure: results in, text out. */
import type { Machine } from './machine';
import type { Row, Settings } from './report-types';
import { COLD_SOURCES, type ColdRow, type ColdSection } from './sections/cold-start';
import type { MemoryRow } from './sections/memory';
import { ratio as pairedRatio, type Summary } from './stats';

const ms = (x: number) => (Number.isNaN(x) ? '–' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const ratio = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const range = (s: Summary) => `${ms(s.min)}–${ms(s.max)}`;

export function latencyTable(rows: readonly Row[]): string {
  const lines = [
    '| What | Threads | Precision | Tokens in | Median ms | Min–max ms | n | × floor | peer / this |',
    '| --- | --: | --- | --- | --: | --: | --: | --: | --: |',
  ];
  for (const r of rows) {
    const toFloor = r.floor ? pairedRatio(r.summary, r.floor) : NaN;
    const peer = r.peer ? pairedRatio(r.peer, r.summary) : NaN;
    lines.push(
      `| ${r.label} | ${r.threads} | ${r.precision} | ${r.input} | ${ms(r.summary.median)} | ${range(r.summary)} | ${r.summary.n} | ${ratio(toFloor)} | ${ratio(peer)} |`,
    );
  }
  return lines.join('\n');
}

export function coldTable(rows: readonly ColdRow[]): string {
  const lines = [
    '| Source (int8) | Runs | Fork → first answer | Node start + loader | API modules | Read / download | Session create | Tokenizer load | First run | Sum of parts | Loader outside parts | Fork + IPC | Wall / parts | Peak /tmp (MB) |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.source} | ${r.runs} | ${ms(r.wall.median)} (${range(r.wall)}) | ${ms(r.boot.median)} | ${ms(r.apiImport.median)} | ${ms(r.download.median)} | ${ms(r.sessionCreate.median)} | ${ms(r.tokenizer.median)} | ${ms(r.firstRun.median)} | ${ms(r.parts.median)} | ${ms(r.loaderExtra.median)} | ${ms(r.forkAndIpc.median)} | ${ratio(r.ratio.median)} | ${r.peakTmpMb.max.toFixed(1)} |`,
    );
  }
  return (
    lines.join('\n') +
    "\n\nAll in ms, medians (min–max for the total). Parts are the loader's own timings (`ModelInfo.timings`) plus the first `answer`. *Node start + loader*: the child's clock when its main code starts (Node itself, compiling the bundle, evaluating the loader and the AWS SDK's S3 client). *API modules*: evaluating Apollo, graphql and the API, which the child does as `src/lambda.mts` does, once the model's GETs are in flight (overlapping the download), except in the *API evaluated before the load* row (the order before). *Loader outside parts*: `loadModel`'s total minus its parts (the lazy import of the engine, which loads onnxruntime's native addon). *Fork + IPC*: the parent's wall time minus the child's own clock. Wall / parts is the median of per-run ratios. *Peak /tmp*: the most bytes seen under the child's own TMPDIR, sampled every 10 ms, over all runs."
  );
}

/** The download comparison of the cold-start section, one paragraph. */
export function coldDownloadSummary(section: ColdSection): string {
  const one = section.rows.find((r) => r.source === COLD_SOURCES.oneStream)!;
  const ranged = section.rows.find((r) => r.source === COLD_SOURCES.ranged)!;
  const mb = (b: number) => (b / 1e6).toFixed(1);
  return [
    `Through the throttling proxy (${mb(section.settings.bytesPerSecond)} MB/s per connection, ${section.settings.firstByteMs} ms to the first byte), the ${mb(section.modelBytes)} MB int8 model file downloads in`,
    `${ms(one.download.median)} ms as one stream (at that rate alone: ${ms(section.idealOneStreamMs)} ms) and ${ms(ranged.download.median)} ms as ranged reads`,
    `(${(section.settings.partBytes / 2 ** 20).toFixed(0)} MiB parts, ${section.settings.concurrency} in flight): **${section.downloadSpeedup.toFixed(2)}×** faster. The download is the loader's`,
    '`downloadMs`: the manifest, then the ONNX file, tokenizer.json and config.json together, each checked against its SHA-256.',
    `With no throttle at all the same ranged reads take ${ms(section.rows.find((r) => r.source === COLD_SOURCES.ceiling)!.download.median)} ms: s3rver, the proxy and the loader share this`,
    `machine's CPU, so no read setting can beat ${section.rigCeilingSpeedup.toFixed(2)}× here.`,
  ].join('\n');
}

export function memoryTable(rows: readonly MemoryRow[]): string {
  const lines = [
    '| Precision | Requests | RSS after load (MB) | Peak RSS, VmHWM (MB) | Max sampled RSS (MB) | Wall for all requests (ms) |',
    '| --- | --: | --: | --: | --: | --: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.precision} | ${r.requests} | ${r.rssAfterLoadMb.toFixed(0)} | ${r.peakRssMb.toFixed(0)} | ${r.maxSampledRssMb.toFixed(0)} | ${r.wallMs.toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

export function machineTable(m: Machine, settings: Settings): string {
  return [
    '| | |',
    '| --- | --- |',
    `| CPU | ${m.cpu}, ${m.cores} cores available to Node |`,
    `| Memory | ${m.memoryGiB} GiB |`,
    `| Load average at start (1/5/15 min) | ${m.loadAverage} |`,
    `| OS | ${m.platform} |`,
    `| Node | ${m.node} |`,
    `| onnxruntime-node (ours) | ${m.onnxruntimeNode} |`,
    `| @huggingface/transformers (peer) | ${m.transformersJs}, with onnxruntime-node ${m.transformersOnnxruntime} |`,
    `| Date | ${m.date} |`,
    `| Mode | ${settings.quick ? 'quick' : 'full'}: ${settings.warmup} warm-up run(s) per variant, ${settings.rounds} interleaved rounds (contexts of several windows, and the mixed 16-question set, every third round) |`,
  ].join('\n');
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean;
}

export function targetsTable(targets: readonly Target[]): string {
  const lines = ['| Target | Goal | Measured | Met |', '| --- | --- | --- | --- |'];
  for (const t of targets) lines.push(`| ${t.name} | ${t.goal} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`);
  return lines.join('\n');
}
