/**
 * The documented commands run as written. The shell blocks of README.md and
 * docs/deploy.md marked `<!-- doc-test: NAME -->` (test/docs/doc-blocks.ts) are run command by
 * command with `sh -c`, in a throwaway copy of the repository, against the local Hub stand-in
 * (test/helpers/hub-server.ts, serving the tiny generated DistilBERT as the default repository) and
 * s3rver. Only the endpoint variables differ from a user's shell: HF_ENDPOINT, AWS_ENDPOINT_URL_S3
 * and the emulator's credentials and region. The package the docs build is then run as the Lambda
 * runtime would run it (Node 22, test/deploy/invoke-artifact.mjs) against that S3.
 *
 * Unmarked blocks stay prose: the "Two commands" block (npm test cannot run npm test), the model
 * tools' synopsis, and everything that needs an AWS account (`osls deploy`) or runs until stopped
 * (`osls offline`, which test/deploy/offline.test.ts covers).
 *
 * The copy has its own dist/, .serverless/ and .build/, so nothing here touches the repository's
 * build outputs that other test files use at the same time; `osls package` zips into the copy's
 * .serverless/, which is what scripts/build-lambda.ts's packaging lock guards in the repository,
 * so the two cannot collide. Only node_modules is shared (a symlink, read-only use).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ensureTestModel } from '../../scripts/model-generator';
import { DEFAULT_HUB_REPO } from '../../src/model/loading/config';
import { installedOnnxRuntimeVersion } from '../../src/model/onnxruntime/version';
import { ANSWER_QUERY, CONTEXT, LAMBDA_NODE_MAJOR, QUESTION, ROOT, describeWhereLambdaRuns, httpApiEvent, invokeArtifact, lambdaNode, spawnGroup, stopGroup } from '../deploy/helpers';
import { Zip } from '../deploy/zip';
import { startHubServer, type HubServer } from '../helpers/hub-server';
import { startS3, type TestS3 } from '../helpers/s3rver';
import { markedBlocks, markedSequences, type DocCommand } from './doc-blocks';
import { bertTokenizerJson, spanProblems } from '../helpers/token-boundaries';

const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');
/** The bucket the docs' examples name; s3rver creates it (a user creates theirs in AWS). */
const DOCS_BUCKET = 'my-models';
/** Longest one documented command may take here before it counts as hung. */
const COMMAND_TIMEOUT_MS = 150_000;

describe('marked doc blocks', () => {
  test('README.md and docs/deploy.md mark their deploy walk-throughs, in the order a user types them; the "Two commands" block stays unmarked', () => {
    const readme = read('README.md');
    const walk = markedSequences(readme, 'README.md').get('deploy-walkthrough')?.map((c) => c.text.split('#')[0]!.trim()) ?? [];
    const step = (pattern: RegExp) => walk.findIndex((c) => pattern.test(c));
    const order = [/^npm run model -- pull /, /^npm run model -- optimize /, /npm run model -- push /, /^npm run build:lambda$/, /^npx osls package /].map(step);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    const guide = markedSequences(read('docs/deploy.md'), 'docs/deploy.md').get('deploy-guide')?.map((c) => c.text) ?? [];
    expect([/^npm run model -- pull /, /^npm run model -- optimize /, /^npm run model -- push /, /^npm run package:x86_64 /].map((p) => guide.findIndex((c) => p.test(c)))).toEqual([0, 1, 2, 3]);
    // `npm ci && npm test` inside npm test would recurse: that block must never be marked.
    expect(markedBlocks(readme).flatMap((b) => b.commands).filter((c) => /npm (ci|test|start)\b/.test(c.text))).toEqual([]);
    // Nothing that needs an AWS account or runs until stopped is marked.
    for (const file of ['README.md', 'docs/deploy.md']) {
      expect(markedBlocks(read(file)).flatMap((b) => b.commands).filter((c) => /osls (deploy|remove|offline)|aws /.test(c.text))).toEqual([]);
    }
  });

  test('a marker must sit on the line right before an sh fence, and continuation lines are joined', () => {
    expect(() => markedBlocks('<!-- doc-test: x -->\n\n```sh\nls\n```\n', 'f.md')).toThrow('f.md:1: "doc-test: x" must be the line right before a ```sh fence');
    expect(markedBlocks('# t\n<!-- doc-test: x -->\n```sh\n# a comment\nls -l \\\n  /tmp  # where\n\necho hi\n```\n```sh\nnot marked\n```\n')).toEqual([
      { name: 'x', line: 3, commands: [{ text: 'ls -l /tmp  # where', line: 5 }, { text: 'echo hi', line: 8 }] },
    ]);
  });
});

