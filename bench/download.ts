/**
 * `npm run bench:download [-- --runs N]`: the download of the int8 model file in fresh processes, for
 * the generated model and the PyTorch export side by side, the
 * loader against the floor Node sets (bench/minimal-reader.ts reading the same ranges), through the
 * S3 stand-in (bench/s3-standin.ts) unthrottled and as S3 looks from Lambda (85 MB/s per
 * connection, 30 ms to the first byte). Every sample is its own fresh process; the readers take
 * turns in each round, in an order that alternates, and ratios are paired by round. Prints the
 * rows and the targets (ratio, pass/fail) and writes them as its section of docs/benchmarks.md (not
 * with `--no-write`). `runDownloadSection` is the section other benches reuse.
 */
import { execFile, fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { bundleChild } from './children';
import type { DownloadMode, DownloadReport } from './child/download';
import { DOWNLOAD_HEADING, sectionHead, writeSection } from './doc-sections';
import { firstTouchCost } from './machine';
import { fullModel, pytorchModel } from './model-folder';
import { startS3StandIn, type S3StandIn } from './s3-standin';
import { ratio, summarize, type Summary } from './stats';
import { DEFAULT_THROTTLE } from '../test/helpers/throttle-proxy';
import { QUANTIZED_ONNX } from '../src/model/loading/model-files';

const REPO = path.resolve(__dirname, '..');

/** `curl`: one GET of the whole object by curl (a C client), the stand-in's own ceiling. */
type ReaderMode = DownloadMode | 'curl';

export interface DownloadRow {
  /** e.g. `loader, 85 MB/s per connection`. */
  name: string;
  mode: ReaderMode;
  throttled: boolean;
  ms: Summary;
  /** The child's CPU time during the read (user + system); NaN for curl, whose CPU is not sampled. */
  cpuMs: Summary;
  /** MB/s of the median. */
  mbPerSecond: number;
}

export interface DownloadTarget {
  name: string;
  value: number;
  limit: number;
  /** `max`: value must be ≤ limit; `min`: ≥ limit. */
  kind: 'max' | 'min';
  pass: boolean;
  unit: string;
}

export interface DownloadSection {
  /** Which model's int8 file was read (`generated`, `PyTorch export`). */
  model: string;
  bytes: number;
  rows: DownloadRow[];
  targets: DownloadTarget[];
}

const CASES: Array<{ mode: ReaderMode; throttled: boolean }> = [
  { mode: 'curl', throttled: false },
  { mode: 'sockets', throttled: false },
  { mode: 'ceiling', throttled: false },
  { mode: 'minimal', throttled: false },
  { mode: 'minimal-sha', throttled: false },
  { mode: 'loader', throttled: false },
  { mode: 'loader-sdk', throttled: false },
  { mode: 'sockets-fresh-sha', throttled: false },
  { mode: 'minimal', throttled: true },
  { mode: 'minimal-sha', throttled: true },
  { mode: 'loader', throttled: true },
  { mode: 'loader-sdk', throttled: true },
  { mode: 'sockets-fresh-sha', throttled: true },
  { mode: 'one-stream', throttled: true },
  { mode: 'version', throttled: true },
];

const MODE_NAMES: Record<ReaderMode, string> = {
  curl: "curl, one GET (the stand-in's ceiling)",
  minimal: 'minimal reader',
  'minimal-sha': 'minimal reader + SHA-256',
  loader: 'loader (readS3Object, SHA-256 checked, direct reads)',
  'loader-sdk': 'loader, every part through the SDK (MODEL_S3_DIRECT_READS=false)',
  version: 'loader, whole version (fetchModelFiles)',
  'one-stream': 'one stream (minimal reader, one GET)',
  ceiling: 'minimal reader into mapped memory',
  sockets: "raw sockets straight into mapped memory (Node's ceiling on this machine)",
  'sockets-fresh-sha': 'raw sockets straight into fresh memory + SHA-256 (no HTTP client, no copy)',
};

/** Bundles the child as the Lambda code is bundled, so its start is one file's. */
async function buildChild(): Promise<{ file: string; dispose: () => void }> {
  const { file, dir } = await bundleChild('download');
  return { file, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

function runChild(file: string, env: Record<string, string>): Promise<DownloadReport> {
  const child = fork(file, [], {
    env: { ...process.env, ...env, NODE_PATH: path.join(REPO, 'node_modules'), NODE_NO_WARNINGS: '1' },
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m: DownloadReport | { kind: 'error'; message: string }) => {
      if (m.kind === 'error') reject(new Error(`download child failed: ${m.message}`));
      else resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`download child exited with ${code} before reporting`)));
    child.once('error', reject);
  });
}

