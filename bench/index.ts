/**
 * `npm run bench [-- --quick] [-- --sections latency,batch,cold,memory,budget] [-- --no-write] [-- --analysis-only]`
 * `npm run bench -- --sections optimized`: the optimized graph (`model optimize`) alone, spliced into docs/benchmarks.md
 *
 * How close the API is to raw onnxruntime and how it compares with transformers.js, on the
 * full-size random-weight DistilBERT (generated on first use). Prints markdown and writes
 * docs/benchmarks.md. Not part of `npm test`: it takes minutes and its numbers depend on the load
 * of a shared machine, which is why every comparison is a ratio of variants run interleaved.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { closeClient } from './graphql-client';
import { describeMachine } from './machine';
import { makeInput, type SizedInput } from './inputs';
import { fullModel } from './model-folder';
import {
  coldDownloadSummary,
  coldTable,
  latencyTable,
  machineTable,
  memoryTable,
  targetsTable,
  type Target,
} from './report';
import type { Row, Settings } from './report-types';
import { ChildBundle } from './children';
import { runBatch } from './sections/batch';
import { runColdSection, type ColdSection } from './sections/cold-start';
import { runLatency, SIZES } from './sections/latency';
import { runMemory, type MemoryRow } from './sections/memory';
import { runOverhead, type OverheadResult } from './sections/overhead';
import { runContention } from './sections/contention';
import { budgetTables, runBudget } from './sections/budget';
import { runOptimized } from './sections/optimized';
import { keptSection, OPTIMIZED_HEADING, SECTIONS_MEASURED_ALONE, spliceSection } from './doc-sections';
import { optimizedTables } from './sections/optimized-report';
import { ratio, type Summary } from './stats';

const REPO = path.resolve(__dirname, '..');
const DOC = path.join(REPO, 'docs', 'benchmarks.md');
const ALL_SECTIONS = ['latency', 'batch', 'cold', 'memory', 'budget'] as const;
const THREADS = [1, 2];
const ANALYSIS_MARKER = '<!-- analysis: bench/analysis.md -->';

function readAnalysis(): string {
  const file = path.join(__dirname, 'analysis.md');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
}

/** Full: ~7 minutes on 2 busy cores; quick: ~3. */
function benchSettings(quick: boolean): Settings {
  return quick ? { quick: true, rounds: 5, warmup: 1 } : { quick: false, rounds: 24, warmup: 2 };
}

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      sections: { type: 'string', default: ALL_SECTIONS.join(',') },
      'no-write': { type: 'boolean', default: false },
      // Re-reads bench/analysis.md into the existing docs/benchmarks.md without measuring.
      'analysis-only': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values['analysis-only']) {
    const measured = readFileSync(DOC, 'utf8').split(ANALYSIS_MARKER)[0]!;
    writeFileSync(DOC, `${measured}${ANALYSIS_MARKER}\n\n${readAnalysis()}\n`);
    log(`updated the analysis in ${path.relative(process.cwd(), DOC)}`);
    return;
  }
  const started = performance.now();
  const loadAtStart = os.loadavg();
  const sections = new Set(values.sections.split(',').map((s) => s.trim()));
  for (const s of sections)
    if (!(ALL_SECTIONS as readonly string[]).includes(s) && s !== 'optimized') throw new Error(`unknown section ${s}`);
  if (sections.has('optimized')) {
    // Measured alone (its own servers and sessions), spliced in place of its previous version.
    if (sections.size > 1) throw new Error('--sections optimized runs alone');
    const model = await fullModel(log);
    const tables = optimizedTables(await runOptimized(model, benchSettings(values.quick), log));
    const section = optimizedSection(tables, (performance.now() - started) / 60_000, loadAtStart);
    process.stdout.write(section);
    closeClient();
    if (!values['no-write'] && existsSync(DOC)) {
      writeFileSync(DOC, spliceSection(readFileSync(DOC, 'utf8'), OPTIMIZED_HEADING, section, '## Targets'));
      log(`updated the optimized-graph section of ${path.relative(process.cwd(), DOC)}`);
    }
    return;
  }
  if (sections.size === 1 && sections.has('budget')) {
    // The budget section needs nothing from the others: measured alone, and written into the
    // existing docs/benchmarks.md in place of its previous version (the other sections keep theirs).
    const model = await fullModel(log);
    const section = budgetSection(
      budgetTables(await runBudget(model, benchSettings(values.quick), log)),
      (performance.now() - started) / 60_000,
    );
    process.stdout.write(section);
    closeClient();
    if (!values['no-write'] && existsSync(DOC)) {
      writeFileSync(DOC, spliceSection(readFileSync(DOC, 'utf8'), BUDGET_HEADING, section, '## Targets'));
      log(`updated the budget section of ${path.relative(process.cwd(), DOC)}`);
    }
    return;
  }
  // Latency feeds the others (their thread count and servers), so it always runs.
  sections.add('latency');
  const settings: Settings = benchSettings(values.quick);
  const machine = describeMachine();
  const model = await fullModel(log);

  log('latency: floor, engine, GraphQL, peer at 1 and 2 threads');
  const latency = await runLatency(model, THREADS, settings, log);

  log('contention: 1 vs 2 threads with one core busy');
  const contention = await runContention(model, latency.floors, latency.inputs, settings.quick ? 6 : 15, log);

  log('overhead: the same paths on the tiny model (1 thread)');
  const overhead = await runOverhead(latency.inputs, settings.quick ? 15 : 40, log);

  // Later sections run at the faster thread count for the API at ~380 tokens, measured just now.
  const at = (what: string, t: number, size: string) => latency.summaries.get(`${what}/${t}/${size}`)!;
  const chosenThreads = ratio(at('graphql', 1, '~380'), at('graphql', 2, '~380')) <= 1 ? 1 : 2;
  log(`later sections use ${chosenThreads} thread(s)`);

  let batchRows: Row[] = [];
  if (sections.has('batch')) {
    log('batch: 16 in one request vs 16 sequential');
    batchRows = await runBatch(
      model,
      {
        threads: chosenThreads,
        server: latency.servers.get(chosenThreads)!,
        floor: latency.floors.get(`int8/${chosenThreads}`)!,
        peer: latency.peers.get(chosenThreads)!,
      },
      settings,
      log,
    );
  }

  // The in-process sessions are done: free their memory and threads before measuring children.
  for (const server of latency.servers.values()) await server.close();
  for (const engine of latency.engines.values()) await engine.dispose();
  for (const floor of latency.floors.values()) await floor.release();
  for (const peer of latency.peers.values()) await peer.dispose();
  closeClient();

  let budget = budgetSection('(not run)');
  if (sections.has('budget')) {
    log('budget: window cost at the worst geometry; a cheap request beside a maximal one');
    budget = budgetSection(budgetTables(await runBudget(model, settings, log)));
    closeClient();
  }

  let coldSection: ColdSection | undefined;
  const memoryRows: MemoryRow[] = [];
  if (sections.has('cold') || sections.has('memory')) {
    const bundle = await ChildBundle.build();
    try {
      if (sections.has('cold')) {
        log('cold start: local folder, and S3 through the throttling proxy (one stream, ranged, spilled)');
        coldSection = await runColdSection(
          bundle,
          model,
          latency.inputs[0]!,
          chosenThreads,
          settings.quick ? 2 : 5,
          log,
        );
      }
      if (sections.has('memory')) {
        log('memory: peak RSS over 200 requests');
        const inputs = await memoryInputs(model.tokenizer, latency.inputs);
        for (const precision of ['int8', 'fp32'] as const) {
          memoryRows.push(await runMemory(bundle, model.dir, precision, inputs, chosenThreads, log));
        }
        closeClient();
      }
    } finally {
      bundle.dispose();
    }
  }

  const doc = render({
    machine: machineTable(machine, settings),
    latency: latencyTable(latency.rows),
    threadsAndPrecision: threadsTable(latency.summaries),
    overhead: overheadTable(overhead, latency.summaries),
    contention: contentionTable(contention),
    chosenThreads,
    batch: batchRows.length ? latencyTable(batchRows) : '(not run)',
    cold: coldSection ? `${coldTable(coldSection.rows)}\n\n${coldDownloadSummary(coldSection)}` : '(not run)',
    memory: memoryRows.length ? memoryTable(memoryRows) : '(not run)',
    budget,
    targets: targetsTable(targets(latency.summaries, batchRows, coldSection, memoryRows)),
    minutes: (performance.now() - started) / 60_000,
  });
  process.stdout.write(doc);
  if (!values['no-write']) {
    // A full run does not measure the sections measured alone: keep the ones their runs wrote.
    const old = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '';
    let page = doc;
    for (const heading of SECTIONS_MEASURED_ALONE) {
      const kept = keptSection(old, heading);
      if (kept) page = spliceSection(page, heading, kept, heading === OPTIMIZED_HEADING ? '## Targets' : undefined);
    }
    writeFileSync(DOC, page);
    log(`wrote ${path.relative(process.cwd(), DOC)}`);
  }
}

