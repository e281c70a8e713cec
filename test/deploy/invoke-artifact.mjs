// Loads a packaged Lambda handler in this fresh Node process, as the nodejs22.x runtime does
// (an ESM import, so its top-level await runs as INIT), then invokes it once per event.
//
//   node invoke-artifact.mjs <task root> <handler, e.g. dist/lambda/handler.handler>  < events.json
//
// stdin: a JSON array of events (any front door's, or any JSON value); stdout: one JSON line
// {bootMs, initMs, results, runtime}, bootMs = this process's start to the handler's import,
// runtime = this process's Node version and ABI, the native files it actually mapped from the
// task root and from the temporary folder (from /proc/self/maps: proof that the addons loaded
// under this Node, and from where), and whether INIT loaded Node's fetch implementation.
// Nothing here may come from the repository: run it with cwd = the unzipped artifact.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [taskRoot, handlerSpec] = process.argv.slice(2);
const dot = handlerSpec.lastIndexOf('.');
const base = path.join(taskRoot, handlerSpec.slice(0, dot));
const exportName = handlerSpec.slice(dot + 1);
const file = ['.mjs', '.js', '.cjs'].map((ext) => base + ext).find((f) => existsSync(f));
if (!file) throw new Error(`No handler file for ${handlerSpec} under ${taskRoot}`);

let input = '';
for await (const chunk of process.stdin) input += chunk;
const events = JSON.parse(input);

const started = performance.now();
const mod = await import(pathToFileURL(file).href);
const initMs = performance.now() - started;
// Node's fetch implementation (undici) loads lazily, on first use of fetch or of an ES module
// import of node:http; INIT has no use for it, so its load is a cost every cold start would pay.
const fetchLoadedAtInit = process.moduleLoadList.some((name) => name.includes('internal/deps/undici'));
const handler = mod[exportName];
if (typeof handler !== 'function') throw new Error(`${file} does not export a function "${exportName}"`);

const results = [];
for (const [i, event] of events.entries()) {
  const deadline = Date.now() + 29_000;
  const context = {
    awsRequestId: `req-${i}`,
    functionName: 'serverless-qa-graphql-dev-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:serverless-qa-graphql-dev-api',
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '1769',
    logGroupName: '/aws/lambda/serverless-qa-graphql-dev-api',
    logStreamName: 'test',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  const t0 = performance.now();
  const result = await handler(event, context);
  results.push({ ms: performance.now() - t0, result });
}
const mapped = readFileSync('/proc/self/maps', 'utf8')
  .split('\n')
  .map((line) => line.slice(line.indexOf('/')))
  .filter((file) => /\.(node|so)(\.\d+)*$/.test(file));
/** Native files this process mapped from under `root`, relative to it. */
const mappedUnder = (root) => {
  const real = realpathSync(root);
  return [
    ...new Set(mapped.filter((file) => file.startsWith(real + path.sep)).map((file) => path.relative(real, file))),
  ].sort();
};
const runtime = {
  version: process.version,
  modules: process.versions.modules,
  napi: process.versions.napi,
  natives: mappedUnder(taskRoot),
  // Native files mapped from /tmp (os.tmpdir(), i.e. TMPDIR when set): none, when every one loads
  // from the package.
  fromTmpDir: mappedUnder(tmpdir()),
  fetchLoadedAtInit,
};
// Like a frozen Lambda sandbox: do not wait for idle sockets or timers (but let stdout drain).
process.stdout.write(`${JSON.stringify({ bootMs: started, initMs, results, runtime })}\n`, () => process.exit(0));
