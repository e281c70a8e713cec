/**
 * The optimized graph (`model optimize`) against the standard int8 export, side by side in one run:
 * raw `session.run` of both at ~150 and ~380 tokens on 1 and 2 threads, the GraphQL answer served
 * from each by a server in a separate process (the client is this process, as users call it),
 * session creation of both, achieved GMAC/s as a share of this CPU's int8 peak, and onnxruntime's
 * per-operator profile of both graphs at ~380 tokens, 1 thread.
 */
import { link, mkdir, mkdtemp, readdir, readFile, realpath, rm, unlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { compareLogits, saveOptimizedGraph } from '../../model-cli/optimize';
import { QUANTIZED_ONNX, optimizedName } from '../../../src/model/loading/model-files';
import { sessionOptions, windowFeeds } from '../../../src/model/onnx-model';
import type { Window } from '../../../src/model/windows';
import { ChildBundle, stopChild } from '../children';
import type { ServeReport } from '../child/serve';
import { Floor, engineWindows } from '../floor';
import { ANSWER_QUERY, postGraphQL } from '../graphql-client';
import { makeInput } from '../inputs';
import type { ModelFolder } from '../model-folder';
import type { Settings } from '../report-types';
import { interleave, ratio, summarize, type Case, type Summary } from '../stats';

export const OPTIMIZED_HEADING = '## The optimized graph (`model optimize`)';
const SIZES = [
  { name: '~150', target: { sequenceTokens: 150 }, seed: 1 },
  { name: '~380', target: { sequenceTokens: 382 }, seed: 2 },
] as const;
const THREADS = [1, 2];
const OPTIMIZED = optimizedName(QUANTIZED_ONNX);
/**
 * A cold-start candidate: onnxruntime re-packs the int8 weights into its GEMM layout at session
 * creation; switching that off makes creation cheaper and every run dearer. Measured, not used.
 */
const NO_PREPACKING: ort.InferenceSession.SessionOptions = { extra: { session: { disable_prepacking: '1' } } };

export interface OptimizedResult {
  optimizeMs: number;
  checkMaxAbsDiff: number;
  checkWindows: number;
  tokens: Record<string, number>;
  runs: Map<string, Summary>;
  creates: Map<string, Summary>;
  peak: Peak;
  macs: Record<string, number>;
  profiles: Record<'standard' | 'optimized', OpTime[]>;
}

/** A folder of hard links to the model's int8 files, plus the optimized graph saved beside them. */
async function optimizedFolder(model: ModelFolder, work: string): Promise<{ dir: string; optimizeMs: number }> {
  const dir = path.join(work, 'model');
  await mkdir(path.join(dir, 'onnx'), { recursive: true });
  for (const f of ['tokenizer.json', 'config.json', QUANTIZED_ONNX]) await link(await realpath(path.join(model.dir, f)), path.join(dir, f));
  const optimizeMs = await saveOptimizedGraph(path.join(dir, QUANTIZED_ONNX), path.join(dir, OPTIMIZED));
  return { dir, optimizeMs };
}

/**
 * Multiply-accumulates of one DistilBERT forward pass of `n` tokens: per layer the Q, K, V and output
 * projections (4·n·d²), the feed-forward pair (2·n·d·ff) and the attention products QKᵀ and AV
 * (2·n²·d), plus the QA head (2·n·d). All but the attention products are int8 in both graphs.
 */
export function distilbertMacs(config: Record<string, unknown>, n: number): { total: number; int8: number } {
  const d = Number(config.dim ?? config.hidden_size ?? 768);
  const ff = Number(config.hidden_dim ?? config.intermediate_size ?? 4 * d);
  const layers = Number(config.n_layers ?? config.num_hidden_layers ?? 6);
  const int8 = layers * (4 * n * d * d + 2 * n * d * ff) + 2 * n * d;
  return { total: int8 + layers * 2 * n * n * d, int8 };
}

export interface Peak {
  macsPerCycle: number;
  ghz: number;
  why: string;
}

/**
 * This CPU's int8 multiply-accumulate peak per core, from /proc/cpuinfo: the widest int8 dot-product
 * instruction its flags offer times how many retire per cycle, times the clock it reports. An
 * estimate: `cpu MHz` is the current (often base) clock, not the boost clock.
 */
export function int8Peak(cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')): Peak {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1]?.trim() ?? '';
  const flags = new Set(field('flags').split(/\s+/));
  const ghz = Number(field('cpu MHz')) / 1000;
  const amdFamily = field('vendor_id') === 'AuthenticAMD' ? Number(field('cpu family')) : 0;
  let macsPerCycle: number;
  let why: string;
  if (flags.has('avx512_vnni') && amdFamily >= 26) {
    // Zen 5: a full 512-bit datapath, two VPDPBUSD zmm per cycle, 64 u8×s8 products each.
    macsPerCycle = 128;
    why = 'AVX-512 VNNI on AMD family 26 (Zen 5): 2 × 512-bit VPDPBUSD per cycle = 128 int8 MAC/cycle';
  } else if (flags.has('avx512_vnni') || flags.has('avx_vnni')) {
    macsPerCycle = 64;
    why = 'VNNI: one 512-bit (or two 256-bit) VPDPBUSD per cycle = 64 int8 MAC/cycle';
  } else if (flags.has('avx2')) {
    macsPerCycle = 32;
    why = 'AVX2 without VNNI: VPMADDUBSW + VPMADDWD on two 256-bit ports ≈ 32 int8 MAC/cycle';
  } else {
    macsPerCycle = 16;
    why = 'SSE4/NEON-class: ≈ 16 int8 MAC/cycle';
  }
  return { macsPerCycle, ghz, why: `${why}, × ${ghz.toFixed(2)} GHz (/proc/cpuinfo \`cpu MHz\`) per thread` };
}

/** Session creation of each graph, alternated, release not timed. */
async function timeCreation(dir: string, rounds: number): Promise<Map<string, Summary>> {
  const variants: Array<[string, string, ort.InferenceSession.SessionOptions]> = [
    ['standard (level all)', QUANTIZED_ONNX, sessionOptions(1)],
    ['optimized (level disabled)', OPTIMIZED, sessionOptions(1, true)],
    ['optimized (level basic)', OPTIMIZED, { ...sessionOptions(1, true), graphOptimizationLevel: 'basic' }],
    ['optimized (level disabled), weight pre-packing off', OPTIMIZED, { ...sessionOptions(1, true), ...NO_PREPACKING }],
  ];
  const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  // One creation of each first: the process's first session pays one-off costs (thread pools, allocators).
  for (const [, file, options] of variants) await (await ort.InferenceSession.create(path.join(dir, file), options)).release();
  for (let r = 0; r < rounds; r++) {
    for (const [name, file, options] of variants) {
      const t0 = performance.now();
      const session = await ort.InferenceSession.create(path.join(dir, file), options);
      samples.get(name)!.push(performance.now() - t0);
      await session.release();
    }
  }
  return new Map([...samples].map(([name, s]) => [name, summarize(s, s)]));
}

type OpTime = { op: string; ms: number; share: number };

/**
 * Milliseconds per run by operator type, from onnxruntime's profiler: both graphs profiled at once,
 * their runs alternated, so load from other processes falls on both alike.
 */
async function profileOps(dir: string, window: Window, runs: number, work: string): Promise<Record<'standard' | 'optimized', OpTime[]>> {
  const open = (file: string, preOptimized: boolean, prefix: string) =>
    ort.InferenceSession.create(path.join(dir, file), { ...sessionOptions(1, preOptimized), enableProfiling: true, profileFilePrefix: path.join(work, prefix) });
  const sessions = { standard: await open(QUANTIZED_ONNX, false, 'standard'), optimized: await open(OPTIMIZED, true, 'optimized') };
  const feeds = windowFeeds(ort.Tensor, sessions.standard.inputNames, window);
  for (let i = 0; i <= runs; i++) for (const s of Object.values(sessions)) await s.run(feeds);
  const out = {} as Record<'standard' | 'optimized', OpTime[]>;
  for (const [name, session] of Object.entries(sessions) as Array<['standard' | 'optimized', ort.InferenceSession]>) {
    session.endProfiling();
    await session.release();
    const file = (await readdir(work)).find((f) => f.startsWith(name) && f.endsWith('.json'))!;
    const events = JSON.parse(await readFile(path.join(work, file), 'utf8')) as Array<{ cat: string; name: string; dur: number; args?: { op_name?: string } }>;
    await unlink(path.join(work, file));
    const byOp = new Map<string, number>();
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !e.args?.op_name) continue;
      byOp.set(e.args.op_name, (byOp.get(e.args.op_name) ?? 0) + e.dur / 1000);
    }
    const total = [...byOp.values()].reduce((a, b) => a + b, 0);
    // runs + 1: the profile covers the first (warm-up) run too.
    out[name] = [...byOp].map(([op, ms]) => ({ op, ms: ms / (runs + 1), share: ms / total })).sort((a, b) => b.ms - a.ms);
  }
  return out;
}

