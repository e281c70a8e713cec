/**
 * Builds the Lambda bundle and, on request, the deployment artifacts (offline, no AWS call).
 *
 *   npx tsx scripts/build-lambda.ts                      bundle only → dist/lambda/
 *   npx tsx scripts/build-lambda.ts --package x86_64     bundle + `osls package` → .build/package/prod-x86_64/
 *   npx tsx scripts/build-lambda.ts --package all        both architectures (x86_64, arm64)
 *   ... --stage dev                                      the stage to package (default prod, as in serverless.yml)
 *
 * dist/lambda/ holds what the bundle itself is: `handler.mjs` (ESM, so the model loads during INIT
 * through a top-level await; see src/lambda.mts) and `ide/` (the GraphiQL files, gzipped only).
 * onnxruntime-node and tokenizers are native addons and stay external: serverless.yml's package
 * patterns add their JavaScript and only the linux native files of the target architecture from
 * node_modules, as installed (both architectures' files are installed by npm here, so arm64
 * packages offline).
 *
 * Files are written through a temporary name and renamed, and left untouched when unchanged, so
 * two builds running at once (two jest workers) never expose a half-written bundle.
 */
import { build, type Metafile } from 'esbuild';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

export const ROOT = path.resolve(__dirname, '..');
export const BUNDLE_DIR = path.join(ROOT, 'dist', 'lambda');
export const IDE_SOURCE_DIR = path.join(ROOT, 'dist', 'ide');
export const ARCHITECTURES = ['x86_64', 'arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];
/** Lambda's architecture name → Node's process.arch (serverless.yml's custom.nodeArch). */
export const NODE_ARCH: Record<Architecture, 'x64' | 'arm64'> = { x86_64: 'x64', arm64: 'arm64' };

/** Packages that are native addons (or load one by a computed path): never bundled. */
export const EXTERNAL_PACKAGES = ['onnxruntime-node', 'tokenizers'];

/**
 * The stage when none is given: serverless.yml's `${opt:stage, 'prod'}`, so that packaging or
 * deploying without --stage gives the production posture (no IDE, no introspection).
 */
export const DEFAULT_STAGE = 'prod';

/** Where `osls package` writes the artifact of one architecture and stage (and its CloudFormation). */
export function packageDir(arch: Architecture, stage = DEFAULT_STAGE, suffix?: string): string {
  return path.join(ROOT, '.build', 'package', [stage, arch, suffix].filter(Boolean).join('-'));
}

// esbuild's ESM output has no `require`, `__dirname` or `__filename`; bundled CommonJS code
// (Apollo, the AWS SDK, our own src/) and the external native packages need them.
const BANNER = [
  "import { createRequire as __cr } from 'node:module';",
  "import { fileURLToPath as __fu } from 'node:url';",
  "import { dirname as __dn } from 'node:path';",
  'const require = __cr(import.meta.url);',
  'const __filename = __fu(import.meta.url);',
  'const __dirname = __dn(__filename);',
].join('\n');

function writeIfChanged(file: string, data: Buffer | string): boolean {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  if (existsSync(file) && readFileSync(file).equals(bytes)) return false;
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
  return true;
}

export interface BundleResult {
  dir: string;
  handlerBytes: number;
  ideBytes: number;
  ms: number;
  /** Input bytes per top-level package in the bundle, largest first (to see what the bundle costs). */
  inputs: Array<[string, number]>;
}

function packageOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return match ? match[1]! : 'src';
}