const execFileAsync = promisify(execFile);

/**
 * The server's side alone: curl reads the object into /dev/null, so neither V8 nor fresh memory
 * stands between the socket and the clock. `time_total` is curl's own, from before it connects to
 * the last byte, without its process start.
 */
async function curlRead(url: string, bytes: number): Promise<{ ms: number; cpuMs: number }> {
  const { stdout } = await execFileAsync('curl', [
    '-sS',
    '-o',
    '/dev/null',
    '-w',
    '%{time_total} %{size_download}',
    url,
  ]);
  const [seconds, size] = stdout.trim().split(' ').map(Number);
  if (size !== bytes) throw new Error(`curl read ${size} bytes of ${bytes}`);
  return { ms: seconds! * 1000, cpuMs: NaN };
}

/** Runs every case `runs` times, each in a fresh process (see the module comment). */
export async function runDownloadSection(
  model: string,
  modelDir: string,
  runs: number,
  log: (m: string) => void,
): Promise<DownloadSection> {
  const child = await buildChild();
  const stands: Record<'fast' | 'throttled', S3StandIn> = {
    fast: await startS3StandIn({ modelDir }),
    throttled: await startS3StandIn({
      modelDir,
      bytesPerSecond: DEFAULT_THROTTLE.bytesPerSecond,
      firstByteMs: DEFAULT_THROTTLE.firstByteMs,
    }),
  };
  try {
    const file = stands.fast.manifest.files.find((f) => f.path === QUANTIZED_ONNX);
    if (!file?.parts) throw new Error(`${modelDir} has no ${QUANTIZED_ONNX} of several parts`);
    const samples = CASES.map(() => new Array<number>(runs).fill(NaN));
    const cpu = CASES.map(() => new Array<number>(runs).fill(NaN));
    for (let round = 0; round < runs; round++) {
      const order = CASES.map((_, i) => i);
      if (round % 2) order.reverse();
      for (const i of order) {
        const { mode, throttled } = CASES[i]!;
        const stand = throttled ? stands.throttled : stands.fast;
        const report =
          mode === 'curl'
            ? await curlRead(stand.fileUrl(file.path), file.bytes)
            : await runChild(child.file, {
                ...stand.env,
                MODEL_URI: stand.uri,
                DOWNLOAD_MODE: mode,
                DOWNLOAD_BYTES: String(file.bytes),
                DOWNLOAD_SHA256: file.sha256,
                DOWNLOAD_PARTS: JSON.stringify(file.parts),
                DOWNLOAD_BUCKET: stand.bucket,
                DOWNLOAD_KEY: stand.fileKey(file.path),
                DOWNLOAD_URL: stand.fileUrl(file.path),
              });
        samples[i]![round] = report.ms;
        cpu[i]![round] = report.cpuMs;
      }
      log(`  round ${round + 1}/${runs}: ${samples.map((s) => Math.round(s[round]!)).join(' / ')} ms`);
    }
    const rows = CASES.map(({ mode, throttled }, i): DownloadRow => {
      const ms = summarize(samples[i]!, samples[i]);
      return {
        name: `${MODE_NAMES[mode]}, ${throttled ? '85 MB/s per connection, 30 ms first byte' : 'unthrottled'}`,
        mode,
        throttled,
        ms,
        cpuMs: summarize(cpu[i]!, cpu[i]),
        mbPerSecond: file.bytes / 1e3 / ms.median,
      };
    });
    const row = (mode: ReaderMode, throttled: boolean) =>
      rows.find((r) => r.mode === mode && r.throttled === throttled)!;
    const target = (name: string, value: number, limit: number, kind: 'max' | 'min', unit: string) => ({
      name,
      value,
      limit,
      kind,
      unit,
      pass: kind === 'max' ? value <= limit : value >= limit,
    });
    const targets: DownloadTarget[] = [
      target(
        "the stand-in's ceiling: curl, one GET, unthrottled",
        file.bytes / 1e6 / row('curl', false).ms.median,
        1,
        'min',
        'GB/s',
      ),
      target(
        'loader / minimal reader + SHA-256, unthrottled',
        ratio(row('loader', false).ms, row('minimal-sha', false).ms),
        1.2,
        'max',
        '×',
      ),
      target(
        'loader / minimal reader + SHA-256, 85 MB/s per connection',
        ratio(row('loader', true).ms, row('minimal-sha', true).ms),
        1.2,
        'max',
        '×',
      ),
      target(
        'loader / one stream, 85 MB/s per connection',
        ratio(row('loader', true).ms, row('one-stream', true).ms),
        0.6,
        'max',
        '×',
      ),
    ];
    return { model, bytes: file.bytes, rows, targets };
  } finally {
    await stands.fast.close();
    await stands.throttled.close();
    child.dispose();
  }
}

