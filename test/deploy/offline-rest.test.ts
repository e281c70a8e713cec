/**
 * The REST API door end to end: `npx osls offline --param=frontDoor=restApi`, whose emulated REST
 * API sends the function payload 1.0 events of its own making (not this repository's fixtures)
 * and checks API keys as API Gateway does (serverless-offline takes a key's name as its value).
 * A POST and a form-encoded GET of the same request must get the same answer, and a request
 * without a key never reaches the function.
 */
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
  describeWhereLambdaRuns,
  lambdaNode,
  pushTestModel,
  spawnGroup,
  stopGroup,
  waitFor,
} from './helpers';

describeWhereLambdaRuns('x64', 'serverless-offline, frontDoor=restApi', () => {
  let s3: TestS3;
  let offline: ReturnType<typeof spawnGroup> | undefined;
  let base: string;
  const KEY = 'offline-client';

  beforeAll(async () => {
    const node = await lambdaNode();
    await buildBundle({ quiet: true });
    s3 = await startS3([MODEL_BUCKET]);
    await pushTestModel(s3);
    const [httpPort, lambdaPort] = [await freePort(), await freePort()];
    base = `http://127.0.0.1:${httpPort}`;
    offline = spawnGroup(
      node.path,
      [
        oslsBin(),
        'offline',
        '--stage',
        'prod',
        `--param=modelBucket=${MODEL_BUCKET}`,
        `--param=modelPrefix=${MODEL_PREFIX}`,
        '--param=frontDoor=restApi',
        `--param=apiKeys=${KEY}`,
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
        return (await fetch(`${base}/graphql`, { method: 'POST' }).catch(() => null)) !== null;
      },
      60_000,
      () => `serverless-offline did not start:\n${offline!.output()}`,
    );
  }, 240_000);

  afterAll(async () => {
    if (offline) await stopGroup(offline);
    await s3?.close();
  });

  const body = JSON.stringify({ query: ANSWER_QUERY, variables: { q: QUESTION, c: CONTEXT } });
  const json = { 'content-type': 'application/json' };

  test('POST and a form-encoded GET with the key get the same answer; without a key, 403 from the gateway', async () => {
    const posted = await fetch(`${base}/graphql`, { method: 'POST', headers: { ...json, 'x-api-key': KEY }, body });
    const postedText = await posted.text();
    expect(`${posted.status} ${postedText}`).toMatch(/^200 /);
    const answer = JSON.parse(postedText);
    expect(answer.data.answer).toEqual({
      text: expect.any(String),
      score: expect.any(Number),
      start: expect.any(Number),
      end: expect.any(Number),
    });
    expect(posted.headers.get('x-request-id')).toEqual(expect.any(String));

    const search = new URLSearchParams({ query: ANSWER_QUERY, variables: JSON.stringify({ q: QUESTION, c: CONTEXT }) });
    const got = await fetch(`${base}/graphql?${search}`, {
      headers: { 'x-api-key': KEY, 'apollo-require-preflight': 'true' },
    });
    expect(await got.json()).toEqual(answer);

    const keyless = await fetch(`${base}/graphql`, { method: 'POST', headers: json, body });
    expect(keyless.status).toBe(403);
    expect(keyless.headers.get('x-request-id')).toBeNull();
  }, 120_000);
});