/** A fresh copy of the repository's files (tracked and untracked-not-ignored), node_modules linked. */
function workspaceCopy(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'doc-commands-'));
  const list = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  if (list.status !== 0) throw new Error(`git ls-files failed in ${ROOT} (this test copies the repository's files): ${list.error?.message ?? list.stderr}`);
  for (const file of new Set(list.stdout.split('\0').filter(Boolean))) {
    // A tracked file deleted in the working tree is not part of what a user would run.
    if (existsSync(path.join(ROOT, file))) cpSync(path.join(ROOT, file), path.join(dir, file), { preserveTimestamps: true });
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/** Runs one documented command with `sh -c` in `cwd`; throws naming the file, block and command. */
async function runDocCommand(where: string, command: DocCommand, cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  // Asynchronously: the Hub stand-in and s3rver run in this process and must keep answering.
  const child = spawnGroup('sh', ['-c', command.text], { cwd, env });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void stopGroup(child);
  }, COMMAND_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  if (code !== 0) {
    const why = timedOut ? `did not finish in ${COMMAND_TIMEOUT_MS / 1000} s` : `exited with ${code ?? child.signalCode}`;
    throw new Error(`${where}, line ${command.line}: \`${command.text.replace(/\s{2,}/g, ' ')}\` ${why}. Its output (last 4000 characters):\n${child.output().slice(-4000)}`);
  }
  return child.output();
}