const BUDGET_HEADING = '## Work budget and fair turns';

/** The budget section; `minutes` when it was measured in a run of its own (`--sections budget`). */
function budgetSection(tables: string, minutes?: number): string {
  const own =
    minutes === undefined
      ? ''
      : ` This section was measured in a run of its own (\`--sections budget\`, ${minutes.toFixed(1)} minutes, ${new Date().toISOString().slice(0, 10)}).`;
  return `${BUDGET_HEADING}

What one window costs at the worst geometry a request may ask for (512 tokens; one thread, as on a
1,769 MB Lambda), which is how the default budget (\`API_MAX_REQUEST_WINDOWS\`) is derived
(docs/operations.md, "Work budget"); then a cheap request sent while a maximal one (the whole budget,
every window 512 tokens) runs on the same server, against each alone.${own}

${tables}

`;
}

/** The optimized-graph section, measured by `--sections optimized` (bench/sections/optimized.ts). */
function optimizedSection(tables: string, minutes: number, load: number[]): string {
  return `${OPTIMIZED_HEADING}

The int8 file as \`npm run model -- optimize\` rewrites it (onnxruntime's \`extended\`-level graph,
saved offline; docs/engine.md, "The optimized graph") against the standard int8 export, interleaved
in one run on the same windows. GraphQL rows are timed by this process against a server in a
separate process (bench/child/serve.ts, the production loader), as users call it; the
optimized graph's server also records where each request's time goes. Rates are read against this
CPU's GEMMs as onnxruntime runs them alone, measured in the same run. Measured in a run of its own
(\`--sections optimized\`, ${minutes.toFixed(1)} minutes, ${new Date().toISOString().slice(0, 10)}, load average at start ${load.map((l) => l.toFixed(1)).join(' / ')}).

${tables}

`;
}

