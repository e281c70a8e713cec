/**
 * Ranged reads (src/model/loading/s3-object.ts) through the throttling proxy in front of s3rver:
 * S3's per-connection bandwidth and time to first byte, and faults on chosen parts. Expected bytes
 * and hashes come from the source buffers, hashed here with node:crypto.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { emulatorClient, startS3, trackUnhandledRejections, type TestS3 } from '../helpers/s3rver';
import { startThrottleProxy, type ThrottleProxy } from '../helpers/throttle-proxy';
import { planParts } from '../../src/model/loading/byte-ranges';
import type { WritableFile } from '../../src/model/loading/part-sink';
import { readS3Object, type ObjectReadOptions } from '../../src/model/loading/s3-object';
import { ModelLocalStorageError } from '../../src/model/loading/errors';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const checkRejections = trackUnhandledRejections();

let s3: TestS3;
let proxy: ThrottleProxy;
let client: S3Client;
let work: string;
/** 20 MiB + 123 bytes: five 4 MiB parts and a short sixth. */
const big = randomBytes(20 * MiB + 123);
const small = Buffer.from('{"small": true}');
const KEY = 'ranged/big.bin';
const PATH = `/models/${KEY}`;

const opts = (over: Partial<ObjectReadOptions> = {}): ObjectReadOptions => ({
  idleTimeoutMs: 1_000,
  totalTimeoutMs: 20_000,
  partBytes: 4 * MiB,
  concurrency: 4,
  partAttempts: 3,
  ...over,
});
const rangeOf = (index: number, total = big.length, part = 4 * MiB) =>
  `bytes=${index * part}-${Math.min(total, (index + 1) * part) - 1}`;

beforeAll(async () => {
  s3 = await startS3(['models']);
  await s3.client.send(new PutObjectCommand({ Bucket: 'models', Key: KEY, Body: big }));
  await s3.client.send(new PutObjectCommand({ Bucket: 'models', Key: 'ranged/small.json', Body: small }));
  proxy = await startThrottleProxy(s3.endpoint);
  client = emulatorClient(proxy.endpoint);
  work = await mkdtemp(path.join(os.tmpdir(), 'loading-ranged-'));
});

afterAll(async () => {
  client?.destroy();
  await proxy?.close();
  await s3?.close();
  await rm(work, { recursive: true, force: true });
  checkRejections();
});

const since = (n: number) => proxy.log.slice(n).filter((e) => e.path === PATH);

