/**
 * Reads one S3 object with concurrent byte-range GETs: one connection's throughput is bounded, and
 * AWS advises parallel 8–16 MB ranges for large objects. Parts land in place (a preallocated
 * buffer or a file), a failed or stalled part is fetched again alone, parts carry `If-Match` so two
 * uploads are never stitched together, and a deadline covers the whole object. The design and
 * its measurements: docs/model-loading.md, "Ranged reads".
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { readRangeDirect } from './direct-range';
import {
  ModelLoadError,
  ModelLocalStorageError,
  truncatedRead,
  readTimeout,
  objectChanged,
  checksumMismatch,
  isLoadFailure,
} from './errors';
import { planParts, totalFromContentRange, type Part } from './byte-ranges';
import { DEFAULT_CONCURRENCY, DEFAULT_PART_ATTEMPTS, DEFAULT_PART_BYTES } from './config';
import { OrderedHash, PartSink, type OpenFile, type TargetChoice } from './part-sink';
import { toModelLoadError } from './s3-errors';
import { s3Uri } from './source-uri';

/** How one object is read; the ranged-read settings default to config.ts's DEFAULT_* values. */
export interface ObjectReadOptions {
  /** Longest wait for the next bytes of a body, per request. */
  idleTimeoutMs: number;
  /**
   * Longest wait for a response's headers, per request (default idleTimeoutMs). S3 answers in tens
   * of milliseconds: an endpoint that accepts the connection and says nothing fails in seconds.
   */
  firstByteTimeoutMs?: number;
  /** Deadline for the whole object, all parts and retries. */
  totalTimeoutMs: number;
  /** Bytes per ranged GET; an object up to this size is one GET. `Infinity` (or 0): always one stream. */
  partBytes?: number;
  /** Ranged GETs in flight for one object. */
  concurrency?: number;
  /** Attempts per part, the first included (1 = no retry). */
  partAttempts?: number;
  /**
   * Read the parts a manifest lists (each with its SHA-256) by presigned GETs whose bodies the
   * socket writes straight into place (direct-range.ts), the SDK taking over any part whose answer
   * is not the plain one. Default true.
   */
  directReads?: boolean;
}

type ResolvedReadOptions = Required<ObjectReadOptions>;

function resolveReadOptions(options: ObjectReadOptions): ResolvedReadOptions {
  const partBytes = options.partBytes ?? DEFAULT_PART_BYTES;
  return {
    idleTimeoutMs: options.idleTimeoutMs,
    firstByteTimeoutMs: options.firstByteTimeoutMs ?? options.idleTimeoutMs,
    totalTimeoutMs: options.totalTimeoutMs,
    partBytes: partBytes > 0 ? partBytes : Infinity,
    concurrency: Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY),
    partAttempts: Math.max(1, options.partAttempts ?? DEFAULT_PART_ATTEMPTS),
    directReads: options.directReads ?? true,
  };
}

/** Size and SHA-256 the bytes must have (from the model manifest). */
export interface ExpectedContent {
  bytes: number;
  sha256: string;
  /**
   * The SHA-256 of each `bytes`-long part (manifest.ts, ManifestParts). When given, the read's parts
   * are these (the configured part size does not apply, unless it asks for one stream), each
   * verified as it lands and read again alone when damaged; the whole-file hash is then not
   * computed (the parts cover every byte).
   */
  parts?: { bytes: number; sha256: readonly string[] };
}

export interface ReadDependencies {
  /** Creates the target file; default `fs.promises.open(path, 'w', 0o600)`. */
  openFile?: OpenFile;
  /** Stops the read (e.g. a sibling file of the same model failed). */
  signal?: AbortSignal;
  /**
   * Called once, when the GETs of the first wave of parts have been handed to the client (all of
   * them up to `concurrency`): from then on the bytes come without the caller's help for a while,
   * so a Lambda entry can spend that time evaluating its other modules.
   */
  onRequested?: () => void;
  /** Presigns the object's GET for direct reads; default the SDK's presigner with the read's client. */
  presign?: () => Promise<URL>;
  /** Certificates direct reads trust besides Node's own (tests with a local TLS server). */
  ca?: string | Buffer;
}

/** How long a presigned GET stays valid: longer than any read of one object is allowed to take. */
const PRESIGNED_SECONDS = 900;

