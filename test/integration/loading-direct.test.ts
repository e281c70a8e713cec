/**
 * Direct reads (src/model/loading/direct-range.ts): the parts a manifest lists are read by
 * presigned GETs whose bodies land in place, and any answer that is not the plain one goes back to
 * the SDK. The server here is a real HTTP server speaking S3's ranged GetObject; it tells the two
 * paths apart by how a request is signed (a presigned query string, or an Authorization header),
 * and can misbehave on the direct path only.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DirectReadDeclined, readRangeDirect } from '../../src/model/loading/direct-range';
import { readS3Object, type ExpectedContent } from '../../src/model/loading/s3-object';
import { emulatorClient } from '../helpers/s3rver';

const PART = 64 * 1024;
const OBJECT = randomBytes(5 * PART + 1234);
const KEY = 'models/v1/onnx/model_quantized.onnx';
const ETAG = '"0123456789abcdef0123456789abcdef"';

type Misbehaviour =
  | 'none'
  | 'whole-object'
  | 'wrong-range'
  | 'chunked'
  | 'extra-byte'
  | 'huge-head'
  | 'stall'
  | 'flip-byte'
  | 'other-etag';

interface Seen {
  direct: number;
  sdk: number;
  closed: number;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function expectedContent(): ExpectedContent {
  const hashes: string[] = [];
  for (let at = 0; at < OBJECT.length; at += PART) hashes.push(sha(OBJECT.subarray(at, at + PART)));
  return { bytes: OBJECT.length, sha256: sha(OBJECT), parts: { bytes: PART, sha256: hashes } };
}

/** Serves OBJECT at /bucket/KEY with Range; `misbehave` applies to presigned (direct) requests only. */
function handler(seen: Seen, misbehave: () => Misbehaviour) {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://x');
    const direct = url.searchParams.has('X-Amz-Signature');
    if (direct) seen.direct += 1;
    else if (req.headers.authorization) seen.sdk += 1;
    req.socket.once('close', () => (seen.closed += 1));
    if (url.pathname !== `/bucket/${KEY}`) {
      res.writeHead(404, { 'content-type': 'application/xml' });
      return void res.end('<Error><Code>NoSuchKey</Code></Error>');
    }
    const m = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ''));
    const [start, end] = m ? [Number(m[1]), Math.min(Number(m[2]), OBJECT.length - 1)] : [0, OBJECT.length - 1];
    let body = OBJECT.subarray(start, end + 1);
    const how = direct ? misbehave() : 'none';
    const headers: http.OutgoingHttpHeaders = {
      etag: how === 'other-etag' && start > 0 ? '"ffffffffffffffffffffffffffffffff"' : ETAG,
      'content-type': 'application/octet-stream',
      'content-length': body.length,
      'content-range': `bytes ${start}-${end}/${OBJECT.length}`,
    };
    if (how === 'whole-object') {
      res.writeHead(200, { etag: ETAG, 'content-length': OBJECT.length });
      return void res.end(OBJECT);
    }
    if (how === 'wrong-range') headers['content-range'] = `bytes ${start + 1}-${end + 1}/${OBJECT.length}`;
    if (how === 'huge-head') headers['x-padding'] = 'x'.repeat(20 * 1024);
    if (how === 'flip-byte') {
      body = Buffer.from(body);
      body[0]! ^= 0xff;
    }
    if (how === 'chunked') {
      delete headers['content-length'];
      headers['transfer-encoding'] = 'chunked';
    }
    res.writeHead(206, headers);
    if (how === 'stall') return void res.write(body.subarray(0, 100));
    if (how === 'extra-byte') {
      // A raw extra byte past the declared length (an HTTP server bug, or an attacker).
      res.end(body);
      req.socket.write(Buffer.from('X'));
      return;
    }
    res.end(body);
  };
}

async function listen(server: http.Server | https.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return `${server instanceof https.Server ? 'https' : 'http'}://127.0.0.1:${port}`;
}

const OPTIONS = { idleTimeoutMs: 500, firstByteTimeoutMs: 1_000, totalTimeoutMs: 10_000, concurrency: 3 };

