/**
 * The optimized graph (`model optimize`) against the standard int8 export, side by side in one run:
 * raw `session.run` of both at ~150 and ~380 tokens on 1 and 2 threads, the GraphQL answer served
 * from each by a server in a separate process (the client is this process, as users call it),
 * session creation of both, achieved GMAC/s as a share of what this CPU's GEMMs measure through
 * onnxruntime (gemm-ceiling.ts), and onnxruntime's per-operator profile of both graphs.
 */
import { link, mkdir, mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { compareLogits, saveOptimizedGraph } from '../../scripts/model-cli/optimize';
import { QUANTIZED_ONNX, optimizedName, ortFormatName } from '../../src/model/loading/model-files';
import { ORT_BYTES_IN_PLACE, sessionOptions, windowFeeds } from '../../src/model/onnx-model';
import { installedOnnxRuntimeVersion } from '../../src/model/onnxruntime/version';
import type { Window } from '../../src/model/windows';
import { ChildBundle, stopChild } from '../children';
import type { ServeReport } from '../child/serve';
import { Floor, engineWindows } from '../floor';
import { ceilingKernels, ceilingProfiled, gemmTimes, type CeilingKernel } from '../gemm-ceiling';
import { distilbertDims, distilbertMacs, nominalInt8Peak, type Peak } from '../macs';
import { profileRuns, type KernelEvent } from '../ort-profile';
import { fetchPhases, phasesOf, type PhaseId } from '../phases';
import { ANSWER_QUERY, postGraphQL } from '../graphql-client';
import { makeInput } from '../inputs';
import type { ModelFolder } from '../model-folder';
import type { Settings } from '../report-types';
import { interleave, summarize, type Case, type Summary } from '../stats';

export const OPTIMIZED_HEADING = '## The optimized graph (`model optimize`)';
export const SIZES = [
  { name: '~150', target: { sequenceTokens: 150 }, seed: 1 },
  { name: '~380', target: { sequenceTokens: 382 }, seed: 2 },
] as const;
export const THREADS = [1, 2];
const OPTIMIZED = optimizedName(QUANTIZED_ONNX);
/** The same graph in the ORT format, as `model optimize` names it and the loader serves it (bytes in place). */
export const ORT_FORMAT = ortFormatName(QUANTIZED_ONNX, installedOnnxRuntimeVersion());
const IN_PLACE: ort.InferenceSession.SessionOptions = { extra: ORT_BYTES_IN_PLACE };
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
  macs: Record<string, { total: number; int8: number }>;
  /** Per operator type, ~380 tokens, 1 thread. */
  profiles: Record<'standard' | 'optimized', OpTime[]>;
  /** The standard graph's kernel time by kind, `${threads}/${size}`. */
  kernels: Map<string, KernelSplit>;
  ceilings: Array<{ kernel: CeilingKernel; threads: number; times: Summary }>;
  /** Per case id of the recording server, each timed request's phases (warm-up left out). */
  phases: Map<string, Array<Record<PhaseId, number>>>;
}

type Sent = { id: string; ms: number };
type PhaseServer = { child: ChildProcess; sent: Sent[] };

/** The recording servers' records paired with the client's times, request by request. */
async function collectPhases(
  servers: readonly PhaseServer[],
  warmup: number,
): Promise<Map<string, Array<Record<PhaseId, number>>>> {
  const out = new Map<string, Array<Record<PhaseId, number>>>();
  for (const { child, sent } of servers) {
    const records = await fetchPhases(child);
    if (records.length !== sent.length)
      throw new Error(`phases: ${records.length} server records for ${sent.length} requests`);
    sent.forEach(({ id, ms }, i) => out.set(id, [...(out.get(id) ?? []), phasesOf(records[i]!, ms)]));
  }
  // interleave runs every case `warmup` times first: those requests are not in the timed rows.
  for (const [id, list] of out) out.set(id, list.slice(warmup));
  return out;
}

/** Median per run of onnxruntime's kernel time: all nodes, the int8 GEMM ops, the fp32 attention products. */
interface KernelSplit {
  allMs: number;
  int8Ms: number;
  attentionMs: number;
}

/**
 * The ops that do the model's int8 work after onnxruntime's fusions: the fused GEMMs, the GEMMs that
 * share one quantized input (Q, K, V) and that input's quantization. Checked against the graph's
 * profile: the fp32 attention products are the 6 `FusedMatMul` (QKᵀ with its scale) and 6 `MatMul`
 * (AV) nodes, one pair per layer; no other MatMul is left in fp32.
 */
