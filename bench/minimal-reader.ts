/**
 * The floor the loader's download is compared with: the fewest steps Node needs to read one
 * object as concurrent ranged GETs. Plain `http.get` with a Range header, N in flight on a
 * keep-alive agent, each body copied once into its place in one preallocated buffer; optionally
 * the SHA-256 of the whole body (what the loader verifies against the manifest), fed in order as
 * parts complete. No SDK, no retries, no timeouts: a bench instrument, never product code.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';

export interface MinimalReadOptions {
  /** Plain HTTP URL of the object. */
  url: string;
  bytes: number;
  /** Bytes per ranged GET (the loader's default part size, so both read the same ranges). */
  partBytes: number;
  /** GETs in flight. */
  concurrency: number;
  /** Also compute the body's SHA-256, as the loader does. */
  sha256?: boolean;
}

export interface MinimalRead {
  body: Buffer;
  sha256: string | undefined;
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
  const started = performance.now();
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const body = Buffer.allocUnsafe(options.bytes);
  const parts: Array<[number, number]> = [];
  for (let start = 0; start < options.bytes; start += options.partBytes)
    parts.push([start, Math.min(options.bytes, start + options.partBytes) - 1]);
  const hash = options.sha256 ? createHash('sha256') : undefined;
  const done = new Array<boolean>(parts.length).fill(false);
  let hashed = 0;
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: Math.min(options.concurrency, parts.length) }, async () => {
        // Bounded: each pass takes the next part.
        while (next < parts.length) {
          const index = next++;
          const [start, end] = parts[index]!;
          await getRange(agent, options.url, start, end, body);
          done[index] = true;
          for (; hashed < parts.length && done[hashed]; hashed++) {
            const [a, b] = parts[hashed]!;
            hash?.update(body.subarray(a, b + 1));
          }
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return { body, sha256: hash?.digest('hex'), ms: performance.now() - started };
}
