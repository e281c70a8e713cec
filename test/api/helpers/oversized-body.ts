/**
 * The oversized-body cases, written against a URL so that they run against any
 * server: the minimal one in test/api/oversized-body.test.ts today, the local server once it reads
 * bodies with src/server/node-body.ts. Clients are Node's `fetch` and raw `net` sockets that keep
 * writing whatever the server answers, the way an upload that started before the 413 arrived does.
 */
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { DrainOutcome } from '../../../src/server/node-body';

export interface OversizedBodyServer {
  /** The endpoint, e.g. http://127.0.0.1:1234/graphql. */
  url: string;
  close(): Promise<void>;
  /** The server's record of its lingering closes, when it keeps one (then asserted too). */
  drainOutcomes?: () => DrainOutcome[];
}

export interface OversizedBodyOptions {
  /** The server's body limit. */
  limitBytes: number;
  /** The server's drain bounds (src/server/node-body.ts defaults unless it was configured). */
  maxDrainBytes: number;
  maxDrainMs: number;
  /** Oversized tries in the loop; 100 by default. */
  tries?: number;
  /** Size of each oversized body; 10 MB by default (API Gateway's own limit). */
  oversizedBytes?: number;
  /** The server answers a body within the limit with that same body (else only its status is checked). */
  echoesBody?: boolean;
}

const CODE = 'PAYLOAD_TOO_LARGE';
/** Longest a single try may take before it counts as a failure (busy machine: generous). */
const TRY_TIMEOUT_MS = 60_000;
/** Late-timer slack on a busy machine for the only time assertion (the drain bound). */
const DRAIN_TIME_SLACK_MS = 3_000;
/** Node reads a socket 64 KiB at a time: the read that passes the byte bound is the overshoot. */
const SOCKET_READ_BYTES = 64 * 1024;
const PIECE = 64 * 1024;

/**
 * Samples this process's RSS and array-buffer memory every `intervalMs` until stopped; `growth()`
 * is the peak of each over its value at the start (what buffering refused bytes would show as).
 */
export function samplePeakMemory(intervalMs: number): {
  stop(): void;
  growth(): { rssGrowth: number; arrayBufferGrowth: number };
} {
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakArrayBuffers = before.arrayBuffers;
  const timer = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakArrayBuffers = Math.max(peakArrayBuffers, now.arrayBuffers);
  }, intervalMs);
  return {
    stop: () => clearInterval(timer),
    growth: () => ({ rssGrowth: peakRss - before.rss, arrayBufferGrowth: peakArrayBuffers - before.arrayBuffers }),
  };
}

/** A GraphQL request body of exactly `bytes` bytes: one operation, or a batch (an array of two). */
export function graphqlBody(bytes: number, batch: boolean): Buffer {
  const shell = (pad: string): string => {
    // The padding rides in `extensions`, which servers ignore, so a body within the limit is a
    // valid request for a GraphQL server too (an unused variable would fail validation).
    const op = JSON.stringify({ query: '{ __typename }', extensions: { pad } });
    return batch ? `[${op},${JSON.stringify({ query: '{ __typename }' })}]` : op;
  };
  const overhead = Buffer.byteLength(shell(''));
  if (bytes < overhead) throw new Error(`A body needs at least ${overhead} bytes.`);
  // Random text (base64) and multi-byte characters, so a byte-for-byte comparison means something.
  const seed = randomBytes(Math.ceil((bytes - overhead) / 2)).toString('base64');
  let pad = `Zoë 🍰 抹茶 ${seed}`;
  while (Buffer.byteLength(pad) > bytes - overhead) pad = pad.slice(0, -1);
  pad += 'x'.repeat(bytes - overhead - Buffer.byteLength(pad));
  const body = Buffer.from(shell(pad));
  if (body.length !== bytes) throw new Error(`graphqlBody: ${body.length} bytes instead of ${bytes}.`);
  return body;
}

export interface RawResult {
  status: number | null;
  headers: Record<string, string>;
  body: string;
  /** The body's bytes as received. */
  bodyBytes: Buffer;
  /** The socket's error code (EPIPE, ECONNRESET...), null when it closed cleanly. */
  error: string | null;
  /** Bytes the socket accepted from us (request line and headers included). */
  written: number;
  /** Milliseconds from connecting to the socket's close. */
  elapsedMs: number;
}

