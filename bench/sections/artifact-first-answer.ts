/**
 * A fresh Lambda-shaped process to its first answer: the packaged x86_64 artifact, unzipped as
 * Lambda would, run on Node 22 by test/deploy/invoke-artifact.mjs (an ESM import whose top-level
 * await is INIT, then one API Gateway v2 invocation asking one question), with the model from the
 * S3 stand-in at S3's per-connection rate. Every part is read from the process itself: Node's
 * start-up, INIT (and, inside it, the model's download, first session and tokenizer, and the
 * API's evaluation, overlapped with the download) and the first invocation. The artifact is the one
 * `osls package` builds, as built. Each run gets a fresh, empty TMPDIR.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildBundle, packageArch } from '../../scripts/build-lambda';
import { httpApiEvent, invokeArtifact, lambdaNode, packagedFunction } from '../../test/deploy/helpers';
import { Zip } from '../../test/deploy/zip';
import type { SizedInput } from '../inputs';
import type { ModelFolder } from '../model-folder';
import { STANDIN_BUCKET, STANDIN_PREFIX, startS3StandIn } from '../s3-standin';
import { summarize, type Summary } from '../stats';
import { DEFAULT_THROTTLE } from '../../test/helpers/throttle-proxy';
import { CORE_SETS } from './cold-overlap';

export interface ArtifactRow {
  model: string;
  cores: string;
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
  /** The load beyond download, session and tokenizer: the probe run, the wait for the warm-up. */
  loadRest: Summary;
  /** Overlapped with the download. */
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
  /** The package's size: the zip, and its files unzipped. */
  packageBytes: { zipped: number; unzipped: number };
}

interface Loaded {
  totalMs: number;
  downloadMs: number;
  sessionCreateMs: number;
  tokenizerMs: number;
  apiEvaluationMs: number | null;
}

const QUERY = `query ($q: String!, $c: String!) {
  answer(question: $q, context: $c) { text }
  model { loadTimings { downloadMs sessionCreateMs tokenizerMs totalMs apiEvaluationMs } }
}`;

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
  const taskRoot = path.join(work, 'task');
  zip.extractTo(taskRoot);
  const packageBytes = { zipped: statSync(zipFile).size, unzipped: zip.unzippedBytes };
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
          const samples: Array<{ boot: number; init: number; invoke: number; t: Loaded }> = [];
          for (let i = 0; i < runs; i++) {
            const tmpDir = mkdtempSync(path.join(work, 'sandbox-'));
            try {
              const run = await invokeArtifact({
                node: node.path,
                taskRoot,
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
              samples.push({
                boot: run.bootMs,
                init: run.initMs,
                invoke: run.results[0]!.ms,
                t: body.data.model.loadTimings,
              });
            } finally {
              rmSync(tmpDir, { recursive: true, force: true });
            }
            log(`  artifact, ${name}, ${cores.name}: run ${i + 1}/${runs}`);
          }
          type Sample = (typeof samples)[number];
          const pick = (f: (x: Sample) => number) => summarize(samples.map(f));
          const total = (x: Sample) => x.boot + x.init + x.invoke;
          const parts = (x: Sample) => x.boot + x.t.downloadMs + x.t.sessionCreateMs + x.t.tokenizerMs + x.invoke;
          rows.push({
            model: name,
            cores: cores.name,
            runs: samples.length,
            toFirstAnswer: pick(total),
            boot: pick((x) => x.boot),
            init: pick((x) => x.init),
            download: pick((x) => x.t.downloadMs),
            session: pick((x) => x.t.sessionCreateMs),
            tokenizer: pick((x) => x.t.tokenizerMs),
            initOutsideLoad: pick((x) => x.init - x.t.totalMs),
            loadRest: pick((x) => x.t.totalMs - x.t.downloadMs - x.t.sessionCreateMs - x.t.tokenizerMs),
            apiEvaluation: pick((x) => x.t.apiEvaluationMs ?? NaN),
            firstInvocation: pick((x) => x.invoke),
            parts: pick(parts),
            ratio: pick((x) => total(x) / parts(x)),
          });
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
