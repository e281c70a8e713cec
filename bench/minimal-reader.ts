/**
 * The floor the loader's download is compared with: the fewest steps Node needs to read one
 * object as concurrent ranged GETs. Plain `http.get` with a Range header, N in flight on a
 * keep-alive agent, each body copied once into its place in one preallocated buffer; optionally
 * the SHA-256 of each part as it lands (what the loader verifies against a manifest with per-part
 * hashes). No SDK, no retries, no timeouts: a bench instrument, never product code.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';

export interface MinimalReadOptions {
  /** Plain HTTP URL of the object. */
  url: string;
  bytes: number;
  /** Bytes per ranged GET (the loader's default part size, so both read the same ranges). */
  partBytes: number;
  /** GETs in flight. */
  concurrency: number;
  /** Also hash each part as it lands, as the loader does. */
  sha256?: boolean;
  /**
   * Map the buffer's pages before the clock starts: the read then shows what the server and the
   * sockets can move, without the page faults of fresh memory (the stand-in's own ceiling).
   */
  touched?: boolean;
}

export interface MinimalRead {
  body: Buffer;
  /** Hex SHA-256 of each part, in order (with `sha256`). */
  partSha256: string[] | undefined;
  ms: number;
}

/** One ranged GET into `into` at `offset`; rejects on a status other than 206 or a short body. */
function getRange(agent: http.Agent, url: string, start: number, end: number, into: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers: { range: `bytes=${start}-${end}` } }, (res) => {
        if (res.statusCode !== 206) {
          res.resume();
          reject(new Error(`HTTP ${res.statusCode} for bytes ${start}-${end}`));
          return;
        }
        let at = start;
        res.on('data', (chunk: Buffer) => {
          at += chunk.copy(into, at);
        });
        res.on('end', () => (at === end + 1 ? resolve() : reject(new Error(`short body: ${at - start} bytes`))));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** Reads `url` (see the module comment). */
export async function minimalRead(options: MinimalReadOptions): Promise<MinimalRead> {
  const body = Buffer.allocUnsafe(options.bytes);
  if (options.touched) body.fill(0);
  const started = performance.now();
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const parts: Array<[number, number]> = [];
  for (let start = 0; start < options.bytes; start += options.partBytes)
    parts.push([start, Math.min(options.bytes, start + options.partBytes) - 1]);
  const hashes = options.sha256 ? new Array<string>(parts.length) : undefined;
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: Math.min(options.concurrency, parts.length) }, async () => {
        // Bounded: each pass takes the next part.
        while (next < parts.length) {
          const index = next++;
          const [start, end] = parts[index]!;
          await getRange(agent, options.url, start, end, body);
          if (hashes)
            hashes[index] = createHash('sha256')
              .update(body.subarray(start, end + 1))
              .digest('hex');
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return { body, partSha256: hashes, ms: performance.now() - started };
}

/**
 * The same ranged GETs over raw sockets whose reads land straight in the target buffer
 * (`net.connect`'s `onread`), so neither Node's HTTP client nor a chunk copy is in the way. Plain
 * HTTP/1.1 with Content-Length only (the stand-in's answers): a measuring instrument, not a client.
 * With `touched` (pages mapped before the clock) it is what the server and the sockets can move;
 * without, into fresh memory and with `sha256`, it is the floor of any reader that writes each byte
 * once where it stays and verifies it: what a loader without an HTTP client could reach.
 */
export async function socketRead(options: MinimalReadOptions): Promise<MinimalRead> {
  const url = new URL(options.url);
  const body = Buffer.allocUnsafe(options.bytes);
  if (options.touched) body.fill(0);
  const started = performance.now();
  const parts: Array<[number, number]> = [];
  for (let start = 0; start < options.bytes; start += options.partBytes)
    parts.push([start, Math.min(options.bytes, start + options.partBytes) - 1]);
  const hashes: string[] | undefined = options.sha256 ? new Array<string>(parts.length) : undefined;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, parts.length) }, async () => {
      // Bounded: each pass takes the next part.
      while (next < parts.length) {
        const index = next++;
        const [start, end] = parts[index]!;
        await socketRange(url, start, end, body);
        if (hashes)
          hashes[index] = createHash('sha256')
            .update(body.subarray(start, end + 1))
            .digest('hex');
      }
    }),
  );
  return { body, partSha256: hashes, ms: performance.now() - started };
}

function socketRange(url: URL, start: number, end: number, into: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const head = Buffer.allocUnsafe(16 * 1024);
    let headBytes = 0;
    let at = -1;
    const socket = net.connect({
      host: url.hostname,
      port: Number(url.port),
      onread: {
        // Until the headers are in, reads go to `head`; then straight to the body's place.
        buffer: () => (at < 0 ? head.subarray(headBytes) : into.subarray(at, end + 1)),
        callback: (n: number, buf: Uint8Array): boolean => {
          if (at >= 0) {
            at += n;
          } else {
            headBytes += n;
            const stop = head.subarray(0, headBytes).indexOf('\r\n\r\n');
            if (stop < 0) {
              if (headBytes === head.length) socket.destroy(new Error('headers too long'));
              return true;
            }
            const status = head.subarray(0, 12).toString('latin1');
            if (!status.startsWith('HTTP/1.1 206')) {
              socket.destroy(new Error(`${status} for bytes ${start}-${end}`));
              return false;
            }
            at = start + head.copy(into, start, stop + 4, headBytes);
          }
          void buf;
          if (at === end + 1) {
            socket.destroy();
            resolve();
          }
          return true;
        },
      },
    });
    socket.on('error', reject);
    socket.on('close', () => (at === end + 1 ? resolve() : reject(new Error(`short body at ${at}`))));
    socket.write(
      `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nRange: bytes=${start}-${end}\r\nConnection: close\r\n\r\n`,
    );
  });
}
