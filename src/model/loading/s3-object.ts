import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ModelReadTimeoutError, TruncatedModelObjectError } from './errors';
import { toModelLoadError } from './s3-errors';
import { s3Uri } from './source-uri';

/** Timeouts for one object read. */
export interface ObjectReadOptions {
  /** Longest wait for the next chunk of the body. */
  idleTimeoutMs: number;
  /** Deadline for the whole read, headers to last byte. */
  totalTimeoutMs: number;
}

/** An opened GetObject: metadata plus a checked async stream of body chunks. */
export interface OpenedObject {
  uri: string;
  contentLength: number;
  etag: string | null;
  /** Yields the body; throws TruncatedModelObjectError / ModelReadTimeoutError naming the object. */
  chunks: AsyncIterable<Buffer>;
  /** Releases the connection and timers if the caller stops early. */
  abort(): void;
}

/**
 * Sends GetObject and returns the body as checked chunks: each wait for data is bounded by
 * `idleTimeoutMs`, the whole read by `totalTimeoutMs` (an AbortSignal handed to the SDK), and the
 * byte count is compared with ContentLength, because a connection cut mid-body can otherwise look
 * like a clean end of stream and hand onnxruntime half a model.
 */
export async function openS3Object(
  client: S3Client,
  bucket: string,
  key: string,
  options: ObjectReadOptions,
): Promise<OpenedObject> {
  const uri = s3Uri(bucket, key);
  const controller = new AbortController();
  let timedOut = false;
  let bodyRef: Readable | undefined;
  const deadline = setTimeout(() => {
    timedOut = true;
    controller.abort();
    // The SDK's signal only covers the request; a body already streaming must be cut here.
    bodyRef?.destroy(new Error('deadline exceeded'));
  }, options.totalTimeoutMs);
  deadline.unref?.();
  let response;
  try {
    response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
      abortSignal: controller.signal,
    });
  } catch (err) {
    clearTimeout(deadline);
    if (timedOut) throw new ModelReadTimeoutError(uri, options.totalTimeoutMs, 'total deadline', { cause: err });
    throw toModelLoadError(err, uri, bucket, options.totalTimeoutMs);
  }
  const body = response.Body as (Readable & AsyncIterable<Buffer>) | undefined;
  const contentLength = response.ContentLength ?? -1;
  const etag = response.ETag ?? null;
  bodyRef = body;
  if (!body) {
    clearTimeout(deadline);
    throw new TruncatedModelObjectError(uri, 0, contentLength);
  }
  const abort = (): void => {
    clearTimeout(deadline);
    body.destroy();
  };
  async function* checked(): AsyncGenerator<Buffer> {
    const it = body![Symbol.asyncIterator]();
    let received = 0;
    try {
      for (;;) {
        let idle: NodeJS.Timeout | undefined;
        const idleFired = new Promise<'idle'>((resolve) => {
          idle = setTimeout(() => resolve('idle'), options.idleTimeoutMs);
        });
        let step: IteratorResult<Buffer> | 'idle';
        try {
          step = await Promise.race([it.next(), idleFired]);
        } catch (err) {
          if (timedOut) throw new ModelReadTimeoutError(uri, options.totalTimeoutMs, 'total deadline', { cause: err });
          // A reset or "aborted" mid-body: report it as what it is for the model, a short read.
          throw new TruncatedModelObjectError(uri, received, contentLength, { cause: err });
        } finally {
          clearTimeout(idle);
        }
        if (step === 'idle') {
          throw new ModelReadTimeoutError(uri, options.idleTimeoutMs, 'no data');
        }
        if (step.done) break;
        received += step.value.length;
        if (contentLength >= 0 && received > contentLength) {
          throw new TruncatedModelObjectError(uri, received, contentLength);
        }
        yield step.value;
      }
      if (contentLength >= 0 && received !== contentLength) {
        throw new TruncatedModelObjectError(uri, received, contentLength);
      }
    } finally {
      abort();
    }
  }
  return { uri, contentLength, etag, chunks: checked(), abort };
}

/**
 * Reads a whole body into one buffer preallocated from ContentLength: no chunk list, no final
 * concatenation (measured ~1.7× faster than `transformToByteArray`, DESIGN.md).
 */
export async function collectToBuffer(obj: OpenedObject): Promise<Buffer> {
  if (obj.contentLength < 0) {
    const parts: Buffer[] = [];
    for await (const c of obj.chunks) parts.push(c);
    return Buffer.concat(parts);
  }
  const out = Buffer.allocUnsafe(obj.contentLength);
  let offset = 0;
  for await (const c of obj.chunks) {
    c.copy(out, offset);
    offset += c.length;
  }
  return out;
}

/** Streams a body to a new file under `dir`; removes the partial file on failure. */
export async function collectToFile(obj: OpenedObject, dir: string, name: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${randomUUID()}-${path.basename(name)}`);
  const out = createWriteStream(file);
  try {
    for await (const c of obj.chunks) {
      if (!out.write(c)) await new Promise<void>((resolve) => out.once('drain', resolve));
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return file;
  } catch (err) {
    out.destroy();
    await rm(file, { force: true });
    throw err;
  }
}