/** Splits a raw HTTP/1.1 response (status line, headers, content-length body). */
function parseResponse(raw: Buffer): Pick<RawResult, 'status' | 'headers' | 'body' | 'bodyBytes'> {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: null, headers: {}, body: '', bodyBytes: Buffer.alloc(0) };
  const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? NaN);
  const rest = raw.subarray(end + 4);
  const bodyBytes = Number.isFinite(length) ? rest.subarray(0, length) : rest;
  return { status: Number(statusLine!.split(' ')[1]), headers, body: bodyBytes.toString('utf8'), bodyBytes };
}

export interface RawPostOptions {
  /** The body to send; repeated when `totalBytes` is larger. */
  body: Buffer;
  chunked: boolean;
  /** Body bytes to send, repeating `body`: its length by default, Infinity to never stop. */
  totalBytes?: number;
  /** Declared Content-Length when not chunked (defaults to `totalBytes`). */
  declaredBytes?: number;
  /** Pause between pieces (a slow client); 0 writes as fast as the socket takes it. */
  pieceDelayMs?: number;
  pieceBytes?: number;
}

/**
 * POSTs with a raw socket that keeps writing its whole body whatever the server answers
 * (reading the answer meanwhile), then half-closes and waits for the server to close.
 */
export function rawPost(url: string, options: RawPostOptions): Promise<RawResult> {
  const { hostname, port, pathname } = new URL(url);
  const pieceBytes = options.pieceBytes ?? PIECE;
  const totalBytes = options.totalBytes ?? options.body.length;
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(Number(port), hostname);
    const received: Buffer[] = [];
    let error: string | null = null;
    let written = 0;
    let timer: NodeJS.Timeout | undefined;
    const kill = setTimeout(() => {
      error = 'TRY_TIMEOUT';
      socket.destroy();
    }, TRY_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
    socket.on('close', () => {
      clearTimeout(kill);
      clearTimeout(timer);
      resolve({ ...parseResponse(Buffer.concat(received)), error, written, elapsedMs: Date.now() - started });
    });
    const send = (data: Buffer | string): boolean => {
      written += Buffer.byteLength(data);
      return socket.write(data);
    };
    send(
      `POST ${pathname} HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\n` +
        (options.chunked
          ? 'transfer-encoding: chunked\r\n\r\n'
          : `content-length: ${options.declaredBytes ?? totalBytes}\r\n\r\n`),
    );
    let offset = 0;
    let bodyWritten = 0;
    const pump = (): void => {
      while (!socket.destroyed) {
        if (bodyWritten >= totalBytes) {
          if (options.chunked) send('0\r\n\r\n');
          socket.end();
          return;
        }
        if (offset >= options.body.length) offset = 0;
        const piece = options.body.subarray(offset, offset + Math.min(pieceBytes, totalBytes - bodyWritten));
        offset += piece.length;
        bodyWritten += piece.length;
        const ok = options.chunked
          ? (send(`${piece.length.toString(16)}\r\n`), send(piece), send('\r\n'))
          : send(piece);
        if (options.pieceDelayMs) {
          timer = setTimeout(pump, options.pieceDelayMs);
          return;
        }
        if (!ok) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

type Variant = { client: 'fetch' | 'raw'; chunked: boolean; batch: boolean };
const VARIANTS: Variant[] = (['fetch', 'raw'] as const).flatMap((client) =>
  [false, true].flatMap((chunked) => [false, true].map((batch) => ({ client, chunked, batch }))),
);
const nameOf = (v: Variant): string =>
  `${v.client} ${v.chunked ? 'chunked' : 'content-length'} ${v.batch ? 'batch' : 'single'}`;

/** A fetch body without a length: Node's fetch then sends it chunked. */
function streamOf(body: Buffer): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= body.length) return controller.close();
      controller.enqueue(body.subarray(offset, (offset += PIECE)));
    },
  });
}