/** The function resource of a generated CloudFormation template. */
type LambdaFunction = { Properties: Record<string, any> };

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describeWhereLambdaRuns('x64', `the documented commands run as written, then the package they build answers on Node ${LAMBDA_NODE_MAJOR}`, () => {
  let node: { path: string; version: string };
  let model: string;
  let hub: HubServer;
  let s3: TestS3;
  const copies: string[] = [];
  const timings: string[] = [];

  beforeAll(async () => {
    // First, so that a missing Node 22 fails fast and clearly.
    node = await lambdaNode();
    model = await ensureTestModel({ size: 'tiny', variant: 'distilbert' });
    const file = (name: string) => readFileSync(path.join(model, name));
    hub = await startHubServer([
      {
        repo: DEFAULT_HUB_REPO,
        revision: 'main',
        commit: 'c0ffee',
        files: Object.fromEntries(
          ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt', 'onnx/model.onnx', 'onnx/model_quantized.onnx'].map((n) => [n, file(n)]),
        ),
      },
    ]);
    s3 = await startS3([DOCS_BUCKET]);
  }, 120_000);

  afterAll(async () => {
    console.log(`Documented commands:\n  ${timings.join('\n  ')}`);
    await hub?.close();
    await s3?.close();
    for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  });

  /** A user's shell with only the endpoints (and the emulator's credentials and region) set. */
  function userEnv(): NodeJS.ProcessEnv {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^AWS_/.test(k)));
    return { ...env, HF_ENDPOINT: hub.endpoint, AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
  }

  /** Runs the `name` sequence of `file` in a fresh copy; returns the copy. */
  async function runSequence(file: string, name: string): Promise<string> {
    const commands = markedSequences(read(file), file).get(name);
    if (!commands?.length) throw new Error(`${file} has no block marked "doc-test: ${name}"`);
    const cwd = workspaceCopy();
    copies.push(cwd);
    for (const command of commands) {
      const started = Date.now();
      await runDocCommand(`${file} "doc-test: ${name}"`, command, cwd, userEnv());
      timings.push(`${file} ${name}: ${command.text.replace(/\s+#.*$/, '').slice(0, 70)}: ${Date.now() - started} ms`);
    }
    return cwd;
  }

  /** The manifest `model push` wrote where `uri` (the package's MODEL_URI) points, read straight from s3rver. */
  async function pushedManifest(where: string, uri: string): Promise<{ version: string; files: Array<{ path: string; bytes: number; sha256: string }> }> {
    const [, bucket, prefix] = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri) ?? [];
    const key = `${prefix}model-manifest.json`;
    const object = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key })).catch((error: Error) => {
      throw new Error(`${where}: the package reads its model from ${uri}, but s3://${bucket}/${key} cannot be read (${error.name}): the documented push and package commands disagree`);
    });
    return JSON.parse(await object.Body!.transformToString());
  }

  /**
   * What the documented pull and optimize must have carried to S3: the ORT file `optimize` wrote into
   * the pulled folder (named for the installed onnxruntime), the Hub's int8 file byte for byte as its
   * fallback, and the tokenizer; no fp32 file, no `.optimized.onnx`. Returns the ORT file's entry.
   */
  function expectOptimizedInt8Model(manifest: { files: Array<{ path: string; bytes: number; sha256: string }> }, pulled: string): { path: string; bytes: number } {
    const files = new Map(manifest.files.map((f) => [f.path, f]));
    expect(files.get('onnx/model_quantized.onnx')?.sha256).toBe(sha256(readFileSync(path.join(model, 'onnx', 'model_quantized.onnx'))));
    expect(files.get('tokenizer.json')?.sha256).toBe(sha256(readFileSync(path.join(model, 'tokenizer.json'))));
    const ort = `onnx/model_quantized.onnxruntime-${installedOnnxRuntimeVersion()}.ort`;
    expect(files.get(ort)?.sha256).toBe(sha256(readFileSync(path.join(pulled, ort))));
    expect([...files.keys()].filter((f) => f === 'onnx/model.onnx' || f.endsWith('.optimized.onnx'))).toEqual([]);
    return files.get(ort)!;
  }

  /** Unzips the package in `dir` and runs its handler against s3rver; returns the GraphQL results. */
  async function runPackage(where: string, dir: string, fn: LambdaFunction): Promise<{ answer: { text: string; start: number; end: number; score: number }; model: Record<string, unknown> }> {
    const zip = readdirSync(dir).find((n) => n.endsWith('.zip'));
    if (!zip) throw new Error(`no zip in ${dir}: ${readdirSync(dir).join(', ')}`);
    const taskRoot = mkdtempSync(path.join(os.tmpdir(), 'doc-task-'));
    const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'doc-sandbox-'));
    copies.push(taskRoot, tmpDir);
    const archive = Zip.open(path.join(dir, zip));
    const handler = String(fn.Properties.Handler);
    const handlerFile = handler.slice(0, handler.lastIndexOf('.'));
    if (!archive.names().some((n) => n.replace(/\.[cm]?js$/, '') === handlerFile)) {
      throw new Error(`${where}: the package has no ${handlerFile}.{mjs,js} for its handler ${handler} (was the bundle built before packaging?)`);
    }
    archive.extractTo(taskRoot);
    const json = { 'content-type': 'application/json' };
    const started = Date.now();
    const { results, runtime } = await invokeArtifact({
      node: node.path,
      taskRoot,
      fn,
      env: { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
      tmpDir,
      events: [
        httpApiEvent({ method: 'POST', path: '/graphql', headers: json, body: JSON.stringify({ query: ANSWER_QUERY, variables: { q: QUESTION, c: CONTEXT } }) }),
        httpApiEvent({ method: 'POST', path: '/graphql', headers: json, body: JSON.stringify({ query: '{ model { quantized demo version sizeBytes } }' }) }),
      ],
      timeoutMs: 120_000,
    });
    timings.push(`packaged handler (${path.relative(os.tmpdir(), dir)}): ${Date.now() - started} ms`);
    expect(runtime.version.startsWith(`v${LAMBDA_NODE_MAJOR}.`)).toBe(true);
    const [answer, info] = results.map((r) => {
      expect(`${r.result.statusCode} ${r.result.body}`).toMatch(/^200 /);
      return JSON.parse(r.result.body!).data;
    });
    return { answer: answer.answer, model: info.model };
  }

  /**
   * What the package built by the docs must do: read the model the docs pushed (the manifest at its
   * MODEL_URI lists the ORT file `optimize` wrote and the Hub's int8 file as its fallback), in the
   * prod posture, and answer with the ORT file: the bytes it reports reading are the ORT file's,
   * tokenizer.json's and config.json's (the standard file's size would differ).
   */
  async function expectPackageServesPushedModel(where: string, packageDir: string, pulled: string): Promise<void> {
    const template = JSON.parse(readFileSync(path.join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8')) as {
      Resources: Record<string, { Type: string } & LambdaFunction>;
    };
    const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
    const env = fn.Properties.Environment.Variables as Record<string, string>;
    expect(env).toMatchObject({ API_STAGE: 'prod', API_IDE: 'false' });
    const manifest = await pushedManifest(where, env.MODEL_URI!);
    const served = expectOptimizedInt8Model(manifest, pulled);
    const run = await runPackage(where, packageDir, fn);
    // Offsets on the context's word boundaries, as the tokenizer itself reports them (not a slice check: the engine builds `text` by slicing).
    expect(await spanProblems(bertTokenizerJson(), CONTEXT, [run.answer])).toEqual([]);
    // demo: the served config.json is the generated model's, which says so (`_generated.demo`).
    const others = ['tokenizer.json', 'config.json'].map((f) => statSync(path.join(pulled, f)).size);
    expect(run.model).toEqual({ quantized: true, demo: true, version: manifest.version, sizeBytes: served.bytes + others[0]! + others[1]! });
  }

  test('README.md "deploy-walkthrough": pull → optimize → push → build:lambda → osls package; the package answers with the pushed ORT file', async () => {
    const cwd = await runSequence('README.md', 'deploy-walkthrough');
    // `osls package` without --package writes into .serverless/.
    await expectPackageServesPushedModel('README.md "doc-test: deploy-walkthrough"', path.join(cwd, '.serverless'), path.join(cwd, 'models', 'squad'));
  }, 400_000);

  test('docs/deploy.md "deploy-guide": steps 1–3 (pull, optimize, push, package:x86_64); the package answers with the pushed ORT file', async () => {
    const cwd = await runSequence('docs/deploy.md', 'deploy-guide');
    // package:x86_64 packages the prod stage into .build/package/prod-x86_64/ (scripts/build-lambda.ts).
    await expectPackageServesPushedModel('docs/deploy.md "doc-test: deploy-guide"', path.join(cwd, '.build', 'package', 'prod-x86_64'), path.join(cwd, 'models', 'distilbert-squad'));
  }, 400_000);
});
