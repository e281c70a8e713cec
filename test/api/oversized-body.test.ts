/**
 * An oversized request always gets its 413, never a reset connection. The cases in
 * helpers/oversized-body.ts run against a minimal node:http server that uses src/server/node-body.ts
 * exactly as a transport does, and against the local server itself.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import * as net from 'node:net';
import { types } from 'node:util';
import type { AddressInfo } from 'node:net';
import {
  DEFAULT_MAX_DRAIN_BYTES,
  DEFAULT_MAX_DRAIN_MS,
  readBody,
  sendWhileDraining,
  type DrainOptions,
  type DrainOutcome,
  type ReadBodyResult,
} from '../../src/server/node-body';
import {
  graphqlBody,
  oversizedBodyCases,
  rawPost,
  samplePeakMemory,
  type OversizedBodyServer,
} from './helpers/oversized-body';
import { UnavailableProvider } from './helpers/engines';
import { createApi } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { listen } from '../../src/local-server';

const LIMIT = 1_048_576;

interface NodeBodyServer extends OversizedBodyServer {
  refusals: Exclude<ReadBodyResult, { kind: 'body' }>[];
  readErrors: Error[];
  outcomes: DrainOutcome[];
}

/** The 413 a transport sends: the GraphQL error shape with its code. */
function payloadTooLarge(read: Exclude<ReadBodyResult, { kind: 'body' }>, limit: number) {
  const size = read.declaredBytes !== null ? `${read.declaredBytes} bytes` : `at least ${read.seenBytes} bytes`;
  const message = `The request body is ${size}; the limit is ${limit}.`;
  return {
    status: 413,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ errors: [{ message, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] }),
  };
}