/** One oversized POST; resolves with what went wrong, or null when it got its coded 413. */
async function oversizedTry(url: string, variant: Variant, body: Buffer, limitBytes: number): Promise<string | null> {
  let status: number | null;
  let text: string;
  let connection: string | undefined;
  if (variant.client === 'fetch') {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: variant.chunked ? streamOf(body) : body,
        signal: AbortSignal.timeout(TRY_TIMEOUT_MS),
        ...({ duplex: 'half' } as object),
      });
      status = response.status;
      connection = response.headers.get('connection') ?? undefined;
      text = await response.text();
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return `fetch failed: ${cause?.code ?? cause?.message ?? (error as Error).message}`;
    }
  } else {
    const result = await rawPost(url, { body, chunked: variant.chunked });
    if (result.error) return `socket error ${result.error} (status ${result.status})`;
    status = result.status;
    connection = result.headers.connection;
    text = result.body;
  }
  if (status !== 413) return `status ${status}`;
  if (connection?.toLowerCase() !== 'close') return `connection: ${connection}`;
  let parsed: { errors?: { message?: string; extensions?: { code?: string } }[] };
  try {
    parsed = JSON.parse(text);
  } catch {
    return `not JSON: ${text.slice(0, 80)}`;
  }
  const error = parsed.errors?.[0];
  if (error?.extensions?.code !== CODE) return `code ${error?.extensions?.code}`;
  if (!error.message?.endsWith(`the limit is ${limitBytes}.`)) return `message ${error.message}`;
  return null;
}

/**
 * The server's records of its lingering closes from `from` on, once `count` of them are there or
 * the try timeout passed: the server may see a close after the client does.
 */