/** Builds dist/lambda/: the ESM handler bundle and the gzipped IDE files. */
export async function buildBundle(
  options: { quiet?: boolean; onStep?: (step: string) => void } = {},
): Promise<BundleResult> {
  const started = Date.now();
  options.onStep?.('Bundling src/lambda.mts (esbuild)…');
  if (!existsSync(path.join(IDE_SOURCE_DIR, 'app.js.gz'))) {
    throw new Error('The IDE bundle is missing: run `npm run build:ide` first (dist/ide/app.js.gz).');
  }
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [path.join(ROOT, 'src', 'lambda.mts')],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    // Licence texts of the bundled packages go to handler.mjs.LEGAL.txt (packaged, small).
    legalComments: 'external',
    // Prefer packages' CommonJS builds: their ESM builds sometimes rely on import.meta tricks.
    mainFields: ['main', 'module'],
    external: EXTERNAL_PACKAGES,
    banner: { js: BANNER },
    write: false,
    metafile: true,
    outfile: path.join(BUNDLE_DIR, 'handler.mjs'),
    logLevel: options.quiet ? 'error' : 'warning',
  });
  const keep = new Set<string>();
  let handlerBytes = 0;
  for (const file of result.outputFiles) {
    writeIfChanged(file.path, Buffer.from(file.contents));
    keep.add(file.path);
    if (file.path.endsWith('handler.mjs')) handlerBytes = file.contents.length;
  }
  // The IDE: only the precompressed files. src/ide/assets.ts serves `name.gz` as `name`.
  let ideBytes = 0;
  const ideOut = path.join(BUNDLE_DIR, 'ide');
  for (const name of readdirSync(IDE_SOURCE_DIR).filter((n) => n.endsWith('.gz'))) {
    const data = readFileSync(path.join(IDE_SOURCE_DIR, name));
    writeIfChanged(path.join(ideOut, name), data);
    keep.add(path.join(ideOut, name));
    ideBytes += data.length;
  }
  // Drop stale files from earlier builds (never the temporary files of a concurrent build).
  for (const dir of [BUNDLE_DIR, ideOut]) {
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      if (!keep.has(file) && !name.endsWith('.tmp') && statSync(file).isFile()) rmSync(file, { force: true });
    }
  }
  const inputs = new Map<string, number>();
  const meta: Metafile = result.metafile!;
  for (const [input, info] of Object.entries(
    meta.outputs[path.relative(ROOT, path.join(BUNDLE_DIR, 'handler.mjs'))]?.inputs ?? {},
  )) {
    const pkg = packageOf(input);
    inputs.set(pkg, (inputs.get(pkg) ?? 0) + info.bytesInOutput);
  }
  return {
    dir: BUNDLE_DIR,
    handlerBytes,
    ideBytes,
    ms: Date.now() - started,
    inputs: [...inputs].sort((a, b) => b[1] - a[1]),
  };
}

/** The `osls` command line (never the `serverless` bin: it may be Serverless v4, which needs a login). */
export function oslsBin(): string {
  return path.join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
}

export interface PackageOptions {
  stage?: string;
  /** `--param=name=value` for serverless.yml (modelBucket and modelPrefix are required). */
  params?: Record<string, string>;
  /** Base environment (default process.env); AWS credentials are removed from it either way. */
  env?: NodeJS.ProcessEnv;
  /** Appended to the output folder's name, to keep separate runs apart. */
  suffix?: string;
}

/**
 * Runs `osls package` for one architecture into packageDir(arch, stage). `package` needs no AWS
 * account as long as serverless.yml defines no layer and reads no CloudFormation outputs or SSM
 * parameters; it runs here with every AWS credential source removed, so a change that makes it
 * call AWS fails loudly instead of quietly using someone's account.
 */
export function packageArch(
  arch: Architecture,
  options: PackageOptions = {},
): { dir: string; ms: number; output: string } {
  const stage = options.stage ?? DEFAULT_STAGE;
  const dir = packageDir(arch, stage, options.suffix);
  rmSync(dir, { recursive: true, force: true });
  const params = { arch, ...options.params };
  const args = [
    oslsBin(),
    'package',
    '--stage',
    stage,
    '--package',
    dir,
    ...Object.entries(params).map(([k, v]) => `--param=${k}=${v}`),
  ];
  const started = Date.now();
  const run = runOslsPackage(args, packagingEnv(options.env));
  if (run.status !== 0) {
    throw new Error(
      `osls package (${stage}, ${arch}) failed with ${run.status ?? run.signal}:\n${run.stdout}\n${run.stderr}`,
    );
  }
  return { dir, ms: Date.now() - started, output: `${run.stdout}${run.stderr}` };
}

