/**
 * `npm run bench:artifact [-- --runs 8]`
 *
 * What shipping onnxruntime's library compressed costs at INIT. Packages the x86_64 prod artifact,
 * unzips it twice — as built, and with the library put back uncompressed where onnxruntime-node
 * installs it (the layout before compression) — and measures the INIT of each (import of the
 * handler through its top-level await: the model download from s3rver and the session) on Node 22,
 * alternating the two run by run. Each run gets a fresh, empty TMPDIR: a new sandbox. A third
 * variant starts again in the previous sandbox (the library is already in /tmp).
 *
 * Prints a markdown table (docs/deploy.md quotes it). The model is the full-size random-weight
 * DistilBERT, int8 (~67 MB, like the real export's model_quantized.onnx).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { NATIVES_DIR, ROOT, buildBundle, packageArch } from '../scripts/build-lambda';
import { linuxLibraryPath } from '../scripts/compress-natives';
import { httpApiEvent, invokeArtifact, jsonLogLines, lambdaNode, packagedFunction } from '../test/deploy/helpers';
import { Zip } from '../test/deploy/zip';
import { BUCKET, PREFIX, startS3WithModel } from './s3';
import { fullModel } from './model-folder';
import { summarize, type Summary } from './stats';

interface InitSample {
  initMs: number;
  unpackMs: number | null;
}

function log(message: string): void {
  process.stderr.write(`[bench:artifact ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '8' } }, strict: true });
  const runs = Number(values.runs);
  const node = await lambdaNode();
  const model = await fullModel(log);
  await buildBundle({ quiet: true });
  const packaged = packageArch('x86_64', {
    stage: 'prod',
    params: { modelBucket: BUCKET, modelPrefix: PREFIX },
    suffix: 'bench',
  });
  const fn = packagedFunction(packaged.dir);
  const zip = Zip.open(path.join(packaged.dir, 'serverless-qa-graphql.zip'));

  const work = mkdtempSync(path.join(os.tmpdir(), 'bench-artifact-'));
  const compressedRoot = path.join(work, 'compressed');
  const plainRoot = path.join(work, 'plain');
  zip.extractTo(compressedRoot);
  zip.extractTo(plainRoot);
  // The layout without compression: the library where onnxruntime-node looks, no natives/.
  const libraryTarget = linuxLibraryPath('x64', path.join(plainRoot, 'node_modules', 'onnxruntime-node'));
  mkdirSync(path.dirname(libraryTarget), { recursive: true });
  copyFileSync(linuxLibraryPath('x64'), libraryTarget);
  rmSync(path.join(plainRoot, path.relative(ROOT, NATIVES_DIR)), { recursive: true, force: true });

  const { s3 } = await startS3WithModel(model.dir);
  const health = httpApiEvent({
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ health { ready } }' }),
  });

  async function init(taskRoot: string, tmpDir: string): Promise<InitSample> {
    const run = await invokeArtifact({ node: node.path, taskRoot, fn, env: s3.env, tmpDir, events: [health] });
    if (!JSON.parse(run.results[0]!.result.body!).data.health.ready)
      throw new Error(`the model did not load:\n${run.logs}`);
    const unpack = jsonLogLines(run.logs, 'onnxruntime library ready')[0]?.ms;
    return { initMs: run.initMs, unpackMs: typeof unpack === 'number' ? unpack : null };
  }

  const samples = { plain: [] as InitSample[], compressed: [] as InitSample[], reused: [] as InitSample[] };
  try {
    await init(plainRoot, mkdtempSync(path.join(work, 'sandbox-'))); // warm the page cache for both alike
    await init(compressedRoot, mkdtempSync(path.join(work, 'sandbox-')));
    for (let i = 0; i < runs; i++) {
      const order = i % 2 ? (['compressed', 'plain'] as const) : (['plain', 'compressed'] as const);
      for (const variant of order) {
        const sandbox = mkdtempSync(path.join(work, 'sandbox-'));
        samples[variant].push(await init(variant === 'plain' ? plainRoot : compressedRoot, sandbox));
        if (variant === 'compressed') samples.reused.push(await init(compressedRoot, sandbox));
        rmSync(sandbox, { recursive: true, force: true });
      }
      log(`run ${i + 1}/${runs}`);
    }
  } finally {
    await s3.close();
    rmSync(work, { recursive: true, force: true });
  }

  const plain = summarize(samples.plain.map((s) => s.initMs));
  const row = (name: string, list: InitSample[]): string => {
    const init = summarize(list.map((s) => s.initMs));
    const unpack = list.every((s) => s.unpackMs === null)
      ? '—'
      : `${summarize(list.map((s) => s.unpackMs ?? NaN)).median.toFixed(0)}`;
    return `| ${name} | ${init.n} | ${fmt(init)} | ${unpack} | ${(init.median / plain.median).toFixed(2)} |`;
  };
  process.stdout.write(
    [
      `INIT of the x86_64 prod artifact on Node ${node.version}, ${os.cpus().length} cores, model int8 from s3rver (${runs} runs, alternating):`,
      '',
      '| Library | Runs | INIT, ms: median (min–max) | Unpacking, ms (median) | INIT / uncompressed |',
      '| --- | --: | --: | --: | --: |',
      row('uncompressed in the package (before)', samples.plain),
      row('compressed, new sandbox (empty /tmp)', samples.compressed),
      row('compressed, same sandbox again (/tmp kept)', samples.reused),
      '',
    ].join('\n'),
  );
}

function fmt(s: Summary): string {
  return `${s.median.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