async function drainOutcomes(server: OversizedBodyServer, from: number, count: number): Promise<DrainOutcome[]> {
  for (let waited = 0; waited < TRY_TIMEOUT_MS && server.drainOutcomes!().length < from + count; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return server.drainOutcomes!().slice(from);
}

/** The first close cut off at a bound from `from` on (earlier tries' clean closes may come late). */
async function cutOffOutcome(server: OversizedBodyServer, from: number): Promise<DrainOutcome | undefined> {
  const isCut = (o: DrainOutcome): boolean => o.ended === 'byte-bound' || o.ended === 'time-bound';
  for (let waited = 0; waited < TRY_TIMEOUT_MS && !server.drainOutcomes!().slice(from).some(isCut); waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return server.drainOutcomes!().slice(from).find(isCut);
}

/** Registers the oversized-body cases against the server `startServer` starts. */
export function oversizedBodyCases(
  startServer: () => Promise<OversizedBodyServer>,
  options: OversizedBodyOptions,
): void {
  const tries = options.tries ?? 100;
  const oversizedBytes = options.oversizedBytes ?? 10_000_000;
  let server: OversizedBodyServer;
  let single: Buffer;
  let batch: Buffer;

  beforeAll(async () => {
    server = await startServer();
    single = graphqlBody(oversizedBytes, false);
    batch = graphqlBody(oversizedBytes, true);
  });
  afterAll(async () => {
    await server?.close();
  });

  test(`${tries} oversized POSTs (fetch and raw socket, with and without Content-Length, single and batch) all get the coded 413: 0 resets; memory stays flat`, async () => {
    const outcomesBefore = server.drainOutcomes?.().length ?? 0;
    const failures: string[] = [];
    const perVariant: Record<string, number> = {};
    const memory = samplePeakMemory(20);
    const started = Date.now();
    try {
      for (let i = 0; i < tries; i++) {
        const variant = VARIANTS[i % VARIANTS.length]!;
        const problem = await oversizedTry(server.url, variant, variant.batch ? batch : single, options.limitBytes);
        if (problem) failures.push(`try ${i} (${nameOf(variant)}): ${problem}`);
        else perVariant[nameOf(variant)] = (perVariant[nameOf(variant)] ?? 0) + 1;
      }
    } finally {
      memory.stop();
    }
    const seconds = (Date.now() - started) / 1000;
    const sentBytes = tries * oversizedBytes;
    const { rssGrowth, arrayBufferGrowth } = memory.growth();
    console.log(
      `oversized loop: ${tries - failures.length}/${tries} got the 413 in ${seconds.toFixed(1)} s; ` +
        `peak growth rss ${(rssGrowth / 2 ** 20).toFixed(1)} MiB, array buffers ` +
        `${(arrayBufferGrowth / 2 ** 20).toFixed(1)} MiB for ${(sentBytes / 2 ** 20).toFixed(0)} MiB offered`,
    );
    expect(failures).toEqual([]);
    expect(Object.values(perVariant).reduce((a, b) => a + b, 0)).toBe(tries);
    // Buffering refused bodies would grow by the bytes sent; discarding them stays flat. The bound
    // leaves room for the client side (same process), a few bodies' worth of GC lag and allocator noise.
    expect(rssGrowth).toBeLessThan(Math.min(sentBytes / 4, 256 * 2 ** 20));
    expect(arrayBufferGrowth).toBeLessThan(Math.min(sentBytes / 4, 256 * 2 ** 20));
    if (server.drainOutcomes) {
      const outcomes = await drainOutcomes(server, outcomesBefore, tries);
      expect(outcomes).toHaveLength(tries);
      // A lingering close that ends early because the client finished or left, never a bound.
      expect(outcomes.filter((o) => o.ended === 'byte-bound' || o.ended === 'time-bound')).toEqual([]);
    }
  });

  test('a body within the limit is accepted and read byte for byte; one byte more is refused', async () => {
    // A single operation with Content-Length, a batch chunked.
    for (const chunked of [false, true]) {
      const body = graphqlBody(options.limitBytes, chunked);
      const ok = await rawPost(server.url, { body, chunked });
      expect({ error: ok.error, status: ok.status }).toEqual({ error: null, status: 200 });
      if (options.echoesBody) {
        expect(ok.bodyBytes.length).toBe(body.length);
        expect(ok.bodyBytes.equals(body)).toBe(true);
      }
      const over = await rawPost(server.url, { body: graphqlBody(options.limitBytes + 1, chunked), chunked });
      expect({ error: over.error, status: over.status }).toEqual({ error: null, status: 413 });
    }
  });

  test('a client that never stops sending reads its 413 and is cut off at the byte bound', async () => {
    const outcomesBefore = server.drainOutcomes?.().length ?? 0;
    const result = await rawPost(server.url, {
      body: single.subarray(0, 4 * PIECE),
      chunked: true,
      totalBytes: Infinity,
    });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body).errors[0].extensions.code).toBe(CODE);
    expect(result.elapsedMs).toBeLessThan(options.maxDrainMs + DRAIN_TIME_SLACK_MS);
    if (server.drainOutcomes) {
      const outcome = await cutOffOutcome(server, outcomesBefore);
      expect(outcome).toBeDefined();
      // On a very busy machine the time bound may come first; either way the bytes stay bounded.
      expect(['byte-bound', 'time-bound']).toContain(outcome!.ended);
      expect(outcome!.discardedBytes).toBeLessThanOrEqual(options.maxDrainBytes + SOCKET_READ_BYTES);
      if (outcome!.ended === 'byte-bound') expect(outcome!.discardedBytes).toBeGreaterThan(options.maxDrainBytes);
    }
  });

  test('a client that trickles a declared huge body forever reads its 413 and is cut off at the time bound', async () => {
    const outcomesBefore = server.drainOutcomes?.().length ?? 0;
    const result = await rawPost(server.url, {
      body: single,
      chunked: false,
      declaredBytes: 2 ** 40,
      totalBytes: Infinity,
      pieceBytes: 1024,
      pieceDelayMs: 20,
    });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body).errors[0].extensions.code).toBe(CODE);
    // The server starts its clock after we connect, so it cannot close before the bound.
    expect(result.elapsedMs).toBeGreaterThanOrEqual(options.maxDrainMs - 50);
    expect(result.elapsedMs).toBeLessThan(options.maxDrainMs + DRAIN_TIME_SLACK_MS);
    if (server.drainOutcomes) {
      const outcome = await cutOffOutcome(server, outcomesBefore);
      expect(outcome?.ended).toBe('time-bound');
      expect(outcome!.discardedBytes).toBeLessThanOrEqual(options.maxDrainBytes);
    }
  });
}
