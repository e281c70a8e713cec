/**
 * `npm run bench:cold [-- --runs N] [-- --threads T] [-- --no-artifact] [-- --sources]`
 *
 * The cold start, measured cold, for the generated full-size model and a PyTorch export side by
 * side, each with the standard file served and with `model optimize`'s ORT file served (what the
 * deploy guide publishes), on one core (taskset, as a 1,769 MB Lambda has one vCPU) and on two:
 *   1. the cold load in a fresh process (download from the S3 stand-in at S3's per-connection
 *      rate, the process's first session, the tokenizer), with and without the loader's overlap,
 *      against its parts measured alone in fresh processes (sections/cold-overlap.ts);
 *   2. the packaged Lambda artifact on Node 22, a fresh process to its first answer, with every
 *      part (sections/artifact-first-answer.ts);
 * then a table of the targets with their ratios. `--sources` adds the older comparison of the
 * loader's sources (local folder, one stream, ranged, spilled; sections/cold-start.ts). Prints
 * markdown and writes it as its section of docs/benchmarks.md (not with `--no-write`), and the
 * PyTorch model's cache under test-models/ (first run only).
 */
import { parseArgs } from 'node:util';
import { ChildBundle } from './children';
import { COLD_HEADING, sectionHead, writeSection } from './doc-sections';
import { artifactTable, coldTargets, overlapTable, targetsTable } from './cold-report';
import { makeInput } from './inputs';
import { fullModel, optimizedModel, pytorchModel } from './model-folder';
import { coldDownloadSummary, coldTable } from './report';
import { runArtifactSection, type ArtifactSection } from './sections/artifact-first-answer';
import { runOverlapSection } from './sections/cold-overlap';
import { runColdSection } from './sections/cold-start';
import { SIZES } from './sections/latency';
import { DEFAULT_THROTTLE } from '../test/helpers/throttle-proxy';

function log(message: string): void {
  process.stderr.write(`[bench:cold ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      threads: { type: 'string', default: '1' },
      'no-artifact': { type: 'boolean', default: false },
      sources: { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
      // S3's per-connection rate as seen from Lambda; another rate shows what overlap does when
      // the network, not this machine's CPU, bounds the download (with --no-write: the targets are at 85).
      'per-connection-mbps': { type: 'string', default: String(DEFAULT_THROTTLE.bytesPerSecond / 1e6) },
    },
    strict: true,
  });
  const runs = Number(values.runs);
  const mbps = Number(values['per-connection-mbps']);
  if (!(mbps > 0)) throw new Error(`--per-connection-mbps must be positive, got ${values['per-connection-mbps']}`);
  const threads = Number(values.threads);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`--threads must be a positive integer, got ${values.threads}`);
  const generated = await fullModel(log);
  const pytorch = await pytorchModel(log);
  // Each model as pulled (the standard file served) and as the deploy guide publishes it, after
  // `model optimize` (the ORT file served).
  const models = [
    { name: 'generated, standard file', folder: generated },
    { name: 'generated, ORT file', folder: await optimizedModel(generated, log) },
    { name: 'PyTorch export, standard file', folder: pytorch },
    { name: 'PyTorch export, ORT file', folder: await optimizedModel(pytorch, log) },
  ];
  const input = await makeInput(generated.tokenizer, SIZES[0].target, SIZES[0].seed);
  const bundle = await ChildBundle.build();
  const parts: string[] = [];
  const out = (text: string) => {
    parts.push(text);
    process.stdout.write(`${text}\n\n`);
  };
  try {
    log(`cold load: ${runs} runs of each variant, ${threads} thread(s)`);
    const overlap = await runOverlapSection(bundle, models, input, threads, runs, log, mbps * 1e6);
    out(
      `Cold load in fresh processes, model int8 from the S3 stand-in (${mbps} MB/s per connection, ${DEFAULT_THROTTLE.firstByteMs} ms to first byte); ms, median (min–max):`,
    );
    out(overlapTable(overlap));
    let artifact: ArtifactSection | undefined;
    if (!values['no-artifact']) {
      log(`packaged artifact: ${runs} runs`);
      artifact = await runArtifactSection(models, input, runs, log);
      out(artifactTable(artifact));
    }
    if (values.sources) {
      const section = await runColdSection(bundle, generated, input, threads, runs, log);
      out(`${coldTable(section.rows)}\n\n${coldDownloadSummary(section)}`);
    }
    out(targetsTable(coldTargets(overlap, artifact)));
    if (!values['no-write']) {
      const how = `\`npm run bench:cold -- --runs ${runs}\`, fresh processes only, pinned to one core (\`taskset -c 0\`, as a 1,769 MB Lambda) and to two; variants alternate round by round and ratios are medians of per-round ratios. Reading: docs/decisions/2026-12-07-cold-start-measured-cold.md.`;
      if (writeSection(COLD_HEADING, sectionHead(COLD_HEADING, how) + parts.join('\n\n') + '\n\n'))
        log('updated its section of docs/benchmarks.md');
    }
  } finally {
    bundle.dispose();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
  process.exitCode = 1;
});
