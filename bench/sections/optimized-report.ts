/** The optimized-graph section's tables, as markdown: results in, text out. */
import type { Precision } from '../gemm-ceiling';
import { PHASES, type PhaseId } from '../phases';
import { ratio, summarize } from '../stats';
import { SERVED_CREATION, SIZES, THREADS, type OpTime, type OptimizedResult } from './optimized';

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const gmacPerSecond = (macs: number, ms: number) => macs / 1e9 / (ms / 1000);

/** The best median GMAC/s of the measured GEMMs of one precision at `threads`, and which it was. */
function ceiling(r: OptimizedResult, precision: Precision, threads: number): { gmacs: number; label: string } {
  const rates = r.ceilings
    .filter((c) => c.kernel.precision === precision && c.threads === threads)
    .map((c) => ({ gmacs: gmacPerSecond(c.kernel.macs, c.times.median), label: c.kernel.label }));
  return rates.reduce((a, b) => (b.gmacs > a.gmacs ? b : a));
}

/**
 * The GraphQL answer's extra over the raw `session.run` (optimized graph), split into phases measured
 * in the server and the client for the same requests (phases.ts), as medians.
 */
function phaseTable(r: OptimizedResult): string {
  const cols = THREADS.flatMap((t) => SIZES.map((size) => ({ t, size: size.name })));
  const median = (id: string, phase: PhaseId) => summarize(r.phases.get(id)!.map((p) => p[phase])).median;
  const raw = (t: number, size: string) => r.runs.get(`raw-optimized/${t}/${size}`)!.median;
  const extra = (t: number, size: string) => r.runs.get(`graphql-optimized/${t}/${size}`)!.median - raw(t, size);
  const row = (label: string, value: (t: number, size: string) => number, share = true) =>
    `| ${label} | ${cols.map(({ t, size }) => `${value(t, size).toFixed(2)} | ${share ? pct(value(t, size) / extra(t, size)) : ''}`).join(' | ')} |`;
  const id = (t: number, size: string) => `graphql-optimized/${t}/${size}`;
  const around = PHASES.filter((p) => p.id !== 'run');
  const lines = [
    `| Phase (GraphQL \`answer\`, optimized graph) | ${cols.map(({ t, size }) => `${t} thread${t > 1 ? 's' : ''}, ${r.tokens[size]} tokens: ms | share of the extra`).join(' | ')} |`,
    `| --- | ${cols.map(() => '--: | --:').join(' | ')} |`,
    ...around.map((p) => row(p.label, (t, size) => median(id(t, size), p.id))),
    row('**Sum of the medians above**', (t, size) => around.reduce((a, p) => a + median(id(t, size), p.id), 0)),
    row(
      "**Per request, the client's time − that request's `session.run` in the server** (median; the rows above split it)",
      (t, size) => summarize(r.phases.get(id(t, size))!.map((p) => around.reduce((a, q) => a + p[q.id], 0))).median,
    ),
    row(
      '`session.run` in the server − raw `session.run` in the bench process (medians)',
      (t, size) => median(id(t, size), 'run') - raw(t, size),
    ),
    row('**The extra: GraphQL − raw `session.run`** (medians of the table above)', extra),
    row('For reference: `session.run` in the server', (t, size) => median(id(t, size), 'run'), false),
    row(
      'For reference: `{ __typename }`, client ↔ server',
      (t) => summarize(r.phases.get(`graphql-empty/${t}`)!.map((p) => p.client)).median,
      false,
    ),
    row(
      'For reference: `{ __typename }`, in the server',
      (t) => summarize(r.phases.get(`graphql-empty/${t}`)!.map((p) => p.after)).median,
      false,
    ),
  ];
  const n = r.phases.get(`graphql-optimized/1/${SIZES[0].name}`)!.length;
  lines.push(
    '',
    `Medians over the ${n} timed requests of each column; medians of parts do not add up to the median of their sum, and the extra is a difference of two medians of other samples, so the rows are read one by one. The server's phases are the time between marks (src/support/phase-marks.ts, recorded only in this bench's ` +
      "server child, `BENCH_MODE=phases`), from Node's `http.server.request.start` to `http.server.response.finish` diagnostics channels; " +
      "*client ↔ server* is the client's own time for the same request minus that span. The standard graph's server records nothing: its row above is the control for what recording costs.",
  );
  return lines.join('\n');
}