/** 20 requests' worth of inputs, cycled: mostly short and medium, one long context. */
async function memoryInputs(
  tokenizer: Parameters<typeof makeInput>[0],
  latencyInputs: readonly SizedInput[],
): Promise<SizedInput[]> {
  const [s150, s380, s2000] = latencyInputs as [SizedInput, SizedInput, SizedInput];
  const short = await makeInput(tokenizer, { sequenceTokens: 48 }, 300);
  return [...Array.from({ length: 6 }, () => [short, s150, s380]).flat(), s150, s2000];
}

/** 1 vs 2 threads, and fp32 vs int8, from the same interleaved samples. */
function threadsTable(s: Map<string, Summary>): string {
  const lines = [
    '| Variant | Tokens | 1 thread (ms) | 2 threads (ms) | 1 thread / 2 threads | fp32 / int8 (floor, same threads) |',
    '| --- | --- | --: | --: | --: | --: |',
  ];
  for (const what of ['floor-int8', 'floor-fp32', 'engine', 'graphql', 'peer']) {
    for (const size of SIZES) {
      const one = s.get(`${what}/1/${size.name}`)!;
      const two = s.get(`${what}/2/${size.name}`)!;
      let precision = '';
      if (what === 'floor-fp32') {
        const r = (t: number) =>
          ratio(s.get(`floor-fp32/${t}/${size.name}`)!, s.get(`floor-int8/${t}/${size.name}`)!).toFixed(2);
        precision = `${r(1)} (1 thread), ${r(2)} (2 threads)`;
      }
      lines.push(
        `| ${what} | ${size.name} | ${one.median.toFixed(1)} | ${two.median.toFixed(1)} | ${ratio(one, two).toFixed(2)} | ${precision} |`,
      );
    }
  }
  return lines.join('\n');
}