/**
 * Runs `osls` (`args` start with oslsBin()) in the repository, one at a time across processes.
 * `osls package` zips into `<repo>/.serverless/` before moving the zip to `--package`, so two
 * packagings at once (parallel test workers) delete each other's zip ("Could not calculate hash
 * for …/.serverless/serverless-qa-graphql.zip"). A lock folder serializes them; a lock whose owner
 * process is gone is taken over.
 */
export function runOslsPackage(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 180_000): SpawnSyncReturns<string> {
  const lock = path.join(ROOT, '.cache', 'osls-package.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!lockOwnerAlive(lock) || Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    return spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env, timeout: timeoutMs });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function lockOwnerAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(lock, 'pid'), 'utf8'));
  } catch {
    // Just created, its pid not written yet: treat as alive.
    return true;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The environment for `osls package`: no AWS credentials of any kind, no telemetry. */
export function packagingEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) {
    if (!/^AWS_/.test(key)) env[key] = value;
  }
  return {
    ...env,
    AWS_SHARED_CREDENTIALS_FILE: base.AWS_SHARED_CREDENTIALS_FILE ?? '/nonexistent/aws-credentials',
    AWS_CONFIG_FILE: base.AWS_CONFIG_FILE ?? '/nonexistent/aws-config',
    AWS_EC2_METADATA_DISABLED: 'true',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_TRACKING_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  };
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(2)} MB`;
}

/**
 * The command line, parsed by node:util's parseArgs: unknown options and missing values are errors
 * (a mistyped `--stgae dev` must not package prod silently). `--param=name=value` may repeat.
 */
export function parseBuildArgs(argv: string[]): {
  target?: string;
  stage: string;
  params: Record<string, string>;
  verbose: boolean;
} {
  const { values } = parseArgs({
    args: argv,
    options: {
      package: { type: 'string' },
      stage: { type: 'string', default: DEFAULT_STAGE },
      param: { type: 'string', multiple: true, default: [] },
      verbose: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const params = Object.fromEntries(
    values.param.map((entry) => {
      const at = entry.indexOf('=');
      if (at <= 0) throw new Error(`--param needs name=value, got "${entry}"`);
      return [entry.slice(0, at), entry.slice(at + 1)];
    }),
  );
  return { target: values.package, stage: values.stage, params, verbose: values.verbose };
}

async function main(argv: string[]): Promise<void> {
  const { target, stage, params, verbose } = parseBuildArgs(argv);
  const bundle = await buildBundle({ onStep: (step) => console.log(step) });
  console.log(
    `Bundle built in ${bundle.ms} ms → ${path.relative(ROOT, bundle.dir)}/ (handler.mjs ${mb(bundle.handlerBytes)}, ide ${mb(bundle.ideBytes)} gzipped)`,
  );
  if (verbose) {
    for (const [pkg, bytes] of bundle.inputs.slice(0, 15)) console.log(`  ${mb(bytes).padStart(9)}  ${pkg}`);
  }
  if (target === undefined) return;
  if (!params.modelBucket || !params.modelPrefix) {
    throw new Error(
      'Packaging needs the model location: add --param=modelBucket=<bucket> --param=modelPrefix=<prefix/ or key.tar.gz> ' +
        '(e.g. npm run package:x86_64 -- --param=modelBucket=my-models --param=modelPrefix=distilbert-squad/)',
    );
  }
  const archs: Architecture[] = target === 'all' ? [...ARCHITECTURES] : [target as Architecture];
  for (const arch of archs) {
    if (!ARCHITECTURES.includes(arch)) throw new Error(`--package must be x86_64, arm64 or all, got "${target}"`);
    console.log(`Packaging ${arch} (${stage}) with osls…`);
    const { dir, ms } = packageArch(arch, { stage, params });
    const zip = path.join(dir, 'serverless-qa-graphql.zip');
    console.log(`Packaged ${arch} (${stage}) in ${ms} ms → ${path.relative(ROOT, zip)} (${mb(statSync(zip).size)})`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
