/**
 * `npx tsx scripts/arm64-optimized.ts <model-dir> [--windows N]`
 *
 * Is a graph `model optimize` saved on this x86_64 machine portable to arm64 (Graviton)? For the
 * folder's int8 file and its `*.optimized.onnx` (run `model optimize` first), on arm64 under qemu
 * (test/deploy/arm64-emulation.ts) for a core without dot product (cortex-a72) and Graviton2's
 * (neoverse-n1): the largest logit difference between the standard file (level `all`, as the
 * engine runs it) and the x86_64-saved optimized file (level `disabled`, as the loader runs it),
 * on arm64 itself, and the same for the x86_64-saved ORT-format file; and whether arm64's own
 * `extended` save has the same operators as x86_64's.
 * Graph runs go through scripts/arm64-parity/run-graph.cjs, as scripts/arm64-parity.ts's do.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { checkWindows } from './model-cli/optimize';
import { inspectOnnx } from './test-models/onnx-inspect';
import { QUANTIZED_ONNX, optimizedName, ortFormatName } from '../src/model/loading/model-files';
import { installedOnnxRuntimeVersion } from '../src/model/onnxruntime/version';
import { arm64Launcher, type QemuCpu } from '../test/deploy/arm64-emulation';
import { lambdaNode } from '../test/deploy/helpers';

const RUNNER = path.join(__dirname, 'arm64-parity', 'run-graph.cjs');
const work = mkdtempSync(path.join(os.tmpdir(), 'arm64-optimized-'));
type Logits = Array<Record<string, Float32Array>>;
type Feeds = Array<Record<string, { type: string; dims: number[]; data: number[] }>>;

let jobs = 0;
function runGraph(
  launcher: string[],
  node: string,
  model: string,
  feeds: Feeds,
  optimization: string,
  optimizedModel?: string,
): Logits {
  const job = path.join(work, `job-${++jobs}.json`);
  const out = path.join(work, `out-${jobs}.json`);
  writeFileSync(job, JSON.stringify({ items: [{ model, feeds }], optimization, threads: 1, out, optimizedModel }));
  const [command, ...prefix] = [...launcher, node];
  const run = spawnSync(command!, [...prefix, RUNNER, job], {
    encoding: 'utf8',
    timeout: 3_600_000,
    maxBuffer: 64 << 20,
  });
  if (run.status !== 0) throw new Error(`run-graph failed (${run.status ?? run.signal}): ${run.stderr}`);
  const result = JSON.parse(readFileSync(out, 'utf8')) as {
    items: Array<Array<{ outputs: Record<string, { base64: string }> }>>;
  };
  return result.items[0]!.map((r) =>
    Object.fromEntries(
      Object.entries(r.outputs).map(([name, t]) => {
        const b = Buffer.from(t.base64, 'base64');
        return [name, new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))];
      }),
    ),
  );
}

function maxAbsDiff(a: Logits, b: Logits): number {
  let max = 0;
  a.forEach((run, i) => {
    for (const name of ['start_logits', 'end_logits']) {
      const x = run[name]!;
      const y = b[i]![name]!;
      for (let j = 0; j < x.length; j++) max = Math.max(max, Math.abs(x[j]! - y[j]!));
    }
  });
  return max;
}

const opCounts = (file: string): string => {
  const counts = new Map<string, number>();
  for (const n of inspectOnnx(readFileSync(file)).nodes) counts.set(n.opType, (counts.get(n.opType) ?? 0) + 1);
  return JSON.stringify([...counts].sort());
};

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { windows: { type: 'string', default: '9' } },
  });
  const dir = positionals[0];
  if (!dir) throw new Error('usage: arm64-optimized.ts <model-dir> [--windows N]');
  const standard = path.join(dir, QUANTIZED_ONNX);
  const optimized = path.join(dir, optimizedName(QUANTIZED_ONNX));
  const ortFormat = path.join(dir, ortFormatName(QUANTIZED_ONNX, installedOnnxRuntimeVersion()));
  const windows = (await checkWindows(dir)).slice(0, Number(values.windows));
  const feeds: Feeds = windows.map((w) => ({
    input_ids: { type: 'int64', dims: [1, w.inputIds.length], data: [...w.inputIds] },
    attention_mask: { type: 'int64', dims: [1, w.inputIds.length], data: w.inputIds.map(() => 1) },
  }));
  const host = runGraph([], process.execPath, standard, feeds, 'all');
  const lines = [
    `${windows.length} windows of ${windows.map((w) => w.inputIds.length).join(', ')} tokens`,
    "| arm64 core (qemu) | standard (all) vs x86_64-saved optimized (disabled), on arm64 | standard vs x86_64-saved ORT format (disabled), on arm64 | arm64 vs x86_64, standard file | arm64 extended save has x86_64's operators |",
    '| --- | --: | --: | --: | --- |',
  ];
  for (const cpu of ['cortex-a72', 'neoverse-n1'] as QemuCpu[]) {
    const launcher = arm64Launcher(cpu);
    const node = (await lambdaNode('arm64', launcher)).path;
    const armSaved = path.join(work, `${cpu}.onnx`);
    const std = runGraph(launcher, node, standard, feeds, 'all');
    const opt = runGraph(launcher, node, optimized, feeds, 'disabled');
    const ort = runGraph(launcher, node, ortFormat, feeds, 'disabled');
    runGraph(launcher, node, standard, feeds.slice(0, 1), 'extended', armSaved);
    lines.push(
      `| ${cpu} | ${maxAbsDiff(std, opt)} | ${maxAbsDiff(std, ort)} | ${maxAbsDiff(host, std).toExponential(2)} | ${opCounts(armSaved) === opCounts(optimized) ? 'yes' : 'no'} |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));
