/**
 * `npx tsx scripts/bench/fused-candidates.ts [--rounds N]`: the issue's fusion candidates, each
 * measured alone against the standard int8 export of the full-size generated DistilBERT, interleaved
 * in one run: raw `session.run` at ~150 and ~380 tokens on 1 and 2 threads, session creation, and
 * accuracy against fp32 (largest logit difference, windows whose argmax start and end match fp32's).
 * Candidates (scripts/test-models/fused-graph.ts): QAttention + SkipLayerNormalization + Gelu with
 * per-tensor weights, the same with per-column weights, and fp32 Attention with int8 elsewhere; and
 * `model optimize`'s saved graph. Prints markdown; a candidate is kept only if it pays.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { saveOptimizedGraph, compareLogits } from '../model-cli/optimize';
import { weightsForSpec } from '../test-models';
import { buildFusedModel } from '../test-models/fused-graph';
import { sessionOptions, windowFeeds } from '../../src/model/onnx-model';
import { engineWindows } from './floor';
import { makeInput } from './inputs';
import { fullModel } from './model-folder';
import { interleave, ratio, summarize, type Case, type Summary } from './stats';

const log = (m: string) => process.stderr.write(`[fused ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '16' } } });
  const rounds = Number(values.rounds);
  const model = await fullModel(log);
  const work = await mkdtemp(path.join(os.tmpdir(), 'qa-fused-'));
  try {
    const weights = weightsForSpec({ size: 'full', variant: 'distilbert' });
    const graphs: Array<{ name: string; file: string; preOptimized: boolean }> = [
      { name: 'standard int8 export', file: model.onnx('int8'), preOptimized: false },
      { name: '`model optimize` (extended, saved)', file: path.join(work, 'optimized.onnx'), preOptimized: true },
      {
        name: 'QAttention + Skip/Gelu fusions, per-tensor',
        file: path.join(work, 'qattention.onnx'),
        preOptimized: false,
      },
      {
        name: 'QAttention + Skip/Gelu fusions, per-column',
        file: path.join(work, 'qattention-per-column.onnx'),
        preOptimized: false,
      },
      {
        name: 'fp32 Attention + Skip/Gelu, int8 elsewhere',
        file: path.join(work, 'attention-fp32.onnx'),
        preOptimized: false,
      },
    ];
    log('building the candidates');
    await saveOptimizedGraph(model.onnx('int8'), graphs[1]!.file);
    await writeFile(graphs[2]!.file, buildFusedModel(weights, { perChannel: false, quantAttention: true }));
    await writeFile(graphs[3]!.file, buildFusedModel(weights, { perChannel: true, quantAttention: true }));
    await writeFile(graphs[4]!.file, buildFusedModel(weights, { perChannel: false, quantAttention: false }));

    const timed = await Promise.all(
      [
        [150, 1],
        [382, 2],
      ].map(([n, seed]) => makeInput(model.tokenizer, { sequenceTokens: n! }, seed!)),
    );
    const timedWindows = (
      await Promise.all(timed.map((i) => engineWindows(model.tokenizer, i.question, i.context)))
    ).map((w) => w[0]!);
    // Accuracy: 16 more inputs of ~150 and ~380 tokens, one window each.
    const extra = await Promise.all(
      Array.from({ length: 16 }, (_, i) => makeInput(model.tokenizer, { sequenceTokens: i % 2 ? 382 : 150 }, 100 + i)),
    );
    const accuracyWindows = [
      ...timedWindows,
      ...(await Promise.all(extra.map((i) => engineWindows(model.tokenizer, i.question, i.context)))).map((w) => w[0]!),
    ];

    log('accuracy against fp32');
    const fp32 = await ort.InferenceSession.create(model.onnx('fp32'), sessionOptions(1));
    const accuracy = new Map<string, { maxAbsDiff: number; sameArgmax: number }>();
    for (const g of graphs) {
      const s = await ort.InferenceSession.create(g.file, sessionOptions(1, g.preOptimized));
      accuracy.set(g.name, await compareLogits(fp32, s, accuracyWindows));
      await s.release();
    }
    await fp32.release();

    log('session creation');
    const creates = new Map<string, number[]>(graphs.map((g) => [g.name, []]));
    for (const g of graphs)
      await (await ort.InferenceSession.create(g.file, sessionOptions(1, g.preOptimized))).release();
    for (let r = 0; r < Math.max(5, rounds >> 1); r++) {
      for (const g of graphs) {
        const t0 = performance.now();
        const s = await ort.InferenceSession.create(g.file, sessionOptions(1, g.preOptimized));
        creates.get(g.name)!.push(performance.now() - t0);
        await s.release();
      }
    }

    const runs = new Map<string, Summary>();
    for (const threads of [1, 2]) {
      log(`raw session.run, ${threads} thread(s), ${rounds} rounds`);
      const sessions = await Promise.all(
        graphs.map((g) => ort.InferenceSession.create(g.file, sessionOptions(threads, g.preOptimized))),
      );
      const cases: Case[] = [];
      graphs.forEach((g, k) => {
        timedWindows.forEach((w, i) => {
          const feeds = windowFeeds(ort.Tensor, sessions[k]!.inputNames, w);
          cases.push({ id: `${g.name}/${threads}/${i}`, run: () => sessions[k]!.run(feeds) });
        });
      });
      for (const [id, s] of await interleave(cases, { warmup: 2, rounds, seed: 21, pauseMs: 25 })) runs.set(id, s);
      await Promise.all(sessions.map((s) => s.release()));
    }

    const lines = [
      `| Graph | ${[1, 2].flatMap((t) => timedWindows.map((w) => `${t} thr, ${w.inputIds.length} tok: ms (× std)`)).join(' | ')} | Create ms (× std) | Max logit diff vs fp32 | Argmax = fp32 (of ${accuracyWindows.length}) |`,
      `| --- | ${[1, 2].flatMap(() => timedWindows.map(() => '--:')).join(' | ')} | --: | --: | --: |`,
    ];
    const createStd = summarize(creates.get(graphs[0]!.name)!, creates.get(graphs[0]!.name)!);
    for (const g of graphs) {
      const cells = [1, 2].flatMap((t) =>
        timedWindows.map((_, i) => {
          const s = runs.get(`${g.name}/${t}/${i}`)!;
          return `${s.median.toFixed(1)} (${ratio(s, runs.get(`${graphs[0]!.name}/${t}/${i}`)!).toFixed(2)})`;
        }),
      );
      const c = summarize(creates.get(g.name)!, creates.get(g.name)!);
      const a = accuracy.get(g.name)!;
      lines.push(
        `| ${g.name} | ${cells.join(' | ')} | ${c.median.toFixed(0)} (${ratio(c, createStd).toFixed(2)}) | ${a.maxAbsDiff.toFixed(4)} | ${a.sameArgmax} |`,
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