/** What was read. */
export interface ObjectRead {
  uri: string;
  bytes: number;
  etag: string | null;
  /** The body (buffer target) or the file it was written to (file target). */
  data: Buffer | string;
  /** Hex SHA-256, when an expected one was given (and matched, whole or part by part). */
  sha256: string | undefined;
  /** GET requests sent, retries included. */
  requests: number;
  /** Of those, the parts read directly into place (direct-range.ts). */
  directParts: number;
  /** Part attempts that failed and were retried. */
  retries: number;
}

interface Opened {
  body: Readable;
  status: number;
  contentLength: number;
  contentRange: string | undefined;
  etag: string | null;
}

/** A failure worth fetching the same part again for; anything else ends the read. */
class RetryablePartError extends Error {
  constructor(readonly error: ModelLoadError) {
    super(error.message, { cause: error });
  }
}

function isReset(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === 'ECONNRESET' || e?.code === 'EPIPE' || /socket hang up|ECONNRESET/i.test(e?.message ?? '');
}

/**
 * Reads `s3://bucket/key` into a buffer or a file (see the module comment). Rejects with a
 * ModelLoadError naming the object; on failure a partly written target file is removed.
 */
export async function readS3Object(
  client: S3Client,
  bucket: string,
  key: string,
  options: ObjectReadOptions,
  target: TargetChoice,
  expected?: ExpectedContent,
  deps: ReadDependencies = {},
): Promise<ObjectRead> {
  const resolved = resolveReadOptions(options);
  try {
    return await new ObjectReader(client, bucket, key, resolved, target, expected, deps).run();
  } catch (err) {
    // Replaced while we read it (e.g. a manifest rewritten by a push): read it again once, from the
    // start, so every byte comes from the new upload. Not when the content was fixed in advance
    // (a manifest's file): that one must not change, and failing says so.
    if (!isLoadFailure(err, 'CHANGED') || expected || deps.signal?.aborted) throw err;
    return new ObjectReader(client, bucket, key, resolved, target, expected, deps).run();
  }
}

