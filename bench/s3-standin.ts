/**
 * An S3 stand-in that is not the bottleneck: a static HTTP server on 127.0.0.1 answering the
 * S3 calls the loader makes for a pushed model version (path-style GetObject with Range and
 * If-Match, HeadObject) from the model folder's own files, read once at start: a response is one
 * write of a slice of them (Node has no sendfile; a slice in memory is the fewest copies it can
 * make, cheaper than an fs stream, which copies every chunk through a read first).
 * S3 seen from Lambda is simulated inside the server, per connection: `firstByteMs` before each
 * response's headers and `bytesPerSecond` for its body (one HTTP/1.1 connection carries one
 * response at a time, so pacing a response paces its connection). No proxy hop, no SDK, no copy
 * of the model: its own ceiling is a row of the bench (bench/download.ts).
 *
 * The version it serves is the one `model push` would publish for the folder: the same file
 * selection and the same manifest (push's own `buildManifest`), so the loader reads the manifest,
 * then the files under `versions/<version>/`, as from S3. Nothing is uploaded: the keys map onto
 * the folder's files.
 */
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { buildManifest, versionFiles } from '../scripts/model-cli/push';
import { MODEL_MANIFEST, type ModelManifest } from '../src/model/loading/manifest';
import { drained } from '../test/helpers/throttle-proxy';

export interface S3StandIn {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  /** What a child process needs to reach it through the loader's config (AWS conventions + path style). */
  env: Record<string, string>;
  /** s3://bucket/prefix/ of the pushed model version. */
  uri: string;
  /** The manifest served at `<prefix>model-manifest.json`. */
  manifest: ModelManifest;
  bucket: string;
  /** The S3 key of a file of the version (`onnx/model_quantized.onnx`). */
  fileKey(file: string): string;
  /** Plain HTTP URL of a file of the version (`onnx/model_quantized.onnx`), for readers without an SDK. */
  fileUrl(file: string): string;
  close(): Promise<void>;
}

export interface S3StandInOptions {
  /** A model folder as `model push` takes it. */
  modelDir: string;
  /** Per connection; undefined, 0 or Infinity = unthrottled. */
  bytesPerSecond?: number;
  /** Before each response's headers. */
  firstByteMs?: number;
}

export const STANDIN_BUCKET = 'models';
export const STANDIN_PREFIX = 'model/';

/** One object the server answers for. */
interface Entry {
  body: Buffer;
  etag: string;
  contentType: string;
}

/** Bytes per paced write: a few milliseconds at S3's per-connection rate. */
const PACED_CHUNK = 256 * 1024;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** A real S3 XML error, as S3 sends it (the SDK maps Code to the error's name). */
function s3Error(res: http.ServerResponse, status: number, code: string, head: boolean): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${code}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` → inclusive [start, end] within `size`, 'invalid' past the end, undefined without a header. */
function parseRange(header: string | undefined, size: number): [number, number] | 'invalid' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(size - 1, Number(m[2]));
  }
  if (start >= size || end < start) return 'invalid';
  return [start, end];
}

/** Starts the stand-in serving `modelDir` as `s3://models/model/` (see the module comment). */
export async function startS3StandIn(options: S3StandInOptions): Promise<S3StandIn> {
  const rate =
    options.bytesPerSecond && Number.isFinite(options.bytesPerSecond) && options.bytesPerSecond > 0
      ? options.bytesPerSecond
      : 0;
  const firstByteMs = options.firstByteMs ?? 0;
  const manifest = await buildManifest(options.modelDir, await versionFiles(options.modelDir), new Date());
  const objects = new Map<string, Entry>();
  const base = `/${STANDIN_BUCKET}/${STANDIN_PREFIX}`;
  const manifestBody = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  objects.set(base + MODEL_MANIFEST, {
    body: manifestBody,
    etag: `"${manifest.version}"`,
    contentType: 'application/json',
  });
  for (const f of manifest.files) {
    const file = path.join(options.modelDir, f.path);
    const body = await readFile(file);
    if (body.length !== f.bytes) throw new Error(`${file} changed while the stand-in started`);
    objects.set(`${base}${manifest.folder}${f.path}`, {
      body,
      // S3's ETag of a single-part upload is the MD5; any stable quoted string serves If-Match.
      etag: `"${f.sha256.slice(0, 32)}"`,
      contentType: 'application/octet-stream',
    });
  }

  const server = http.createServer((req, res) => {
    void answer(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 60_000;

  async function answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const arrived = performance.now();
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';
    const key = decodeURIComponent((req.url ?? '').split('?')[0]!);
    req.resume();
    await sleep(firstByteMs - (performance.now() - arrived));
    if (method !== 'GET' && !head) return s3Error(res, 501, 'NotImplemented', head);
    const entry = objects.get(key);
    if (!entry) return s3Error(res, 404, 'NoSuchKey', head);
    const ifMatch = req.headers['if-match'];
    if (ifMatch && ifMatch !== entry.etag && ifMatch !== '*') return s3Error(res, 412, 'PreconditionFailed', head);
    const size = entry.body.length;
    const range = parseRange(req.headers.range as string | undefined, size);
    if (range === 'invalid') return s3Error(res, 416, 'InvalidRange', head);
    const [start, end] = range ?? [0, size - 1];
    const length = size === 0 ? 0 : end - start + 1;
    res.writeHead(range ? 206 : 200, {
      'content-type': entry.contentType,
      'content-length': length,
      etag: entry.etag,
      'accept-ranges': 'bytes',
      'last-modified': new Date(0).toUTCString(),
      ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (head || length === 0) return void res.end();
    const slice = entry.body.subarray(start, end + 1);
    if (!rate) return void res.end(slice);
    // Paced against the response's schedule, not per chunk, so timer granularity does not change the rate.
    const started = performance.now();
    for (let sent = 0; sent < length && !res.destroyed;) {
      const chunk = slice.subarray(sent, sent + PACED_CHUNK);
      sent += chunk.length;
      const ahead = started + (sent / rate) * 1000 - performance.now();
      if (ahead >= 1) await sleep(ahead);
      if (!res.write(chunk)) await drained(res);
    }
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'STANDIN',
      AWS_SECRET_ACCESS_KEY: 'STANDIN',
      S3_FORCE_PATH_STYLE: 'true',
    },
    uri: `s3://${STANDIN_BUCKET}/${STANDIN_PREFIX}`,
    manifest,
    bucket: STANDIN_BUCKET,
    fileKey: (file) => `${STANDIN_PREFIX}${manifest.folder}${file}`,
    fileUrl: (file) => `${endpoint}${base}${manifest.folder}${file}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
