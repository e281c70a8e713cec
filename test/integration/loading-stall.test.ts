/**
 * Waiting on a model that does not come: an S3 endpoint that accepts connections and never answers,
 * and a bundle that is corrupt. A load attempt fails in seconds (fits Lambda's 10 s INIT), a request
 * waits for a load at most MODEL_MAX_WAIT_MS, and in every case the client gets 503
 * MODEL_UNAVAILABLE with Retry-After: never a 504 DEADLINE_EXCEEDED that blames its request.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createApi } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { createModelS3Client, loadModelLoadingConfig } from '../../src/model/loading/config';
import { createModelProvider } from '../../src/model/loading/provider';
import { loadModel } from '../../src/model/loading/load-model';
import { gql, lambdaTransport } from '../hardening/helpers/transports';

const answerQuery = (question: string, context: string) =>
  gql('query($q: String!, $c: String!) { answer(question: $q, context: $c) { text } }', { q: question, c: context });

let silent: net.Server;
let endpoint: string;
const sockets = new Set<net.Socket>();
let work: string;

beforeAll(async () => {
  // Accepts every connection, reads the request, never writes a byte.
  silent = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  work = await mkdtemp(path.join(os.tmpdir(), 'loading-stall-'));
  // Credentials come from the SDK's chain (process.env), as in production.
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => silent.close(resolve));
  await rm(work, { recursive: true, force: true });
});

const env = () => ({ AWS_ENDPOINT_URL_S3: endpoint, AWS_REGION: 'us-east-1', S3_FORCE_PATH_STYLE: 'true' });
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('an S3 endpoint that never answers', () => {
  it('fails a load attempt with the default settings well within a 10 s INIT', async () => {
    const config = loadModelLoadingConfig(env());
    const started = Date.now();
    const error = await loadModel('s3://models/m/', {
      s3: createModelS3Client(config),
      preferQuantized: true,
      read: config.s3,
    }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toMatchObject({ reason: 'TIMEOUT', message: expect.stringContaining('no response') });
    expect(elapsed).toBeLessThan(9_000);
  }, 40_000);

  it('a request waits MODEL_MAX_WAIT_MS for the load, then gets 503 MODEL_UNAVAILABLE with Retry-After', async () => {
    const provider = createModelProvider({
      env: { ...env(), MODEL_URI: 's3://models/m/', MODEL_MAX_WAIT_MS: '300', MODEL_S3_FIRST_BYTE_TIMEOUT_MS: '20000' },
      logger: quiet,
    });
    const api = createApi({ config: apiConfig(), provider, ideAssetsDir: null });
    const transport = lambdaTransport(api);
    const started = Date.now();
    const res = await transport(answerQuery('Where?', 'Here.'));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json.errors[0].extensions.code).toBe('MODEL_UNAVAILABLE');
    expect((await transport(gql('{ health { modelState } }'))).json.data.health.modelState).toBe('LOADING');
    await api.server.stop();
  }, 30_000);

  it('a request whose deadline passes while the model loads gets MODEL_UNAVAILABLE, not DEADLINE_EXCEEDED', async () => {
    const provider = createModelProvider({
      env: { ...env(), MODEL_URI: 's3://models/m/', MODEL_S3_FIRST_BYTE_TIMEOUT_MS: '20000' },
      logger: quiet,
    });
    const api = createApi({ config: apiConfig({ limits: { requestTimeoutMs: 300 } }), provider, ideAssetsDir: null });
    const res = await lambdaTransport(api)(answerQuery('Where?', 'Here.'));
    expect(res.json.errors[0].extensions.code).toBe('MODEL_UNAVAILABLE');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    await api.server.stop();
  }, 30_000);
});

describe('a load that failed', () => {
  it('a corrupt bundle: requests get 503 MODEL_UNAVAILABLE with Retry-After, and the load failure names the bundle', async () => {
    const bundle = path.join(work, 'corrupt.tar.gz');
    await writeFile(bundle, Buffer.concat([gzipSync(Buffer.alloc(0)).subarray(0, 10), randomBytes(64 * 1024)]));
    const errors: Array<Record<string, unknown> | undefined> = [];
    const provider = createModelProvider({
      env: { MODEL_URI: bundle },
      logger: { ...quiet, error: (_m, extra) => void errors.push(extra) },
    });
    const api = createApi({ config: apiConfig(), provider, ideAssetsDir: null });
    const res = await lambdaTransport(api)(answerQuery('Where?', 'Here.'));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json.errors[0].extensions.code).toBe('MODEL_UNAVAILABLE');
    expect(String(errors[0]?.reason)).toContain(`Invalid model ${bundle}`);
    await api.server.stop();
  }, 30_000);
});
