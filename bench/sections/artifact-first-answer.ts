/**
 * A fresh Lambda-shaped process to its first answer: the packaged x86_64 artifact, unzipped as
 * Lambda would, run on Node 22 by test/deploy/invoke-artifact.mjs (an ESM import whose top-level
 * await is INIT, then one API Gateway v2 invocation asking one question), with the model from the
 * S3 stand-in at S3's per-connection rate. Every part is read from the process itself: Node's
 * start-up, INIT (and, inside it, the model's download, first session and tokenizer, the
 * library's unpacking and the API's evaluation, both overlapped with the download) and the
 * first invocation. Two layouts of the same artifact alternate run by run: onnxruntime's library
 * compressed (as built, unpacked into /tmp at INIT) and uncompressed where onnxruntime-node
 * installs it (no unpacking; a larger package). Each run gets a fresh, empty TMPDIR.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { NATIVES_DIR, ROOT, buildBundle, packageArch } from '../../scripts/build-lambda';
import { linuxLibraryPath } from '../../scripts/compress-natives';
import { httpApiEvent, invokeArtifact, lambdaNode, packagedFunction } from '../../test/deploy/helpers';
import { Zip } from '../../test/deploy/zip';
import type { SizedInput } from '../inputs';
import type { ModelFolder } from '../model-folder';
import { STANDIN_BUCKET, STANDIN_PREFIX, startS3StandIn } from '../s3-standin';
import { summarize, type Summary } from '../stats';
import { DEFAULT_THROTTLE } from '../../test/helpers/throttle-proxy';
import { CORE_SETS } from './cold-overlap';

export type LibraryLayout = 'compressed' | 'uncompressed';

export interface ArtifactRow {
  model: string;
  cores: string;
  library: LibraryLayout;
  runs: number;
  /** Process start to the first answer: boot + INIT + the first invocation. */
  toFirstAnswer: Summary;
  boot: Summary;
  init: Summary;
  download: Summary;
  session: Summary;
  tokenizer: Summary;
  /** INIT before and after the load: the entry's modules and the S3 client; the wait for the API. */
  initOutsideLoad: Summary;
  /** The load beyond download, session and tokenizer: the probe run, waits for the unpacking or the warm-up. */
  loadRest: Summary;
  /** Overlapped with the download. */
  unpack: Summary;
  apiEvaluation: Summary;
  firstInvocation: Summary;
  /** boot + download + session + tokenizer + first invocation, per run. */
  parts: Summary;
  /** toFirstAnswer / parts, per run. */
  ratio: Summary;
}

export interface ArtifactSection {
  rows: ArtifactRow[];
  nodeVersion: string;
  /** Sizes of the two layouts' packages: zipped as built, and the uncompressed layout's files. */
  packageBytes: Record<LibraryLayout, { zipped: number; unzipped: number }>;
}

interface Loaded {
  totalMs: number;
  downloadMs: number;
  sessionCreateMs: number;
  tokenizerMs: number;
  runtimeUnpackMs: number | null;
  apiEvaluationMs: number | null;
}

const QUERY = `query ($q: String!, $c: String!) {
  answer(question: $q, context: $c) { text }
  model { loadTimings { downloadMs sessionCreateMs tokenizerMs totalMs runtimeUnpackMs apiEvaluationMs } }
}`;

function treeBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const st = statSync(path.join(dir, name));
    if (st.isFile()) total += st.size;
  }
  return total;
}

