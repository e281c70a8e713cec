/**
 * `npm run bench:cold [-- --runs N] [-- --threads T]`: only the cold-start section of the bench
 * (~1 minute instead of ~7): the local folder, and S3 through the throttling proxy as one stream,
 * as ranged reads, and ranged with the body spilled to /tmp. Prints markdown; writes nothing.
 */
import { parseArgs } from 'node:util';
import { ChildBundle } from './children';
import { makeInput } from './inputs';
import { fullModel } from './model-folder';
import { coldDownloadSummary, coldTable } from './report';
import { COLD_SOURCES, runColdSection } from './sections/cold-start';
import { SIZES } from './sections/latency';

function log(message: string): void {
  process.stderr.write(`[bench:cold ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '5' }, threads: { type: 'string', default: '1' } },
    strict: true,
  });
  const runs = Number(values.runs);
  const threads = Number(values.threads);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`--threads must be a positive integer, got ${values.threads}`);
  const model = await fullModel(log);
  const input = await makeInput(model.tokenizer, SIZES[0].target, SIZES[0].seed);
  const bundle = await ChildBundle.build();
  try {
    log(`cold start: ${runs} runs of each source, ${threads} thread(s)`);
    const section = await runColdSection(bundle, model, input, threads, runs, log);
    const ranged = section.rows.find((r) => r.source === COLD_SOURCES.ranged)!;
    process.stdout.write(`${coldTable(section.rows)}\n\n${coldDownloadSummary(section)}\n\n`);
    process.stdout.write(
      `Targets: download ≥ 3× faster than one stream: ${section.downloadSpeedup.toFixed(2)}×; ` +
        `cold start ≤ 1.3× the sum of its parts (ranged): ${ranged.ratio.median.toFixed(2)}×\n`,
    );
  } finally {
    bundle.dispose();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
  process.exitCode = 1;
});