export async function runOptimized(model: ModelFolder, settings: Settings, log: (m: string) => void): Promise<OptimizedResult> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'qa-bench-optimized-'));
  const bundle = await ChildBundle.build();
  const children: Array<Awaited<ReturnType<ChildBundle['start']>>['child']> = [];
  const floors: Floor[] = [];
  try {
    log('optimized: saving the extended-level graph');
    const { dir, optimizeMs } = await optimizedFolder(model, work);
    const inputs = await Promise.all(SIZES.map((s) => makeInput(model.tokenizer, s.target, s.seed)));
    const windows = await Promise.all(inputs.map((i) => engineWindows(model.tokenizer, i.question, i.context)));
    const tokens = Object.fromEntries(SIZES.map((s, i) => [s.name, windows[i]![0]!.inputIds.length]));

    const check = await (async () => {
      const a = await ort.InferenceSession.create(path.join(dir, QUANTIZED_ONNX), sessionOptions(1));
      const b = await ort.InferenceSession.create(path.join(dir, OPTIMIZED), sessionOptions(1, true));
      try {
        return await compareLogits(a, b, windows.flat());
      } finally {
        await Promise.all([a.release(), b.release()]);
      }
    })();
    log(`  logits: largest difference ${check.maxAbsDiff} over ${check.windows} windows`);

    log('optimized: session creation, standard vs optimized');
    const creates = await timeCreation(dir, settings.quick ? 5 : 15);

    const cases: Case[] = [];
    for (const t of THREADS) {
      const standard = await Floor.create(path.join(dir, QUANTIZED_ONNX), t);
      const optimized = await Floor.create(path.join(dir, OPTIMIZED), t, true);
      const unpacked = await Floor.create(path.join(dir, OPTIMIZED), t, true, NO_PREPACKING);
      floors.push(standard, optimized, unpacked);
      const serve = async (preferOptimized: boolean) => {
        const started = await bundle.start({
          BENCH_MODE: 'serve',
          MODEL_URI: dir,
          MODEL_THREADS: String(t),
          MODEL_QUANTIZED: 'true',
          MODEL_OPTIMIZED: String(preferOptimized),
        });
        children.push(started.child);
        return (started.report as ServeReport).url;
      };
      const [urlOptimized, urlStandard] = [await serve(true), await serve(false)];
      // The fixed cost of a GraphQL round trip between the two processes, with no model work: what
      // separates the GraphQL rows from the raw ones besides tokenizing and span search.
      cases.push({ id: `graphql-empty/${t}`, run: () => postGraphQL(urlOptimized, '{ __typename }', {}) });
      SIZES.forEach((size, i) => {
        const id = (what: string) => `${what}/${t}/${size.name}`;
        const [fs, fo] = [standard.feeds(windows[i]!), optimized.feeds(windows[i]!)];
        const vars = { q: inputs[i]!.question, c: inputs[i]!.context };
        cases.push(
          { id: id('raw-standard'), run: () => standard.run(fs) },
          { id: id('raw-optimized'), run: () => optimized.run(fo) },
          { id: id('raw-unpacked'), run: () => unpacked.run(fo) },
          { id: id('graphql-optimized'), run: () => postGraphQL(urlOptimized, ANSWER_QUERY, vars) },
          { id: id('graphql-standard'), run: () => postGraphQL(urlStandard, ANSWER_QUERY, vars) },
        );
      });
    }
    log(`optimized: ${cases.length} cases × ${settings.rounds} rounds (+${settings.warmup} warm-up)`);
    const runs = await interleave(cases, { warmup: settings.warmup, rounds: settings.rounds, seed: 16, pauseMs: 25 });

    log('optimized: per-operator profiles at ~380 tokens, 1 thread');
    const long = windows[1]![0]!;
    const profiles = await profileOps(dir, long, settings.quick ? 5 : 15, work);
    const macs = Object.fromEntries(SIZES.map((s) => [s.name, distilbertMacs(model.config, tokens[s.name]!).total]));
    return { optimizeMs, checkMaxAbsDiff: check.maxAbsDiff, checkWindows: check.windows, tokens, runs, creates, peak: int8Peak(), macs, profiles };
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    for (const f of floors) await f.release();
    bundle.dispose();
    await rm(work, { recursive: true, force: true });
  }
}

