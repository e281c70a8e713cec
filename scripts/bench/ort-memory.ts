/**
 * `npx tsx scripts/bench/ort-memory.ts [--runs N]`: the memory of the engine's session on the
 * full-size int8 model, standard file against `model optimize`'s ORT-format file (its bytes used in
 * place, so our buffer is the weights' storage). Each sample is a fresh process that creates the
 * engine's ONNX model as the loader does (from bytes in memory, as read from S3), runs five
 * ~380-token windows and reports its RSS after a garbage collection and its peak RSS. Prints markdown.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { QUANTIZED_ONNX } from '../../src/model/loading/model-files';
import { OnnxQAModel } from '../../src/model/onnx-model';
import { engineWindows } from './floor';
import { makeInput } from './inputs';
import { fullModel, fullModelFrom } from './model-folder';
import { ORT_FORMAT, optimizedFolder } from './sections/optimized';
import { summarize } from './stats';

const log = (m: string) => process.stderr.write(`[ort-memory ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const MiB = 2 ** 20;

/** In the child: load one file as the loader would, run five windows, report memory. */
async function child(dir: string, file: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const model = await fullModelFrom(dir);
  const input = await makeInput(model.tokenizer, { sequenceTokens: 380 }, 7);
  const [window] = await engineWindows(model.tokenizer, input.question, input.context);
  const engine = await OnnxQAModel.create(await readFile(path.join(dir, file)), {
    intraOpNumThreads: 1,
    preOptimized: file.endsWith('.ort'),
  });
  for (let i = 0; i < 5; i++) await engine.run(window!);
  // Several collections across event-loop turns: one right after the runs can leave the read
  // buffer of the standard file alive (it is not the session's), and it would count against it.
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const m = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({ rss: m.rss / MiB, arrayBuffers: m.arrayBuffers / MiB, peak: process.resourceUsage().maxRSS / 1024 })}\n`,
  );
  await engine.dispose();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '4' }, child: { type: 'string' }, dir: { type: 'string' } },
  });
  if (values.child) return child(values.dir!, values.child);
  const model = await fullModel(log);
  const work = await mkdtemp(path.join(os.tmpdir(), 'qa-ort-memory-'));
  try {
    const { dir } = await optimizedFolder(model, work);
    const variants = [
      ['standard int8 (level all)', QUANTIZED_ONNX],
      ['ORT format, bytes in place (served)', ORT_FORMAT],
    ] as const;
    const samples = new Map<string, Array<{ rss: number; arrayBuffers: number; peak: number }>>(
      variants.map(([name]) => [name, []]),
    );
    // Alternated, one fresh process a sample.
    for (let r = 0; r < Number(values.runs); r++) {
      for (const [name, file] of variants) {
        const run = spawnSync(
          process.execPath,
          ['--expose-gc', '--import', 'tsx', __filename, '--child', file, '--dir', dir],
          { encoding: 'utf8' },
        );
        if (run.status !== 0) throw new Error(`child failed (${run.status ?? run.signal}): ${run.stderr}`);
        samples.get(name)!.push(JSON.parse(run.stdout.trim().split('\n').pop()!));
        log(`${name}: ${run.stdout.trim()}`);
      }
    }
    const lines = [
      `Memory of one engine session, full-size int8 model, after five ~380-token windows; ${values.runs} fresh processes each, alternated (${new Date().toISOString().slice(0, 10)}):`,
      '',
      '| File | RSS after GC, MiB (median; min–max) | of which JS buffers, MiB | Peak RSS, MiB (median; min–max) |',
      '| --- | --: | --: | --: |',
    ];
    for (const [name, list] of samples) {
      const rss = summarize(list.map((s) => s.rss));
      const peak = summarize(list.map((s) => s.peak));
      const buffers = summarize(list.map((s) => s.arrayBuffers));
      lines.push(
        `| ${name} | ${rss.median.toFixed(0)} (${rss.min.toFixed(0)}–${rss.max.toFixed(0)}) | ${buffers.median.toFixed(0)} | ${peak.median.toFixed(0)} (${peak.min.toFixed(0)}–${peak.max.toFixed(0)}) |`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
  process.exitCode = 1;
});