function contentionTable(s: Map<string, Summary>): string {
  const lines = [
    '| Floor int8, one core busy | 1 thread (ms) | 2 threads (ms) | 1 thread / 2 threads |',
    '| --- | --: | --: | --: |',
  ];
  for (const size of ['~150', '~380']) {
    const [one, two] = [s.get(`1/${size}`)!, s.get(`2/${size}`)!];
    lines.push(
      `| ${size} tokens | ${one.median.toFixed(1)} (${one.min.toFixed(0)}–${one.max.toFixed(0)}) | ${two.median.toFixed(1)} (${two.min.toFixed(0)}–${two.max.toFixed(0)}) | ${ratio(one, two).toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Overheads in ms (tiny model) and what they allow at full size: the best GraphQL/floor ratio and
 * the best peer/ours ratio if the full-size rows were floor + overhead exactly.
 */
function overheadTable(o: OverheadResult, full: Map<string, Summary>): string {
  const lines = [
    '| Tokens | Tiny floor (ms) | Engine overhead (ms) | GraphQL + HTTP overhead (ms) | Peer overhead (ms) | Full floor int8 1 / 2 threads (ms) | Best GraphQL / floor, 1 / 2 threads | Best peer / engine, 1 / 2 threads |',
    '| --- | --: | --: | --: | --: | --: | --: | --: |',
  ];
  for (const size of SIZES) {
    const m = (what: string) => o.summaries.get(`${what}/${size.name}`)!.median;
    const floor = m('floor');
    const [eng, gql, peer] = [m('engine') - floor, m('graphql') - floor, m('peer') - floor];
    const f = THREADS.map((t) => full.get(`floor-int8/${t}/${size.name}`)!.median);
    const bestGql = f.map((x) => ((x + gql) / x).toFixed(2)).join(' / ');
    const bestPeer = f.map((x) => ((x + peer) / (x + eng)).toFixed(2)).join(' / ');
    lines.push(
      `| ${size.name} | ${floor.toFixed(2)} | ${eng.toFixed(2)} | ${gql.toFixed(2)} | ${peer.toFixed(2)} | ${f.map((x) => x.toFixed(0)).join(' / ')} | ${bestGql} | ${size.name === '~2,000' ? '(peer truncates)' : bestPeer} |`,
    );
  }
  const b = (k: string) => o.summaries.get(k)!.median;
  lines.push(
    '',
    '| 16 questions, tiny model | One request (ms) | 16 requests (ms) | Saved per request (ms) | 16 requests / one |',
    '| --- | --: | --: | --: | --: |',
  );
  for (const set of ['mixed', 'short']) {
    const [one, seq] = [b(`one/${set}`), b(`seq/${set}`)];
    lines.push(
      `| ${set} | ${one.toFixed(2)} | ${seq.toFixed(2)} | ${((seq - one) / 15).toFixed(2)} | ${(seq / one).toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}

function targets(
  s: Map<string, Summary>,
  batch: readonly Row[],
  cold: ColdSection | undefined,
  memory: readonly MemoryRow[],
): Target[] {
  const out: Target[] = [];
  for (const t of THREADS) {
    const m = (what: string, size: string) => s.get(`${what}/${t}/${size}`)!;
    const g = ratio(m('graphql', '~150'), m('floor-int8', '~150'));
    out.push({
      name: `GraphQL over HTTP / floor, ~150 tokens, ${t} thread(s)`,
      goal: '≤ 1.10',
      measured: g.toFixed(2),
      met: g <= 1.1,
    });
    const p380 = ratio(m('peer', '~380'), m('engine', '~380'));
    out.push({
      name: `peer / ours (engine), ~380 tokens, ${t} thread(s)`,
      goal: '≥ 1.8',
      measured: p380.toFixed(2),
      met: p380 >= 1.8,
    });
    const p150 = ratio(m('peer', '~150'), m('engine', '~150'));
    out.push({
      name: `peer / ours (engine), ~150 tokens, ${t} thread(s)`,
      goal: '≥ 1.2',
      measured: p150.toFixed(2),
      met: p150 >= 1.2,
    });
  }
  const row = (prefix: string, set: string) => batch.find((r) => r.label.startsWith(prefix) && r.label.endsWith(set));
  for (const [set, goal, min] of [
    ['mixed lengths', '≥ 1.0 (no slower)', 1.0],
    ['short (~48 tokens)', '≥ 1.1', 1.1],
  ] as const) {
    const one = row('16 in one', set);
    const seq = row('16 sequential GraphQL', set);
    if (!one || !seq) continue;
    const r = ratio(seq.summary, one.summary);
    out.push({ name: `16 sequential / 16 in one request, ${set}`, goal, measured: r.toFixed(2), met: r >= min });
  }
  if (cold) {
    out.push({
      name: 'model download, one stream / ranged (S3 via proxy)',
      goal: '≥ 3',
      measured: cold.downloadSpeedup.toFixed(2),
      met: cold.downloadSpeedup >= 3,
    });
    for (const c of cold.rows) {
      out.push({
        name: `cold start / sum of parts, ${c.source}`,
        goal: '≤ 1.3',
        measured: c.ratio.median.toFixed(2),
        met: c.ratio.median <= 1.3,
      });
    }
  }
  const int8 = memory.find((m) => m.precision === 'int8');
  if (int8)
    out.push({
      name: 'int8 peak RSS, 200 requests',
      goal: '≤ 400 MB',
      measured: `${int8.peakRssMb.toFixed(0)} MB`,
      met: int8.peakRssMb <= 400,
    });
  return out;
}

function render(
  parts: Record<
    | 'machine'
    | 'latency'
    | 'threadsAndPrecision'
    | 'overhead'
    | 'contention'
    | 'batch'
    | 'cold'
    | 'memory'
    | 'budget'
    | 'targets',
    string
  > & { chosenThreads: number; minutes: number },
): string {
  return `# Benchmarks

Written by \`npm run bench\` (bench/); do not edit by hand — the prose at the end comes from
bench/analysis.md. This run took ${parts.minutes.toFixed(1)} minutes.

**Absolute times are noisy.** These machines are shared (other engineers run test suites on the same
2 cores while this runs), so read the ratios, not the milliseconds: every compared variant ran
interleaved with the others in the same rounds (a fresh random order each round, after warm-up), so
the load falls on all of them alike. Times are medians, with min–max and the number of samples;
ratios (× floor, peer / this, 1 thread / 2 threads, 16 requests / one) are the median of the
per-round ratios of the two variants (paired: a round slowed by other load slows both).

The model is the full-size DistilBERT-for-QA (6 layers, dim 768, 66 M parameters) with seeded random
weights from scripts/model-generator: same graph and cost as distilbert-base-cased-distilled-squad, but
its answers mean nothing. int8 is onnx/model_quantized.onnx (dynamic quantization), fp32 is
onnx/model.onnx.

## Machine

${parts.machine}

## One question: floor, engine, GraphQL, peer

- **floor**: onnxruntime \`session.run\` alone on exactly the windows the engine cuts (batch 1,
  unpadded, tensors prebuilt), same session options as the engine.
- **engine**: \`QuestionAnswerer.answer\` (tokenize, windows, runs, span search, offsets).
- **GraphQL**: \`query { answer(question, context) { text score start end } }\` POSTed over
  keep-alive HTTP to the local server (src/local-server.ts, production Apollo configuration) in this
  process, serving the same engine.
- **peer**: transformers.js \`pipeline('question-answering')\` on the same folder (\`dtype: 'q8'\`,
  same intra-op threads, \`env.allowRemoteModels = false\`). It does not window: on the long
  context it truncates to 512 tokens and answers from those only, so that row does less work than
  ours and its ratio is not like for like.
- **× floor** is this row over its floor; **peer / this** is the peer over this row (above 1 means
  this row is faster than transformers.js).

${parts.latency}

### Threads and precision (same samples)

${parts.threadsAndPrecision}

### Threads when a core is taken

The same int8 floor sessions, 1 against 2 threads, while another process spins on one core (a
shared machine, a Lambda function with less than a full vCPU of time, or a second request in the
same process). Above 1 in the last column, 2 threads still win.

${parts.contention}

### Our overhead, measured apart from the model

The same four paths on the tiny test model (dim 32, 2 layers, same tokenizer, 1 thread), where a
window costs well under a millisecond, so what remains is the cost of our code (engine: tokenize,
windows, span search, offsets; GraphQL: Apollo, DataLoader, JSON, HTTP on loopback) and of the
peer's (its tokenizer, and scoring and sorting every start/end pair). Overhead = median − tiny
floor. The last two columns are the best ratios the full-size rows could show if they were exactly
their floor plus these overheads: they bound what any fix of ours can reach.

${parts.overhead}

The sections below use **${parts.chosenThreads} thread(s)**: the faster for GraphQL at ~380 tokens in this run.

## 16 questions: one request against sixteen

One request with 16 aliased \`answer\` fields (one DataLoader batch, one \`answerMany\` call)
against the same 16 questions as 16 sequential requests. Mixed: four each of ~48, ~150, ~380 and
~2,000-token contexts, every text different.

${parts.batch}

## Cold start

A fresh Node process (the child bundled with esbuild as the Lambda code is, native addons external)
to its first answer (~150 tokens), int8, through the production loader. The S3 rows read from
s3rver through the throttling proxy (test/helpers/throttle-proxy.ts: S3's per-connection bandwidth
and time to first byte, as seen from Lambda), the model pushed as a version with its manifest:
one stream (\`MODEL_S3_PART_BYTES=0\`), ranged reads (the defaults), and ranged with the body
spilled to /tmp (\`MODEL_MAX_IN_MEMORY_BYTES\` 16 MiB). \`npm run bench:cold -- --sources\` runs this section alone; \`npm run bench:cold\` measures the cold start cold (below, "Cold start measured cold").

${parts.cold}

## Peak memory while serving

A fresh process loads the model from the local folder and serves 200 GraphQL \`answer\` requests,
four at a time, of mixed lengths (short, ~150, ~380, and a ~2,000-token context in one of 20).

${parts.memory}

${parts.budget}

## Targets

Goals the numbers are read against (not test assertions).

${parts.targets}

${ANALYSIS_MARKER}

${readAnalysis()}
`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