class ObjectReader {
  private readonly uri: string;
  /** Aborted by the deadline or by the first failure: stops every part. */
  private readonly all = new AbortController();
  private timedOut = false;
  private requests = 0;
  private retries = 0;
  private etag: string | null = null;
  /** Requests of the first wave of parts still to be sent before `onRequested`. */
  private firstWave = Infinity;
  private announced = false;
  private etagFixed = false;
  private total = -1;
  private sink: PartSink | undefined;
  private hash: OrderedHash | undefined;
  /** The manifest's per-part hashes, when the read's parts are those parts. */
  private partHashes: readonly string[] | undefined;
  /** The presigned URL of direct reads, while they are on (off after the first declined answer). */
  private direct: Promise<URL | undefined> | undefined;
  private directParts = 0;
  private failure: unknown;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly options: ResolvedReadOptions,
    private readonly choice: TargetChoice,
    private readonly expected: ExpectedContent | undefined,
    private readonly deps: ReadDependencies,
  ) {
    this.uri = s3Uri(bucket, key);
  }

  async run(): Promise<ObjectRead> {
    const deadline = setTimeout(() => {
      this.timedOut = true;
      this.all.abort();
    }, this.options.totalTimeoutMs);
    deadline.unref?.();
    const stop = (): void => this.all.abort();
    this.deps.signal?.addEventListener('abort', stop, { once: true });
    if (this.deps.signal?.aborted) this.all.abort();
    try {
      return await this.read();
    } catch (err) {
      this.all.abort();
      await this.sink?.discard();
      if (this.timedOut && !(err instanceof ModelLocalStorageError)) {
        throw readTimeout(this.uri, this.options.totalTimeoutMs, 'total deadline', { cause: err });
      }
      throw err instanceof RetryablePartError ? err.error : err;
    } finally {
      clearTimeout(deadline);
      this.deps.signal?.removeEventListener('abort', stop);
    }
  }

  private async read(): Promise<ObjectRead> {
    const { partBytes } = this.options;
    // One stream asked for (partBytes Infinity): one GET, checked with the whole-file hash.
    const perPart = Number.isFinite(partBytes) ? this.expected?.parts : undefined;
    this.partHashes = perPart?.sha256;
    // Direct reads only where every part's bytes are checked against the manifest.
    if (this.partHashes && this.options.directReads) this.direct = this.presign();
    if (this.expected?.sha256 && !perPart) this.hash = new OrderedHash();
    let parts: Part[];
    let first: Opened | undefined;
    if (this.expected) {
      this.total = this.expected.bytes;
      parts = perPart
        ? planParts(this.total, perPart.bytes)
        : planParts(this.total, this.total <= partBytes ? Infinity : partBytes);
    } else {
      // Probe with the first part; the answer says how large the object is.
      const probe: Part = { index: 0, start: 0, end: Number.isFinite(partBytes) ? partBytes - 1 : Infinity };
      first = await this.withRetries(() => this.open(probe, true));
      const ranged = first.status === 206 ? totalFromContentRange(first.contentRange) : undefined;
      this.total = ranged ?? first.contentLength;
      if (this.total < 0) {
        first.body.destroy();
        throw new ModelLoadError(`Error reading ${this.uri}: the response has no Content-Length`, this.uri);
      }
      parts = ranged === undefined ? planParts(this.total, Infinity) : planParts(this.total, partBytes);
    }
    try {
      this.sink = await PartSink.open(
        this.uri,
        this.choice,
        this.total,
        () => this.all.signal.aborted,
        this.deps.openFile,
      );
    } catch (err) {
      // The probe's body is still open: release its connection.
      first?.body.destroy();
      throw err;
    }
    if (parts.length === 0 && first) first.body.destroy();
    this.firstWave = Math.min(this.options.concurrency, parts.length);
    if (this.firstWave <= 1) this.announce();
    // part 0 (with the probe's open response, if any) plus up to concurrency-1 other workers.
    let next = 1;
    const worker = async (): Promise<void> => {
      while (next < parts.length && !this.all.signal.aborted) await this.fetchPart(parts[next++]!);
    };
    const jobs: Promise<void>[] = [];
    if (parts.length > 0) jobs.push(this.fetchPart(parts[0]!, first));
    for (let i = 1; i < Math.min(this.options.concurrency, parts.length); i++) jobs.push(worker());
    await Promise.all(jobs.map((j) => j.catch((err: unknown) => this.fail(err))));
    if (this.failure !== undefined) throw this.failure;
    // With one worker for part 0 only (concurrency 1), the remaining parts run here, in order.
    if (this.options.concurrency <= 1) await worker().catch((err: unknown) => this.fail(err));
    if (this.failure !== undefined) throw this.failure;

    let sha256: string | undefined = perPart ? this.expected!.sha256 : undefined;
    if (this.hash) {
      sha256 = this.hash.hex();
      if (sha256 !== this.expected!.sha256) {
        throw checksumMismatch(this.uri, `SHA-256 is ${sha256}, the manifest lists ${this.expected!.sha256}`);
      }
    }
    const data = await this.sink.finish();
    return {
      uri: this.uri,
      bytes: this.total,
      etag: this.etag,
      data,
      sha256,
      requests: this.requests,
      retries: this.retries,
      directParts: this.directParts,
    };
  }

  /**
   * The first response fixes the ETag (the probe's, or with a known size whichever part answers
   * first); every other part must carry the same.
   */
  private checkEtag(etag: string | null, part: Part): void {
    if (!this.etagFixed) {
      this.etagFixed = true;
      this.etag = etag;
    } else if (etag !== this.etag) {
      throw objectChanged(this.uri, `bytes ${part.start}-${part.end} have ETag ${etag}, earlier parts ${this.etag}`);
    }
  }

  /** The object's presigned GET, or undefined (no direct reads) if presigning fails. */
  private presign(): Promise<URL | undefined> {
    const presign =
      this.deps.presign ??
      (async () =>
        new URL(
          await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.key }), {
            expiresIn: PRESIGNED_SECONDS,
          }),
        ));
    return presign().catch(() => undefined);
  }

  /**
   * Reads `part` into `into` by a direct read; false when direct reads are off or the answer was
   * declined (they are then off for the rest of the object: the SDK reads this part and the rest).
   */
  private async readDirect(part: Part, into: Buffer): Promise<boolean> {
    const url = await this.direct;
    if (!url || this.all.signal.aborted) return false;
    this.countRequest();
    try {
      const answer = await readRangeDirect({
        url,
        start: part.start,
        end: part.end,
        into,
        firstByteTimeoutMs: this.options.firstByteTimeoutMs,
        idleTimeoutMs: this.options.idleTimeoutMs,
        signal: this.all.signal,
        ca: this.deps.ca,
      });
      if (answer.total !== this.total) {
        throw checksumMismatch(this.uri, `the object has ${answer.total} bytes, the manifest lists ${this.total}`);
      }
      this.checkEtag(answer.etag, part);
      this.directParts += 1;
      return true;
    } catch (err) {
      if (err instanceof ModelLoadError) throw err;
      // Stopped (deadline, a failed sibling): said as the SDK path says it.
      if (this.all.signal.aborted)
        throw new ModelLoadError(`Read of ${this.uri} stopped`, this.uri, undefined, { cause: err });
      this.direct = undefined;
      return false;
    }
  }

  /**
   * One more GET sent, direct or through the SDK. The probe counts as part 0's request (parts 1..
   * follow at once); once the first wave is out, the model is announced as requested.
   */
  private countRequest(): void {
    this.requests += 1;
    if (this.requests >= this.firstWave) this.announce();
  }

  private announce(): void {
    if (this.announced) return;
    this.announced = true;
    this.deps.onRequested?.();
  }

  private fail(err: unknown): void {
    if (this.failure === undefined) this.failure = err;
    this.all.abort();
  }

  /** Runs `attempt` up to partAttempts times while it fails with a retryable error. */
  private async withRetries<T>(attempt: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof RetryablePartError) || n >= this.options.partAttempts || this.all.signal.aborted)
          throw err;
        // Only this part starts over; the others keep going.
        this.retries += 1;
      }
    }
  }

  /** Fetches one part into its place, retrying it alone; `opened` is the probe's response for part 0. */
  private async fetchPart(part: Part, opened?: Opened): Promise<void> {
    let response = opened;
    await this.withRetries(async () => {
      const into = this.sink!.slot(part);
      if (response || !(await this.readDirect(part, into))) {
        const res = response ?? (await this.open(part, false));
        response = undefined;
        await this.readBody(res, into, part);
      }
      this.verifyPart(part, into);
      await this.sink!.write(part, into);
      this.hash?.add(part.index, into);
    });
  }

  /** With per-part hashes: the part's bytes must hash to the manifest's value, or the part is read again. */
  private verifyPart(part: Part, bytes: Buffer): void {
    const expected = this.partHashes?.[part.index];
    if (expected === undefined) return;
    // On the main thread, from the bytes in place: WebCrypto's digest would copy the part first.
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== expected) {
      throw new RetryablePartError(
        checksumMismatch(
          this.uri,
          `bytes ${part.start}-${part.end} have SHA-256 ${actual}, the manifest lists ${expected}`,
        ),
      );
    }
  }

  /** Sends the GET for `part` (no Range for a whole-object read), bounded by the idle timeout. */
  private async open(part: Part, probe: boolean): Promise<Opened> {
    const attempt = new AbortController();
    const signal = AbortSignal.any([this.all.signal, attempt.signal]);
    let stalled = false;
    const idle = setTimeout(() => {
      stalled = true;
      attempt.abort();
    }, this.options.firstByteTimeoutMs);
    // No Range only for a read of unknown size as one stream (partBytes Infinity, or an empty object).
    const range = Number.isFinite(part.end) ? `bytes=${part.start}-${part.end}` : undefined;
    this.countRequest();
    let out;
    try {
      out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.key,
          ...(range ? { Range: range } : {}),
          ...(this.etag ? { IfMatch: this.etag } : {}),
        }),
        { abortSignal: signal },
      );
    } catch (err) {
      if (stalled)
        throw new RetryablePartError(
          readTimeout(this.uri, this.options.firstByteTimeoutMs, 'no response', { cause: err }),
        );
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'PreconditionFailed' || e.$metadata?.httpStatusCode === 412) {
        throw objectChanged(this.uri, `its ETag is no longer ${this.etag}`, { cause: err });
      }
      // A part past the object's end: the size the manifest fixed is not the object's.
      if (this.expected && (e.name === 'InvalidRange' || e.$metadata?.httpStatusCode === 416)) {
        throw checksumMismatch(
          this.uri,
          `the object is shorter than the ${this.expected.bytes} bytes the manifest lists (no bytes ${part.start}-${part.end})`,
          { cause: err },
        );
      }
      // An empty object has no byte 0: S3 answers 416 to the probe; read it whole instead.
      if (probe && range && (e.name === 'InvalidRange' || e.$metadata?.httpStatusCode === 416)) {
        clearTimeout(idle);
        return this.open({ index: 0, start: 0, end: Infinity }, true);
      }
      const mapped = toModelLoadError(err, this.uri, this.bucket, this.options.totalTimeoutMs);
      // A connection reset while waiting for the headers is as transient as one mid-body (the SDK
      // has retried already, but a part is cheap to ask again). Refused or unresolvable is not:
      // the store is down, and the load's backoff handles that.
      if (!this.all.signal.aborted && isReset(err)) throw new RetryablePartError(mapped);
      throw mapped;
    } finally {
      clearTimeout(idle);
    }
    const body = out.Body as Readable | undefined;
    if (!body) throw truncatedRead(this.uri, 0, out.ContentLength ?? -1);
    try {
      this.checkEtag(out.ETag ?? null, part);
    } catch (err) {
      body.destroy();
      throw err;
    }
    const status = out.$metadata.httpStatusCode ?? 200;
    // A size fixed in advance (the manifest's) must be the object's real one: checked on the first
    // answer, before the parts it planned are fetched.
    const size = status === 206 ? totalFromContentRange(out.ContentRange) : out.ContentLength;
    if (this.expected && size !== undefined && size !== this.expected.bytes && !(status !== 206 && range)) {
      body.destroy();
      throw checksumMismatch(this.uri, `the object has ${size} bytes, the manifest lists ${this.expected.bytes}`);
    }
    if (!probe && status !== 206 && !(part.start === 0 && part.end === this.total - 1)) {
      body.destroy();
      throw new ModelLoadError(
        `Error reading ${this.uri}: the server ignored Range ${range} (HTTP ${status})`,
        this.uri,
      );
    }
    if (!probe && status === 206 && !out.ContentRange?.startsWith(`bytes ${part.start}-${part.end}/`)) {
      body.destroy();
      throw objectChanged(this.uri, `asked for bytes ${part.start}-${part.end}, got ${out.ContentRange}`);
    }
    return {
      body,
      status,
      contentLength: out.ContentLength ?? -1,
      contentRange: out.ContentRange,
      etag: out.ETag ?? null,
    };
  }

  /** Copies the body into `into` (exactly the part's length), bounded by the idle timeout. */
  private readBody(res: Opened, into: Buffer, part: Part): Promise<void> {
    const { body } = res;
    const expected = into.length;
    return new Promise<void>((resolve, reject) => {
      let received = 0;
      let settled = false;
      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        this.all.signal.removeEventListener('abort', onAbort);
        body.removeListener('data', onData);
        if (err) {
          body.destroy();
          reject(err);
        } else resolve();
      };
      const partName = this.total > into.length ? `bytes ${part.start}-${part.end} of ${this.total}` : undefined;
      const truncated = (cause?: unknown): RetryablePartError =>
        new RetryablePartError(truncatedRead(this.uri, received, expected, { cause, part: partName }));
      const idle = setTimeout(
        () => finish(new RetryablePartError(readTimeout(this.uri, this.options.idleTimeoutMs, 'no data'))),
        this.options.idleTimeoutMs,
      );
      const onAbort = (): void => finish(new ModelLoadError(`Read of ${this.uri} stopped`, this.uri));
      const onData = (chunk: Buffer): void => {
        if (received + chunk.length > expected) {
          finish(truncatedRead(this.uri, received + chunk.length, expected, { part: partName }));
          return;
        }
        chunk.copy(into, received);
        received += chunk.length;
        idle.refresh();
      };
      this.all.signal.addEventListener('abort', onAbort, { once: true });
      body.on('data', onData);
      body.once('end', () => (received === expected ? finish() : finish(truncated())));
      body.once('error', (err) => finish(truncated(err)));
      // 'close' without 'end': the socket went away mid-body (a reset that emits no error).
      body.once('close', () => finish(truncated()));
    });
  }
}