/** A minimal server whose handler reads bodies as a transport would; a body within the limit is echoed. */
async function startNodeBodyServer(limit = LIMIT, drain: DrainOptions = {}): Promise<NodeBodyServer> {
  const refusals: NodeBodyServer['refusals'] = [];
  const readErrors: Error[] = [];
  const outcomes: DrainOutcome[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let read: ReadBodyResult;
    try {
      read = await readBody(req, { maxBytes: limit });
    } catch (error) {
      readErrors.push(error as Error);
      res.destroy();
      return;
    }
    if (read.kind === 'too-large') {
      refusals.push(read);
      outcomes.push(await sendWhileDraining(req, res, payloadTooLarge(read, limit), drain));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': read.body.length });
    res.end(read.body);
  };
  const server = http.createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    refusals,
    readErrors,
    outcomes,
    drainOutcomes: () => outcomes,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('oversized bodies against a node:http server using src/server/node-body.ts', () => {
  oversizedBodyCases(() => startNodeBodyServer(), {
    limitBytes: LIMIT,
    maxDrainBytes: DEFAULT_MAX_DRAIN_BYTES,
    maxDrainMs: DEFAULT_MAX_DRAIN_MS,
    echoesBody: true,
  });
});

describe('readBody and sendWhileDraining details', () => {
  let server: NodeBodyServer;
  beforeAll(async () => {
    server = await startNodeBodyServer();
  });
  afterAll(async () => {
    await server.close();
  });

  test('a declared Content-Length over the limit is refused without reading; a chunked body once past the limit, keeping nothing more', async () => {
    const body = graphqlBody(3 * LIMIT, false);
    const declared = await rawPost(server.url, { body, chunked: false });
    const chunked = await rawPost(server.url, { body, chunked: true });
    expect([declared.status, chunked.status]).toEqual([413, 413]);
    const [first, second] = server.refusals.slice(-2);
    expect(first).toEqual({ kind: 'too-large', declaredBytes: body.length, seenBytes: 0 });
    expect(second).toMatchObject({ kind: 'too-large', declaredBytes: null });
    // Reading stops at the first chunk that passes the limit (Node reads 64 KiB at a time).
    expect(second!.seenBytes).toBeGreaterThan(LIMIT);
    expect(second!.seenBytes).toBeLessThanOrEqual(LIMIT + 64 * 1024);
    expect(JSON.parse(chunked.body).errors[0].message).toBe(
      `The request body is at least ${second!.seenBytes} bytes; the limit is ${LIMIT}.`,
    );
    // Both clients finished their upload, so both connections closed cleanly after draining.
    expect(server.outcomes.slice(-2).map((o) => o.ended)).toEqual(['client-finished', 'client-finished']);
    expect(declared.error).toBeNull();
    expect(chunked.error).toBeNull();
  });

  test('a client that resets mid-body makes readBody reject with an Error', async () => {
    const before = server.readErrors.length;
    const { port } = new URL(server.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    socket.write('POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n' + 'x'.repeat(100));
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.resetAndDestroy();
    for (let i = 0; i < 100 && server.readErrors.length === before; i++) await new Promise((r) => setTimeout(r, 50));
    expect(server.readErrors.length).toBe(before + 1);
    // An Error of Node's realm (Jest's own `Error` is another realm's).
    expect(types.isNativeError(server.readErrors[before])).toBe(true);
  });

  test('memory stays flat while one connection discards 256 MiB', async () => {
    // A drain bound far above the body limit, so that buffering what is discarded would show.
    const drainBytes = 256 * 2 ** 20;
    const big = await startNodeBodyServer(LIMIT, { maxDrainBytes: drainBytes, maxDrainMs: 120_000 });
    try {
      const memory = samplePeakMemory(10);
      const result = await rawPost(big.url, {
        body: graphqlBody(4 * 2 ** 20, false),
        chunked: false,
        totalBytes: drainBytes,
      }).finally(() => memory.stop());
      expect({ status: result.status, error: result.error }).toEqual({ status: 413, error: null });
      expect(big.outcomes[0]).toMatchObject({ ended: 'client-finished', discardedBytes: drainBytes });
      const { rssGrowth, arrayBufferGrowth } = memory.growth();
      console.log(
        `256 MiB discarded: peak growth rss ${(rssGrowth / 2 ** 20).toFixed(1)} MiB, ` +
          `array buffers ${(arrayBufferGrowth / 2 ** 20).toFixed(1)} MiB`,
      );
      expect(rssGrowth).toBeLessThan(drainBytes / 2);
      expect(arrayBufferGrowth).toBeLessThan(drainBytes / 2);
    } finally {
      await big.close();
    }
  });

  test('the bug this avoids: answering with Connection: close and ending at once resets a client still sending', async () => {
    // What src/local-server.ts did before: Node destroys the socket when the response finishes
    // (resOnFinish → destroySoon), with request bytes unread, so the client's writes fail.
    const naive = http.createServer((req, res) => {
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      res.end('{"errors":[{"message":"too large","extensions":{"code":"PAYLOAD_TOO_LARGE"}}]}');
    });
    await new Promise<void>((resolve) => naive.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(naive.address() as AddressInfo).port}/graphql`;
    const body = graphqlBody(10_000_000, false);
    const errors: (string | null)[] = [];
    for (let i = 0; i < 10; i++) errors.push((await rawPost(url, { body, chunked: i % 2 === 1 })).error);
    await new Promise<void>((resolve) => {
      naive.close(() => resolve());
      naive.closeAllConnections();
    });
    const resets = errors.filter((e) => e === 'EPIPE' || e === 'ECONNRESET').length;
    console.log(`naive close: ${resets}/10 raw uploads reset (${errors.join(', ')})`);
    expect(resets).toBeGreaterThan(0);
  });
});

describe('oversized bodies against the local server (src/local-server.ts through the request core)', () => {
  oversizedBodyCases(
    async () => {
      // No model is needed to refuse a body; a body within the limit is an ordinary GraphQL request.
      const api = createApi({
        config: apiConfig({ limits: { maxBodyBytes: LIMIT } }),
        provider: new UnavailableProvider(),
        ideAssetsDir: null,
        logSink: () => undefined,
      });
      return listen(api, { port: 0, host: '127.0.0.1' });
    },
    { limitBytes: LIMIT, maxDrainBytes: DEFAULT_MAX_DRAIN_BYTES, maxDrainMs: DEFAULT_MAX_DRAIN_MS },
  );
});