describe('direct reads of a manifest-listed object', () => {
  let server: http.Server;
  let endpoint: string;
  let seen: Seen;
  let misbehaviour: Misbehaviour = 'none';

  beforeAll(async () => {
    server = http.createServer((req, res) => handler(seen, () => misbehaviour)(req, res));
    endpoint = await listen(server);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen = { direct: 0, sdk: 0, closed: 0 };
    misbehaviour = 'none';
  });

  const read = (extra: Partial<typeof OPTIONS> & { directReads?: boolean } = {}) =>
    readS3Object(
      emulatorClient(endpoint),
      'bucket',
      KEY,
      { ...OPTIONS, ...extra },
      { kind: 'buffer' },
      expectedContent(),
    );

  test('every part is read by a presigned GET straight into place, and the bytes are the object', async () => {
    const result = await read();
    expect(Buffer.compare(result.data as Buffer, OBJECT)).toBe(0);
    const parts = Math.ceil(OBJECT.length / PART);
    expect(result.directParts).toBe(parts);
    expect(seen).toMatchObject({ direct: parts, sdk: 0 });
    expect(result.etag).toBe(ETAG);
  });

  test('off (`directReads: false`), every part goes through the SDK', async () => {
    const result = await read({ directReads: false });
    expect(Buffer.compare(result.data as Buffer, OBJECT)).toBe(0);
    expect(result.directParts).toBe(0);
    expect(seen.direct).toBe(0);
  });

  test.each<Misbehaviour>(['whole-object', 'wrong-range', 'chunked', 'huge-head', 'stall'])(
    'an answer that is not the plain one (%s) goes back to the SDK, and the read is still exact',
    async (how) => {
      misbehaviour = how;
      const result = await read();
      expect(Buffer.compare(result.data as Buffer, OBJECT)).toBe(0);
      expect(result.directParts).toBe(0);
      // The first wave tried directly, the SDK read every part.
      expect(seen.direct).toBeGreaterThan(0);
      expect(seen.direct).toBeLessThanOrEqual(OPTIONS.concurrency);
      expect(seen.sdk).toBe(Math.ceil(OBJECT.length / PART));
    },
  );

  test('bytes sent past the range never land: unread when the part ends first, declined when they come with the headers', async () => {
    misbehaviour = 'extra-byte';
    const result = await read();
    expect(Buffer.compare(result.data as Buffer, OBJECT)).toBe(0);
    // The large parts end before the extra byte is read. The short last part may arrive whole with
    // its headers and the byte after it (declined, then read by the SDK), or before it (read).
    expect(result.directParts).toBeGreaterThanOrEqual(Math.ceil(OBJECT.length / PART) - 1);
  });

  test('bytes that are not the manifest’s fail the read (CHECKSUM_MISMATCH): a direct read is verified like any other', async () => {
    misbehaviour = 'flip-byte';
    await expect(read()).rejects.toMatchObject({ reason: 'CHECKSUM_MISMATCH' });
  });

  test('parts of another upload (another ETag) fail the read as CHANGED', async () => {
    misbehaviour = 'other-etag';
    await expect(read({ concurrency: 1 })).rejects.toMatchObject({ reason: 'CHANGED' });
  });

  test('the object deadline ends a stalled direct read as a TIMEOUT of the whole read, at the deadline', async () => {
    misbehaviour = 'stall';
    const t0 = performance.now();
    await expect(read({ idleTimeoutMs: 5_000, totalTimeoutMs: 300 })).rejects.toMatchObject({
      reason: 'TIMEOUT',
      message: expect.stringContaining('total deadline'),
    });
    expect(performance.now() - t0).toBeLessThan(2_000);
  });

  test('an abort stops a direct read at once and closes its connection', async () => {
    misbehaviour = 'stall';
    const controller = new AbortController();
    const into = Buffer.alloc(PART);
    const reading = readRangeDirect({
      url: new URL(`${endpoint}/bucket/${KEY}?X-Amz-Signature=x`),
      start: 0,
      end: PART - 1,
      into,
      firstByteTimeoutMs: 5_000,
      idleTimeoutMs: 5_000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('stopped by the test')), 100);
    const t0 = performance.now();
    await expect(reading).rejects.toThrow('stopped by the test');
    expect(performance.now() - t0).toBeLessThan(1_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen.closed).toBe(1);
  });

  test('a stalled body is declined after the idle timeout, not waited for', async () => {
    misbehaviour = 'stall';
    await expect(
      readRangeDirect({
        url: new URL(`${endpoint}/bucket/${KEY}?X-Amz-Signature=x`),
        start: 0,
        end: PART - 1,
        into: Buffer.alloc(PART),
        firstByteTimeoutMs: 1_000,
        idleTimeoutMs: 200,
        signal: new AbortController().signal,
      }),
    ).rejects.toBeInstanceOf(DirectReadDeclined);
  });
});

describe('direct reads over TLS', () => {
  let dir: string;
  let server: https.Server;
  let endpoint: string;
  let cert: Buffer;
  const seen: Seen = { direct: 0, sdk: 0, closed: 0 };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'direct-tls-'));
    // A self-signed certificate for 127.0.0.1 (Debian's openssl, as the CI image has it).
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(path.join(dir, 'cert.pem'));
    server = https.createServer(
      { key: readFileSync(path.join(dir, 'key.pem')), cert },
      handler(seen, () => 'none'),
    );
    endpoint = await listen(server);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const request = (ca?: Buffer) => {
    const into = Buffer.alloc(PART);
    return {
      into,
      reading: readRangeDirect({
        url: new URL(`${endpoint}/bucket/${KEY}?X-Amz-Signature=x`),
        start: PART,
        end: 2 * PART - 1,
        into,
        firstByteTimeoutMs: 2_000,
        idleTimeoutMs: 2_000,
        signal: new AbortController().signal,
        ca,
      }),
    };
  };

  test('reads the range over TLS into place when the certificate is trusted', async () => {
    const { into, reading } = request(cert);
    await expect(reading).resolves.toMatchObject({ etag: ETAG, total: OBJECT.length });
    expect(Buffer.compare(into, OBJECT.subarray(PART, 2 * PART))).toBe(0);
  });

  test('declines a server whose certificate is not trusted', async () => {
    await expect(request().reading).rejects.toBeInstanceOf(DirectReadDeclined);
  });
});