export async function runArtifactSection(
  models: ReadonlyArray<{ name: string; folder: ModelFolder }>,
  input: SizedInput,
  runs: number,
  log: (m: string) => void,
): Promise<ArtifactSection> {
  const node = await lambdaNode();
  await buildBundle({ quiet: true });
  const packaged = packageArch('x86_64', {
    stage: 'prod',
    params: { modelBucket: STANDIN_BUCKET, modelPrefix: STANDIN_PREFIX },
    suffix: 'bench-cold',
  });
  const fn = packagedFunction(packaged.dir);
  const zipFile = path.join(packaged.dir, 'serverless-qa-graphql.zip');
  const zip = Zip.open(zipFile);
  const work = mkdtempSync(path.join(os.tmpdir(), 'bench-artifact-cold-'));
  const roots: Record<LibraryLayout, string> = {
    compressed: path.join(work, 'compressed'),
    uncompressed: path.join(work, 'uncompressed'),
  };
  zip.extractTo(roots.compressed);
  zip.extractTo(roots.uncompressed);
  const libraryTarget = linuxLibraryPath('x64', path.join(roots.uncompressed, 'node_modules', 'onnxruntime-node'));
  mkdirSync(path.dirname(libraryTarget), { recursive: true });
  copyFileSync(linuxLibraryPath('x64'), libraryTarget);
  rmSync(path.join(roots.uncompressed, path.relative(ROOT, NATIVES_DIR)), { recursive: true, force: true });
  const compressedUnzipped = treeBytes(roots.compressed);
  const uncompressedUnzipped = treeBytes(roots.uncompressed);
  const libraryBytes = statSync(libraryTarget).size;
  const compressedZip = statSync(zipFile).size;
  const packageBytes = {
    compressed: { zipped: compressedZip, unzipped: compressedUnzipped },
    // Not packaged by osls here: the compressed zip, less the .br's share of it (stored: brotli does
    // not deflate further), plus the library deflated at zlib's level 6, as zip tools do by default.
    uncompressed: {
      zipped:
        compressedZip -
        (compressedUnzipped - uncompressedUnzipped + libraryBytes) +
        deflateRawSync(readFileSync(libraryTarget), { level: 6 }).length,
      unzipped: uncompressedUnzipped,
    },
  };
  const event = (q: string, c: string) =>
    httpApiEvent({
      method: 'POST',
      path: '/graphql',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: QUERY, variables: { q, c } }),
    });
  const rows: ArtifactRow[] = [];
  try {
    for (const { name, folder } of models) {
      const s3 = await startS3StandIn({
        modelDir: folder.dir,
        bytesPerSecond: DEFAULT_THROTTLE.bytesPerSecond,
        firstByteMs: DEFAULT_THROTTLE.firstByteMs,
      });
      try {
        for (const cores of CORE_SETS) {
          const samples: Record<LibraryLayout, Array<{ boot: number; init: number; invoke: number; t: Loaded }>> = {
            compressed: [],
            uncompressed: [],
          };
          for (let i = 0; i < runs; i++) {
            const order: LibraryLayout[] = i % 2 ? ['uncompressed', 'compressed'] : ['compressed', 'uncompressed'];
            for (const library of order) {
              const tmpDir = mkdtempSync(path.join(work, 'sandbox-'));
              try {
                const run = await invokeArtifact({
                  node: node.path,
                  taskRoot: roots[library],
                  fn,
                  env: { ...s3.env, MODEL_URI: s3.uri, MODEL_QUANTIZED: 'true' },
                  tmpDir,
                  events: [event(input.question, input.context)],
                  launcher: cores.cpus ? ['taskset', '-c', cores.cpus] : [],
                  timeoutMs: 120_000,
                });
                const body = JSON.parse(run.results[0]!.result.body!) as {
                  data?: { answer: unknown; model: { loadTimings: Loaded } };
                  errors?: unknown;
                };
                if (!body.data?.model) throw new Error(`no answer: ${JSON.stringify(body.errors)}\n${run.logs}`);
                samples[library].push({
                  boot: run.bootMs,
                  init: run.initMs,
                  invoke: run.results[0]!.ms,
                  t: body.data.model.loadTimings,
                });
              } finally {
                rmSync(tmpDir, { recursive: true, force: true });
              }
            }
            log(`  artifact, ${name}, ${cores.name}: run ${i + 1}/${runs}`);
          }
          for (const library of ['compressed', 'uncompressed'] as const) {
            const list = samples[library];
            const pick = (f: (x: (typeof list)[number]) => number) => summarize(list.map(f));
            const total = (x: (typeof list)[number]) => x.boot + x.init + x.invoke;
            const parts = (x: (typeof list)[number]) =>
              x.boot + x.t.downloadMs + x.t.sessionCreateMs + x.t.tokenizerMs + x.invoke;
            rows.push({
              model: name,
              cores: cores.name,
              library,
              runs: list.length,
              toFirstAnswer: pick(total),
              boot: pick((x) => x.boot),
              init: pick((x) => x.init),
              download: pick((x) => x.t.downloadMs),
              session: pick((x) => x.t.sessionCreateMs),
              tokenizer: pick((x) => x.t.tokenizerMs),
              initOutsideLoad: pick((x) => x.init - x.t.totalMs),
              loadRest: pick((x) => x.t.totalMs - x.t.downloadMs - x.t.sessionCreateMs - x.t.tokenizerMs),
              unpack: pick((x) => x.t.runtimeUnpackMs ?? NaN),
              apiEvaluation: pick((x) => x.t.apiEvaluationMs ?? NaN),
              firstInvocation: pick((x) => x.invoke),
              parts: pick(parts),
              ratio: pick((x) => total(x) / parts(x)),
            });
          }
        }
      } finally {
        await s3.close();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { rows, nodeVersion: node.version, packageBytes };
}