const INT8_OPS = new Set(['DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'DynamicQuantizeLinear']);
const ATTENTION_OPS = new Set(['FusedMatMul', 'MatMul']);

/** A folder of hard links to the model's int8 files, plus the optimized graph saved beside them (ONNX and ORT format). */
export async function optimizedFolder(model: ModelFolder, work: string): Promise<{ dir: string; optimizeMs: number }> {
  const dir = path.join(work, 'model');
  await mkdir(path.join(dir, 'onnx'), { recursive: true });
  for (const f of ['tokenizer.json', 'config.json', QUANTIZED_ONNX])
    await link(await realpath(path.join(model.dir, f)), path.join(dir, f));
  const optimizeMs = await saveOptimizedGraph(path.join(dir, QUANTIZED_ONNX), path.join(dir, OPTIMIZED));
  await saveOptimizedGraph(path.join(dir, QUANTIZED_ONNX), path.join(dir, ORT_FORMAT), 1, 'ORT');
  return { dir, optimizeMs };
}

/** The session-creation variant the loader serves (`model optimize`'s ORT-format file, bytes in place). */
export const SERVED_CREATION = 'ORT format, bytes in place (served)';

/**
 * Session creation of each graph from bytes already in memory, as on Lambda (the loader reads the
 * model from S3 into a buffer), alternated, release not timed.
 */
async function timeCreation(dir: string, rounds: number): Promise<Map<string, Summary>> {
  const variants: Array<[string, string, ort.InferenceSession.SessionOptions]> = [
    ['standard (level all)', QUANTIZED_ONNX, sessionOptions(1)],
    ['optimized (level disabled)', OPTIMIZED, sessionOptions(1, true)],
    ['optimized (level basic)', OPTIMIZED, { ...sessionOptions(1, true), graphOptimizationLevel: 'basic' }],
    ['optimized (level disabled), weight pre-packing off', OPTIMIZED, { ...sessionOptions(1, true), ...NO_PREPACKING }],
    ['ORT format, parsed and copied', ORT_FORMAT, sessionOptions(1, true)],
    [SERVED_CREATION, ORT_FORMAT, { ...sessionOptions(1, true), ...IN_PLACE }],
  ];
  const bytes = new Map(
    await Promise.all(
      [QUANTIZED_ONNX, OPTIMIZED, ORT_FORMAT].map(async (f) => [f, await readFile(path.join(dir, f))] as const),
    ),
  );
  const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  // One creation of each first, discarded: the process's first session pays one-off costs (thread
  // pools, allocators, fresh memory) that would fall on whichever graph came first. What a cold
  // start pays for that first session is measured in fresh processes (sections/cold-overlap.ts).
  for (const [, file, options] of variants)
    await (await ort.InferenceSession.create(bytes.get(file)!, options)).release();
  for (let r = 0; r < rounds; r++) {
    for (const [name, file, options] of variants) {
      const t0 = performance.now();
      const session = await ort.InferenceSession.create(bytes.get(file)!, options);
      samples.get(name)!.push(performance.now() - t0);
      await session.release();
    }
  }
  return new Map([...samples].map(([name, s]) => [name, summarize(s, s)]));
}

export type OpTime = { op: string; ms: number; share: number };

const medianOf = (values: number[]) => summarize(values).median;

/** Median ms per run by operator type, largest first, with each one's share of their sum. */
function byOperator(runs: readonly KernelEvent[][]): OpTime[] {
  const ops = new Set(runs.flatMap((events) => events.map((e) => e.op)));
  const ms = [...ops].map((op) => ({
    op,
    ms: medianOf(runs.map((events) => events.filter((e) => e.op === op).reduce((a, e) => a + e.ms, 0))),
  }));
  const total = ms.reduce((a, o) => a + o.ms, 0);
  return ms.map((o) => ({ ...o, share: o.ms / total })).sort((a, b) => b.ms - a.ms);
}

function kernelSplit(runs: readonly KernelEvent[][]): KernelSplit {
  const sum = (events: readonly KernelEvent[], keep: (op: string) => boolean) =>
    events.filter((e) => keep(e.op)).reduce((a, e) => a + e.ms, 0);
  return {
    allMs: medianOf(runs.map((events) => sum(events, () => true))),
    int8Ms: medianOf(runs.map((events) => sum(events, (op) => INT8_OPS.has(op)))),
    attentionMs: medianOf(runs.map((events) => sum(events, (op) => ATTENTION_OPS.has(op)))),
  };
}

/**
 * onnxruntime's profiler on the standard graph at every size and thread count, on the optimized
 * graph at ~380 tokens, 1 thread, and on the GEMM ceiling kernels, all in one set of alternated runs.
 */
async function profileAll(
  dir: string,
  windows: readonly Window[],
  kernels: readonly CeilingKernel[],
  runs: number,
): Promise<Pick<OptimizedResult, 'profiles' | 'kernels' | 'ceilings'>> {
  const model = (file: string, preOptimized: boolean, t: number, window: Window, key: string) => ({
    key,
    open: (profiling: ort.InferenceSession.SessionOptions) =>
      ort.InferenceSession.create(path.join(dir, file), { ...sessionOptions(t, preOptimized), ...profiling }),
    run: (session: ort.InferenceSession) =>
      session.run(windowFeeds(ort.Tensor, session.inputNames, window), ['start_logits', 'end_logits']),
  });
  const items = [
    ...THREADS.flatMap((t) =>
      SIZES.map((size, i) => model(QUANTIZED_ONNX, false, t, windows[i]!, `standard/${t}/${size.name}`)),
    ),
    model(OPTIMIZED, true, 1, windows[1]!, 'optimized/1/~380'),
    ...THREADS.flatMap((t) => kernels.map((k) => ceilingProfiled(k, t))),
  ];
  const events = await profileRuns(items, runs, 25);
  const get = (key: string) => events.get(key)!;
  return {
    profiles: { standard: byOperator(get('standard/1/~380')), optimized: byOperator(get('optimized/1/~380')) },
    kernels: new Map(
      THREADS.flatMap((t) =>
        SIZES.map((size) => [`${t}/${size.name}`, kernelSplit(get(`standard/${t}/${size.name}`))] as const),
      ),
    ),
    ceilings: THREADS.flatMap((t) =>
      kernels.map((kernel) => ({ kernel, threads: t, times: gemmTimes(kernel, get(`${kernel.id}/${t}`)) })),
    ),
  };
}

export async function runOptimized(
  model: ModelFolder,
  settings: Settings,
  log: (m: string) => void,
): Promise<OptimizedResult> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'qa-bench-optimized-'));
  const bundle = await ChildBundle.build();
  const children: Array<Awaited<ReturnType<ChildBundle['start']>>['child']> = [];
  const floors: Floor[] = [];
  const phaseServers: PhaseServer[] = [];
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
      const inPlace = await Floor.create(await readFile(path.join(dir, ORT_FORMAT)), t, true, IN_PLACE);
      floors.push(standard, optimized, unpacked, inPlace);
      // The optimized graph's server records where each request's time goes (phases.ts); the
      // standard graph's does not, so its row is also the control for what recording costs.
      const serve = async (preferOptimized: boolean) => {
        const started = await bundle.start({
          BENCH_MODE: preferOptimized ? 'phases' : 'serve',
          MODEL_URI: dir,
          MODEL_THREADS: String(t),
          MODEL_QUANTIZED: 'true',
          MODEL_OPTIMIZED: String(preferOptimized),
        });
        children.push(started.child);
        return { child: started.child, url: (started.report as ServeReport).url };
      };
      const [{ child: phaseChild, url: urlOptimized }, { url: urlStandard }] = [await serve(true), await serve(false)];
      const sent: Sent[] = [];
      phaseServers.push({ child: phaseChild, sent });
      // The client's own time of each request to the recording server, in the order sent.
      const timed = (id: string, query: string, vars: Record<string, unknown>) => async () => {
        const t0 = performance.now();
        await postGraphQL(urlOptimized, query, vars);
        sent.push({ id, ms: performance.now() - t0 });
      };
      // The fixed cost of a GraphQL round trip between the two processes, with no model work: what
      // separates the GraphQL rows from the raw ones besides tokenizing and span search.
      cases.push({ id: `graphql-empty/${t}`, run: timed(`graphql-empty/${t}`, '{ __typename }', {}) });
      SIZES.forEach((size, i) => {
        const id = (what: string) => `${what}/${t}/${size.name}`;
        const [fs, fo] = [standard.feeds(windows[i]!), optimized.feeds(windows[i]!)];
        const vars = { q: inputs[i]!.question, c: inputs[i]!.context };
        cases.push(
          { id: id('raw-standard'), run: () => standard.run(fs) },
          { id: id('raw-optimized'), run: () => optimized.run(fo) },
          { id: id('raw-unpacked'), run: () => unpacked.run(fo) },
          { id: id('raw-ort'), run: () => inPlace.run(fo) },
          { id: id('graphql-optimized'), run: timed(id('graphql-optimized'), ANSWER_QUERY, vars) },
          { id: id('graphql-standard'), run: () => postGraphQL(urlStandard, ANSWER_QUERY, vars) },
        );
      });
    }
    log(`optimized: ${cases.length} cases × ${settings.rounds} rounds (+${settings.warmup} warm-up)`);
    const runs = await interleave(cases, { warmup: settings.warmup, rounds: settings.rounds, seed: 16, pauseMs: 25 });
    const phases = await collectPhases(phaseServers, settings.warmup);

    log('optimized: onnxruntime profiles of both graphs and of the GEMM ceiling kernels');
    const { d, ff, heads } = distilbertDims(model.config);
    const kernels = ceilingKernels(d, ff, heads, tokens['~380']!);
    const profiled = await profileAll(
      dir,
      windows.map((w) => w[0]!),
      kernels,
      settings.quick ? 5 : 15,
    );
    const macs = Object.fromEntries(SIZES.map((s) => [s.name, distilbertMacs(model.config, tokens[s.name]!)]));
    return {
      optimizeMs,
      checkMaxAbsDiff: check.maxAbsDiff,
      checkWindows: check.windows,
      tokens,
      runs,
      creates,
      peak: nominalInt8Peak(),
      macs,
      phases,
      ...profiled,
    };
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    for (const f of floors) await f.release();
    bundle.dispose();
    await rm(work, { recursive: true, force: true });
  }
}