/** Every model's rows and targets side by side, then this machine's cost of fresh memory. */
export function downloadTable(
  sections: readonly DownloadSection[],
  firstTouch: { usPerPage: number; msPer64MiB: number },
): string {
  const f = (x: number) => x.toFixed(0);
  const sizes = sections.map((s) => `${(s.bytes / 1e6).toFixed(1)} MB (${s.model})`).join(', ');
  const lines = [
    `Download of the int8 model file, ${sizes}, a fresh process per sample (median, min–max)`,
    '',
    '| model | reader | ms | MB/s | CPU ms |',
    '|---|---|--:|--:|--:|',
    ...sections.flatMap((section) =>
      section.rows.map(
        (r) =>
          `| ${section.model} | ${r.name} | ${f(r.ms.median)} (${f(r.ms.min)}–${f(r.ms.max)}) | ${f(r.mbPerSecond)} | ${Number.isNaN(r.cpuMs.median) ? '—' : f(r.cpuMs.median)} |`,
      ),
    ),
    '',
    '| model | target | value | limit | |',
    '|---|---|--:|--:|---|',
    ...sections.flatMap((section) =>
      section.targets.map(
        (t) =>
          `| ${section.model} | ${t.name} | ${t.value.toFixed(2)} ${t.unit} | ${t.kind === 'max' ? '≤' : '≥'} ${t.limit} ${t.unit} | ${t.pass ? 'pass' : 'FAIL'} |`,
      ),
    ),
    '',
    `Fresh memory on this machine: ${firstTouch.usPerPage.toFixed(1)} µs per 4 KiB page at its first touch (a fresh 64 MiB buffer mapped in ${firstTouch.msPer64MiB.toFixed(0)} ms, median of 5 fresh processes). Every reader above that writes into fresh memory pays it for each page of the model file; the "mapped memory" rows do not.`,
  ];
  return lines.join('\n');
}

function log(message: string): void {
  process.stderr.write(`[bench:download ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '7' }, 'no-write': { type: 'boolean', default: false } },
    strict: true,
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  const models = [
    { name: 'generated', folder: await fullModel(log) },
    { name: 'PyTorch export', folder: await pytorchModel(log) },
  ];
  const sections: DownloadSection[] = [];
  for (const { name, folder } of models) {
    log(`download, ${name}: ${runs} rounds of ${CASES.length} fresh processes`);
    sections.push(await runDownloadSection(name, folder.dir, runs, log));
  }
  const table = downloadTable(sections, firstTouchCost());
  process.stdout.write(`${table}\n`);
  if (!values['no-write']) {
    const how = `\`npm run bench:download -- --runs ${runs}\`: each figure a fresh process reading a 67 MB int8 model file (the generated model and the PyTorch export) from the S3 stand-in (bench/s3-standin.ts), rounds alternating.`;
    if (writeSection(DOWNLOAD_HEADING, `${sectionHead(DOWNLOAD_HEADING, how)}${table}\n\n`))
      log('updated its section of docs/benchmarks.md');
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
    process.exitCode = 1;
  });
}