const f1 = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

/** The section's tables and targets, as markdown. */
export function optimizedTables(r: OptimizedResult): string {
  const run = (what: string, t: number, size: string) => r.runs.get(`${what}/${t}/${size}`)!;
  const lines: string[] = [];
  lines.push(
    `Optimizing the int8 file (session at level \`extended\` + save): ${f1(r.optimizeMs)} ms. Logits of the two graphs on the ` +
      `${r.checkWindows} windows below: largest difference ${r.checkMaxAbsDiff}.`,
    '',
    '| What | Threads | Tokens | Median ms | Min–max ms | n | × standard raw | GMAC/s | Share of int8 peak |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: |',
  );
  const labels: Record<string, string> = {
    'raw-standard': 'standard int8, raw `session.run`',
    'raw-optimized': 'optimized, raw `session.run`',
    'raw-unpacked': 'optimized, weight pre-packing off, raw `session.run`',
    'graphql-optimized': 'GraphQL `answer`, optimized graph, server in another process',
    'graphql-standard': 'GraphQL `answer`, standard graph, server in another process',
  };
  for (const t of THREADS) {
    for (const size of SIZES) {
      for (const what of Object.keys(labels)) {
        const s = run(what, t, size.name);
        const raw = what.startsWith('raw');
        const gmacs = r.macs[size.name]! / 1e9 / (s.median / 1000);
        const peak = r.peak.macsPerCycle * r.peak.ghz * t;
        lines.push(
          `| ${labels[what]} | ${t} | ${r.tokens[size.name]} | ${f1(s.median)} | ${f1(s.min)}–${f1(s.max)} | ${s.n} | ${ratio(s, run('raw-standard', t, size.name)).toFixed(2)} | ` +
            `${raw ? gmacs.toFixed(0) : ''} | ${raw ? `${((gmacs / peak) * 100).toFixed(0)}%` : ''} |`,
        );
      }
    }
  }
  lines.push(
    '',
    `GraphQL \`{ __typename }\` round trip to the server in the other process (no model work): ${THREADS.map((t) => {
      const e = r.runs.get(`graphql-empty/${t}`)!;
      return `${f1(e.median)} ms (${f1(e.min)}–${f1(e.max)}) with ${t} thread${t > 1 ? 's' : ''}`;
    }).join(', ')}.`,
    '',
    `GMAC per window: ${SIZES.map((s) => `${(r.macs[s.name]! / 1e9).toFixed(2)} at ${r.tokens[s.name]} tokens`).join(', ')} ` +
      `(distilbertMacs: projections, feed-forward and attention products; all but the attention products are int8). ` +
      `int8 peak: ${r.peak.why}, i.e. ${(r.peak.macsPerCycle * r.peak.ghz).toFixed(0)} GMAC/s per thread.`,
    '',
    '| Session creation (1 thread) | Median ms | Min–max ms | n | × standard |',
    '| --- | --: | --: | --: | --: |',
  );
  const std = r.creates.get('standard (level all)')!;
  for (const [name, s] of r.creates) lines.push(`| ${name} | ${f1(s.median)} | ${f1(s.min)}–${f1(s.max)} | ${s.n} | ${ratio(s, std).toFixed(2)} |`);
  const gq = ratio(run('graphql-optimized', 1, '~380'), run('raw-standard', 1, '~380'));
  const create = ratio(r.creates.get('optimized (level disabled)')!, std);
  lines.push(
    '',
    '| Target | Measured | Met |',
    '| --- | --: | --- |',
    `| GraphQL on the optimized graph ≤ 0.85 × standard raw, ~380 tokens, 1 thread | ${gq.toFixed(2)} | ${gq <= 0.85 ? 'yes' : 'no'} |`,
    `| Session creation of the optimized graph ≤ 0.5 × standard | ${create.toFixed(2)} | ${create <= 0.5 ? 'yes' : 'no'} |`,
    '',
    'Where the time goes, ~380 tokens, 1 thread (onnxruntime profiler, kernel time per run by operator type, top 10):',
    '',
    '| Operator (standard) | ms | Share | Operator (optimized) | ms | Share |',
    '| --- | --: | --: | --- | --: | --: |',
  );
  for (let i = 0; i < 10; i++) {
    const a = r.profiles.standard[i];
    const b = r.profiles.optimized[i];
    const cell = (p?: OpTime) => (p ? `${p.op} | ${p.ms.toFixed(2)} | ${(p.share * 100).toFixed(1)}%` : ' | | ');
    lines.push(`| ${cell(a)} | ${cell(b)} |`);
  }
  return lines.join('\n');
}
