import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
// s3rver ships no types.

const S3rver = require('s3rver') as new (options: Record<string, unknown>) => {
  configureBuckets(): Promise<unknown>;
  callback(): http.RequestListener;
};

/** Decides to answer a request itself (return true) instead of passing it to s3rver. */
export type Interceptor = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/** A real S3-protocol server (s3rver) on 127.0.0.1 with request counting and fault injection. */
export interface TestS3 {
  endpoint: string;
  port: number;
  /** A client configured for emulators (path style, WHEN_REQUIRED checksums: docs/model-loading.md, "Configuration"). */
  client: S3Client;
  /** Env for code that builds its own client (AWS conventions + our one switch). */
  env: Record<string, string>;
  /** Requests seen, e.g. `GET /bucket/key` → n (query strings stripped). */
  requests: Map<string, number>;
  count(method: string, bucket: string, key: string): number;
  /** Answer requests yourself while set (e.g. a 403, a truncated body). */
  intercept(fn: Interceptor | undefined): void;
  /** Stops listening and cuts open connections: "S3 is down". */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Writes a real S3 XML error, as S3 itself sends it. */
export function sendS3Error(
  res: http.ServerResponse,
  status: number,
  code: string,
  message: string,
  resource = '',
): void {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${message}</Message><Resource>${resource}</Resource>` +
    '<RequestId>4442587FB7D0A2F9</RequestId><HostId>test</HostId></Error>';
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-amz-request-id': '4442587FB7D0A2F9',
  });
  res.end(body);
}

/**
 * An S3 client for s3rver at `endpoint` (or a proxy in front of it), configured for emulators as
 * docs/model-loading.md, "Configuration", says (path style, WHEN_REQUIRED checksums).
 */
export function emulatorClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Fail fast when "down": the default 3 attempts with backoff would only slow the tests.
    maxAttempts: 2,
  });
}

/** Starts s3rver in a temp directory with the given buckets. */
export async function startS3(buckets: string[] = ['models']): Promise<TestS3> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 's3rver-'));
  const s3rver = new S3rver({
    directory,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name })),
    vhostBuckets: false,
  });
  await s3rver.configureBuckets();
  const app = s3rver.callback();
  const requests = new Map<string, number>();
  let interceptor: Interceptor | undefined;
  // s3rver rewrites an object's file in place, so a GET that overlaps a write of the same key can
  // read a mix of old and new bytes, which S3 never serves (a PUT or a completed multipart upload
  // replaces the object atomically; a GET in progress keeps reading the object it started on).
  // Reads and writes of a key therefore never overlap: a write waits for the reads in progress
  // (they read the old object, whole), and a read arriving during a write waits for it (it reads
  // the new object, whole). Reads overlap reads, and writes writes (a multipart upload's parts).
  const inFlight = new Map<string, { readers: Set<Promise<void>>; writers: Set<Promise<void>> }>();
  const track = (objectPath: string, kind: 'readers' | 'writers', res: http.ServerResponse) => {
    const entry = inFlight.get(objectPath) ?? { readers: new Set(), writers: new Set() };
    inFlight.set(objectPath, entry);
    const done = new Promise<void>((resolve) => res.once('close', resolve));
    entry[kind].add(done);
    void done.then(() => {
      entry[kind].delete(done);
      if (entry.readers.size === 0 && entry.writers.size === 0) inFlight.delete(objectPath);
    });
  };
  const whenNoWriters = async (objectPath: string): Promise<void> => {
    // A writer may register while this read waits for the previous ones: wait until none is left.
    for (let w = inFlight.get(objectPath)?.writers; w && w.size > 0; w = inFlight.get(objectPath)?.writers) {
      await Promise.all(w);
    }
  };
  const server = http.createServer((req, res) => {
    const objectPath = decodeURIComponent((req.url ?? '').split('?')[0]!);
    const key = `${req.method} ${objectPath}`;
    requests.set(key, (requests.get(key) ?? 0) + 1);
    if (interceptor?.(req, res)) return;
    if (req.method === 'PUT' || req.method === 'POST' || req.method === 'DELETE') {
      const readers = [...(inFlight.get(objectPath)?.readers ?? [])];
      track(objectPath, 'writers', res);
      if (readers.length > 0) {
        void Promise.all(readers).then(() => app(req, res));
        return;
      }
    } else if (inFlight.get(objectPath)?.writers.size) {
      void whenNoWriters(objectPath).then(() => {
        track(objectPath, 'readers', res);
        app(req, res);
      });
      return;
    } else {
      track(objectPath, 'readers', res);
    }
    app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = emulatorClient(endpoint);
  let listening = true;
  return {
    endpoint,
    port,
    client,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      S3_FORCE_PATH_STYLE: 'true',
    },
    requests,
    count: (method, bucket, key) => requests.get(`${method} /${bucket}/${key}`) ?? 0,
    intercept: (fn) => void (interceptor = fn),
    down: async () => {
      if (!listening) return;
      listening = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
    up: async () => {
      if (listening) return;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve());
      });
      listening = true;
    },
    close: async () => {
      client.destroy();
      if (listening) {
        listening = false;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * Records unhandled rejections during a test file; call the returned function in afterAll to fail
 * if any happened (a leaked rejection in a loader is a crash in production with --unhandled-rejections=throw).
 */
export function trackUnhandledRejections(): () => void {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown): void => void seen.push(reason);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('unhandledRejection', onRejection);
    if (seen.length > 0) throw new Error(`unhandled rejections: ${seen.map(String).join('; ')}`);
  };
}