describe('ranged reads through the throttling proxy (85 MB/s per connection, 30 ms to first byte)', () => {
  it('plans parts that cover the object exactly once', () => {
    const parts = planParts(10, 4);
    expect(parts.map((p) => [p.start, p.end])).toEqual([
      [0, 3],
      [4, 7],
      [8, 9],
    ]);
    expect(planParts(0, 4)).toEqual([]);
    expect(planParts(10, Infinity).map((p) => [p.start, p.end])).toEqual([[0, 9]]);
  });

  it('reads a large object as ranged GETs into one buffer, byte-identical', async () => {
    const mark = proxy.log.length;
    const read = await readS3Object(client, 'models', KEY, opts(), { kind: 'buffer' });
    expect(read.bytes).toBe(big.length);
    expect(sha(read.data as Buffer)).toBe(sha(big));
    expect(read.retries).toBe(0);
    const ranges = since(mark)
      .map((e) => e.range)
      .sort();
    expect(ranges).toEqual([0, 1, 2, 3, 4, 5].map((i) => rangeOf(i)).sort());
    expect(since(mark).every((e) => e.status === 206)).toBe(true);
  });

  it('onRequested fires once, when the first wave of parts has been requested and before the body is in', async () => {
    const mark = proxy.log.length;
    const calls: Array<{ settled: boolean; partsLogged: number }> = [];
    let settled = false;
    await readS3Object(client, 'models', KEY, opts(), { kind: 'buffer' }, undefined, {
      onRequested: () => calls.push({ settled, partsLogged: since(mark).filter((e) => e.range !== rangeOf(0)).length }),
    }).then(() => (settled = true));
    // Once, while the read was still going, and before parts 1.. had reached the server: it
    // comes when their GETs are handed to the client, right after the probe's answer.
    expect(calls).toEqual([{ settled: false, partsLogged: 0 }]);
    // Probe (part 0) plus parts 1-3: concurrency 4; parts 4 and 5 follow as those finish.
    expect(
      since(mark)
        .slice(0, 4)
        .map((e) => e.range)
        .sort(),
    ).toEqual([0, 1, 2, 3].map((i) => rangeOf(i)).sort());
  });

  it('a small object is one GET', async () => {
    const mark = proxy.log.length;
    const read = await readS3Object(client, 'models', 'ranged/small.json', opts(), { kind: 'buffer' });
    expect((read.data as Buffer).equals(small)).toBe(true);
    expect(proxy.log.slice(mark).filter((e) => e.path === '/models/ranged/small.json')).toHaveLength(1);
  });

  it('partBytes Infinity reads one stream without Range', async () => {
    const mark = proxy.log.length;
    const read = await readS3Object(client, 'models', KEY, opts({ partBytes: Infinity }), { kind: 'buffer' });
    expect(sha(read.data as Buffer)).toBe(sha(big));
    expect(since(mark).map((e) => [e.range, e.status])).toEqual([[undefined, 200]]);
  });

  it('a part reset mid-body is fetched again alone; the other parts once', async () => {
    const mark = proxy.log.length;
    let resets = 0;
    proxy.faults((req) =>
      req.path === PATH && req.range === rangeOf(2) && resets++ === 0 ? { kind: 'reset', afterBytes: MiB } : undefined,
    );
    try {
      const read = await readS3Object(client, 'models', KEY, opts(), { kind: 'buffer' });
      expect(sha(read.data as Buffer)).toBe(sha(big));
      expect(read.retries).toBe(1);
    } finally {
      proxy.faults(undefined);
    }
    const log = since(mark);
    expect(log.filter((e) => e.range === rangeOf(2)).map((e) => e.fault ?? 'ok')).toEqual(['reset', 'ok']);
    for (const i of [0, 1, 3, 4, 5]) expect(log.filter((e) => e.range === rangeOf(i))).toHaveLength(1);
  });

  it('a part that stalls (mid-body, or before its headers) is retried alone after the idle timeout', async () => {
    for (const fault of [
      { kind: 'stall', afterBytes: 1000 },
      { kind: 'stall', afterBytes: 0, beforeHeaders: true },
    ] as const) {
      const mark = proxy.log.length;
      let stalls = 0;
      proxy.faults((req) =>
        req.path === PATH && req.range === rangeOf(4) && stalls++ === 0 ? { ...fault, ms: 5_000 } : undefined,
      );
      try {
        // Far below the 5 s stall, far above what a busy machine makes a healthy part wait (the first
        // byte included: its timeout defaults to the idle one).
        const read = await readS3Object(client, 'models', KEY, opts({ idleTimeoutMs: 1_500 }), { kind: 'buffer' });
        expect(sha(read.data as Buffer)).toBe(sha(big));
        expect(read.retries).toBe(1);
      } finally {
        proxy.faults(undefined);
      }
      expect(since(mark).filter((e) => e.range === rangeOf(4))).toHaveLength(2);
      expect(since(mark)).toHaveLength(7);
    }
  });

  it('a part that fails every attempt fails the read after partAttempts, naming the object and the part', async () => {
    const mark = proxy.log.length;
    proxy.faults((req) =>
      req.path === PATH && req.range === rangeOf(1) ? { kind: 'reset', afterBytes: 1000 } : undefined,
    );
    try {
      await expect(readS3Object(client, 'models', KEY, opts(), { kind: 'buffer' })).rejects.toMatchObject({
        name: 'TruncatedModelObjectError',
        reason: 'TRUNCATED',
        object: `s3://models/${KEY}`,
        message: expect.stringMatching(
          new RegExp(
            `^Truncated read of s3://models/ranged/big\\.bin \\(bytes ${4 * MiB}-${8 * MiB - 1} of ${big.length}\\): received \\d+ of ${4 * MiB} bytes$`,
          ),
        ),
      });
    } finally {
      proxy.faults(undefined);
    }
    expect(since(mark).filter((e) => e.range === rangeOf(1))).toHaveLength(3);
  });

  it('writes to a file at each part offset, byte-identical, mode 0600', async () => {
    const file = path.join(work, 'big.bin');
    const read = await readS3Object(client, 'models', KEY, opts(), { kind: 'file', path: file });
    expect(read.data).toBe(file);
    expect(sha(await readFile(file))).toBe(sha(big));
    expect((await import('node:fs')).statSync(file).mode & 0o777).toBe(0o600);
  });

  it('checks an expected size and SHA-256 (hashed in order while parts complete)', async () => {
    const good = await readS3Object(
      client,
      'models',
      KEY,
      opts(),
      { kind: 'buffer' },
      { bytes: big.length, sha256: sha(big) },
    );
    expect(good.sha256).toBe(sha(big));
    const wrong = sha(Buffer.from('another model'));
    await expect(
      readS3Object(client, 'models', KEY, opts(), { kind: 'buffer' }, { bytes: big.length, sha256: wrong }),
    ).rejects.toMatchObject({
      name: 'ModelChecksumError',
      reason: 'CHECKSUM_MISMATCH',
      message: `Checksum mismatch for s3://models/${KEY}: SHA-256 is ${sha(big)}, the manifest lists ${wrong}`,
    });
  });

  describe('with per-part SHA-256 (a manifest written by model push)', () => {
    /** The object's parts in `partBytes`, hashed here. */
    const partsOf = (bytes: Buffer, partBytes: number) => ({
      bytes: partBytes,
      sha256: planParts(bytes.length, partBytes).map((p) => sha(bytes.subarray(p.start, p.end + 1))),
    });
    const md5 = `"${createHash('md5').update(big).digest('hex')}"`;
    /** Answers GETs of `range` with the right headers and one flipped byte, `times` times (then s3rver answers). */
    const corrupt = (range: string, times: number) => {
      let left = times;
      s3.intercept((req, res) => {
        if (req.method !== 'GET' || !req.url?.startsWith(PATH) || req.headers.range !== range || left <= 0)
          return false;
        left -= 1;
        const [start, end] = /bytes=(\d+)-(\d+)/.exec(range)!.slice(1).map(Number) as [number, number];
        const body = Buffer.from(big.subarray(start, end + 1));
        body[body.length >> 1] = body[body.length >> 1]! ^ 0xff;
        res.writeHead(206, {
          'content-length': body.length,
          'content-range': `bytes ${start}-${end}/${big.length}`,
          etag: md5,
          'accept-ranges': 'bytes',
        });
        res.end(body);
        return true;
      });
    };

    it("reads the manifest's parts (not the configured part size) and verifies each", async () => {
      const mark = proxy.log.length;
      const read = await readS3Object(
        client,
        'models',
        KEY,
        opts({ partBytes: 4 * MiB }),
        { kind: 'buffer' },
        { bytes: big.length, sha256: sha(big), parts: partsOf(big, 8 * MiB) },
      );
      expect(sha(read.data as Buffer)).toBe(sha(big));
      expect(read.sha256).toBe(sha(big));
      expect(
        since(mark)
          .map((e) => e.range)
          .sort(),
      ).toEqual([0, 1, 2].map((i) => rangeOf(i, big.length, 8 * MiB)).sort());
    });

    it('one stream asked for (partBytes Infinity) is one GET, checked with the whole-file hash', async () => {
      const mark = proxy.log.length;
      const expected = { bytes: big.length, sha256: sha(big), parts: partsOf(big, 4 * MiB) };
      const read = await readS3Object(
        client,
        'models',
        KEY,
        opts({ partBytes: Infinity }),
        { kind: 'buffer' },
        expected,
      );
      expect(sha(read.data as Buffer)).toBe(sha(big));
      expect(since(mark)).toHaveLength(1);
      const wrong = sha(Buffer.from('another model'));
      await expect(
        readS3Object(
          client,
          'models',
          KEY,
          opts({ partBytes: Infinity }),
          { kind: 'buffer' },
          { ...expected, sha256: wrong },
        ),
      ).rejects.toMatchObject({
        name: 'ModelChecksumError',
        message: `Checksum mismatch for s3://models/${KEY}: SHA-256 is ${sha(big)}, the manifest lists ${wrong}`,
      });
    });

    it('a part damaged in transit is read again alone; the others once', async () => {
      const mark = proxy.log.length;
      corrupt(rangeOf(2), 1);
      try {
        const read = await readS3Object(
          client,
          'models',
          KEY,
          opts(),
          { kind: 'buffer' },
          { bytes: big.length, sha256: sha(big), parts: partsOf(big, 4 * MiB) },
        );
        expect(sha(read.data as Buffer)).toBe(sha(big));
        expect(read.retries).toBe(1);
      } finally {
        s3.intercept(undefined);
      }
      const log = since(mark);
      expect(log.filter((e) => e.range === rangeOf(2))).toHaveLength(2);
      for (const i of [0, 1, 3, 4, 5]) expect(log.filter((e) => e.range === rangeOf(i))).toHaveLength(1);
    });

    it('a part damaged on every attempt fails after partAttempts with a ModelChecksumError naming the part', async () => {
      const mark = proxy.log.length;
      corrupt(rangeOf(3), 10);
      const expected = sha(big.subarray(3 * 4 * MiB, 4 * 4 * MiB));
      try {
        await expect(
          readS3Object(
            client,
            'models',
            KEY,
            opts(),
            { kind: 'buffer' },
            { bytes: big.length, sha256: sha(big), parts: partsOf(big, 4 * MiB) },
          ),
        ).rejects.toMatchObject({
          name: 'ModelChecksumError',
          reason: 'CHECKSUM_MISMATCH',
          object: `s3://models/${KEY}`,
          message: expect.stringMatching(
            new RegExp(
              `^Checksum mismatch for s3://models/ranged/big\\.bin: bytes ${12 * MiB}-${16 * MiB - 1} have SHA-256 [0-9a-f]{64}, the manifest lists ${expected}$`,
            ),
          ),
        });
      } finally {
        s3.intercept(undefined);
      }
      expect(since(mark).filter((e) => e.range === rangeOf(3))).toHaveLength(3);
    });
  });

  it('an object replaced once during the read is read again from the start, all of it from the new upload', async () => {
    const replacement = randomBytes(big.length);
    let replaced = false;
    // Its own key, so the other tests keep the original.
    const key = 'ranged/replaced.bin';
    await s3.client.send(new PutObjectCommand({ Bucket: 'models', Key: key, Body: big }));
    s3.intercept((req, res) => {
      if (
        !replaced &&
        req.method === 'GET' &&
        req.url?.startsWith(`/models/${key}`) &&
        String(req.headers.range).startsWith(`bytes=${8 * MiB}-`)
      ) {
        replaced = true;
        // As a push would: the object is replaced after parts 0-1 were read from the old one; this
        // part's connection drops, and its retry finds the new ETag.
        void s3.client
          .send(new PutObjectCommand({ Bucket: 'models', Key: key, Body: replacement }))
          .then(() => void s3.intercept(undefined))
          .then(() => res.destroy());
        return true;
      }
      return false;
    });
    try {
      const read = await readS3Object(client, 'models', key, opts({ concurrency: 1 }), { kind: 'buffer' });
      expect(replaced).toBe(true);
      expect(sha(read.data as Buffer)).toBe(sha(replacement));
    } finally {
      s3.intercept(undefined);
    }
  });

  it('an object replaced between parts (another ETag) fails, never stitched', async () => {
    s3.intercept((req, res) => {
      if (
        req.method !== 'GET' ||
        !req.url?.startsWith(PATH) ||
        !String(req.headers.range).startsWith(`bytes=${8 * MiB}-`)
      )
        return false;
      const body = randomBytes(4 * MiB);
      res.writeHead(206, {
        'content-length': String(body.length),
        'content-range': `bytes ${8 * MiB}-${12 * MiB - 1}/${big.length}`,
        etag: '"0123456789abcdef0123456789abcdef"',
      });
      res.end(body);
      return true;
    });
    try {
      await expect(readS3Object(client, 'models', KEY, opts(), { kind: 'buffer' })).rejects.toMatchObject({
        name: 'ModelObjectChangedError',
        reason: 'CHANGED',
      });
    } finally {
      s3.intercept(undefined);
    }
  });

  it('a full disk (ENOSPC injected on a part write) is a ModelLocalStorageError, and the partial file is removed', async () => {
    const file = path.join(work, 'full.bin');
    let writes = 0;
    const openFile = async (p: string): Promise<WritableFile> => {
      const real = await (await import('node:fs/promises')).open(p, 'w', 0o600);
      return {
        write: async (buffer, offset, length, position) => {
          if (++writes === 3)
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
              code: 'ENOSPC',
              errno: -28,
              syscall: 'write',
            });
          return real.write(buffer, offset, length, position);
        },
        close: () => real.close(),
      };
    };
    const err = (await readS3Object(client, 'models', KEY, opts(), { kind: 'file', path: file }, undefined, {
      openFile,
    }).catch((e: unknown) => e)) as ModelLocalStorageError;
    expect(err).toBeInstanceOf(ModelLocalStorageError);
    expect(err).toMatchObject({ reason: 'LOCAL_STORAGE', code: 'ENOSPC', object: `s3://models/${KEY}` });
    expect(err.message).toBe(
      `Cannot write ${file} while loading s3://models/${KEY}: no space left on the device (ENOSPC)`,
    );
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(work)).not.toContain('full.bin');
  });
});