/** The measured GEMM ceilings, the window's rates against them, and how each figure is computed. */
function gemmTables(r: OptimizedResult): string {
  const lines = [
    "This CPU's GEMMs through onnxruntime (bench/gemm-ceiling.ts): one-GEMM graphs with the model's shapes, built with the test-model tooling, " +
      "engine session options, kernel time of the GEMM node from onnxruntime's profiler (median of the timed runs), profiled in the same alternated runs as the model below:",
    '',
    '| GEMM alone | Threads | Kernel ms, median | Min–max | n | GMAC | GMAC/s (median) |',
    '| --- | --: | --: | --: | --: | --: | --: |',
  ];
  for (const c of r.ceilings) {
    const s = c.times;
    lines.push(
      `| ${c.kernel.label} | ${c.threads} | ${s.median.toFixed(2)} | ${s.min.toFixed(2)}–${s.max.toFixed(2)} | ${s.n} | ${(c.kernel.macs / 1e9).toFixed(3)} | ${gmacPerSecond(c.kernel.macs, s.median).toFixed(0)} |`,
    );
  }
  const best = (p: Precision) =>
    THREADS.map(
      (t) =>
        `${ceiling(r, p, t).gmacs.toFixed(0)} GMAC/s on ${t} thread${t > 1 ? 's' : ''} (${ceiling(r, p, t).label})`,
    ).join(', ');
  lines.push(
    '',
    `Ceilings used below, the best median of each precision: int8 ${best('int8')}; fp32 ${best('fp32')}.`,
    '',
    '| Threads | Tokens | Window: GMAC/s | Share of int8 ceiling | int8 ops: kernel ms | int8 GMAC/s | Share of int8 ceiling | fp32 attention products: kernel ms | fp32 GMAC/s | Share of fp32 ceiling | All kernels: ms | Raw `session.run`: ms |',
    '| --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |',
  );
  for (const t of THREADS) {
    for (const size of SIZES) {
      const macs = r.macs[size.name]!;
      const raw = r.runs.get(`raw-standard/${t}/${size.name}`)!.median;
      const k = r.kernels.get(`${t}/${size.name}`)!;
      const window = gmacPerSecond(macs.total, raw);
      const int8 = gmacPerSecond(macs.int8, k.int8Ms);
      const attention = gmacPerSecond(macs.total - macs.int8, k.attentionMs);
      const [i8, f32] = [ceiling(r, 'int8', t).gmacs, ceiling(r, 'fp32', t).gmacs];
      lines.push(
        `| ${t} | ${r.tokens[size.name]} | ${window.toFixed(0)} | ${pct(window / i8)} | ${k.int8Ms.toFixed(2)} | ${int8.toFixed(0)} | ${pct(int8 / i8)} | ` +
          `${k.attentionMs.toFixed(2)} | ${attention.toFixed(0)} | ${pct(attention / f32)} | ${k.allMs.toFixed(2)} | ${raw.toFixed(1)} |`,
      );
    }
  }
  const nominal = r.peak.macsPerCycle * r.peak.ghz;
  lines.push(
    '',
    `How each figure is computed. MACs per window from distilbertMacs (bench/macs.ts): ` +
      SIZES.map(
        (s) =>
          `${(r.macs[s.name]!.total / 1e9).toFixed(2)} GMAC at ${r.tokens[s.name]} tokens, of which ${((r.macs[s.name]!.total - r.macs[s.name]!.int8) / 1e9).toFixed(2)} in the fp32 attention products (6 layers × 2 × n² × 768)`,
      ).join('; ') +
      `. *Window*: all MACs over the standard graph's raw \`session.run\` median (the table above), int8 and fp32 work together, read against the int8 ceiling. ` +
      `*int8 ops*: the int8 MACs over the median per run of the kernel time of \`DynamicQuantizeMatMul\`, \`MatMulIntegerToFloat\` and \`DynamicQuantizeLinear\` (the quantization of the Q/K/V input), standard graph, onnxruntime profiler. ` +
      `*fp32 attention products*: their MACs over the kernel time of \`FusedMatMul\` (QKᵀ) and \`MatMul\` (AV), the only fp32 GEMMs left in the graph. ` +
      `*All kernels* is the sum of every node's kernel time per profiled run, for scale against the raw median (other runs, and the profiler on).`,
    '',
    `Side note, the nominal figure this replaces: ${r.peak.why}, i.e. ${nominal.toFixed(0)} GMAC/s per thread. ` +
      `The int8 GEMMs measure above it (${ceiling(r, 'int8', 1).gmacs.toFixed(0)} GMAC/s on one thread), so one factor is wrong: at ${r.peak.macsPerCycle} MAC/cycle the core must run at ` +
      `${(ceiling(r, 'int8', 1).gmacs / r.peak.macsPerCycle).toFixed(2)} GHz or more, not the ${r.peak.ghz.toFixed(2)} GHz \`cpu MHz\` reports in this VM (no cycle counter is exposed here to measure the clock).`,
  );
  return lines.join('\n');
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
    '| What | Threads | Tokens | Median ms | Min–max ms | n | × standard raw | GMAC/s | Share of int8 ceiling |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: |',
  );
  const labels: Record<string, string> = {
    'raw-standard': 'standard int8, raw `session.run`',
    'raw-optimized': 'optimized, raw `session.run`',
    'raw-unpacked': 'optimized, weight pre-packing off, raw `session.run`',
    'raw-ort': 'optimized, ORT format in place (served), raw `session.run`',
    'graphql-optimized': 'GraphQL `answer`, optimized graph (ORT format), server in another process',
    'graphql-standard': 'GraphQL `answer`, standard graph, server in another process',
  };
  for (const t of THREADS) {
    for (const size of SIZES) {
      for (const what of Object.keys(labels)) {
        const s = run(what, t, size.name);
        const raw = what.startsWith('raw');
        const gmacs = gmacPerSecond(r.macs[size.name]!.total, s.median);
        lines.push(
          `| ${labels[what]} | ${t} | ${r.tokens[size.name]} | ${f1(s.median)} | ${f1(s.min)}–${f1(s.max)} | ${s.n} | ${ratio(s, run('raw-standard', t, size.name)).toFixed(2)} | ` +
            `${raw ? gmacs.toFixed(0) : ''} | ${raw ? pct(gmacs / ceiling(r, 'int8', t).gmacs) : ''} |`,
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
    "Where the GraphQL answer's extra over the raw `session.run` goes (the optimized graph's server, the same requests as the rows above):",
    '',
    phaseTable(r),
    '',
    gemmTables(r),
    '',
    'Session creation below is a process\'s later sessions, each graph\'s first one discarded: it compares the graphs. The first session of a fresh process, which is what a cold start pays, is in "Cold start measured cold" (`npm run bench:cold`).',
    '',
    '| Session creation, later sessions of a process (1 thread, from bytes in memory) | Median ms | Min–max ms | n | × standard |',
    '| --- | --: | --: | --: | --: |',
  );
  const std = r.creates.get('standard (level all)')!;
  for (const [name, s] of r.creates)
    lines.push(`| ${name} | ${f1(s.median)} | ${f1(s.min)}–${f1(s.max)} | ${s.n} | ${ratio(s, std).toFixed(2)} |`);
  const gq = ratio(run('graphql-optimized', 1, '~380'), run('raw-standard', 1, '~380'));
  const create = ratio(r.creates.get(SERVED_CREATION)!, std);
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
