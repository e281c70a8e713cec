/**
 * Reading a `node:http` request body within a byte limit, and refusing an oversized one so that
 * the client reads the 413 instead of a reset upload: `sendWhileDraining` writes the response at
 * once but ends it only when the client has finished sending (a "lingering close"), within
 * DEFAULT_MAX_DRAIN_BYTES and DEFAULT_MAX_DRAIN_MS (docs/operations.md, "Oversized bodies").
 *
 * Why a plain `res.end()` is not enough (Node's lib/_http_server.js): when a response carrying
 * `Connection: close` finishes, `resOnFinish` calls `socket.destroySoon()`, which destroys the
 * socket once the response is flushed; if the client is still uploading, the kernel answers its
 * unread bytes with a TCP RST instead of a FIN, the client's next write fails (EPIPE/ECONNRESET)
 * and, depending on timing, it never reads the 413. `req._dump()` only reads while the socket
 * lives, so it does not help.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * At most this many refused bytes are read and discarded per connection (16 MiB). It is above
 * any body a legitimate client sends to this API (API Gateway's own payload limit for HTTP APIs is
 * 10 MB, so a client written against the deployed API never sends more), so such a client always
 * finishes its upload and reads the 413 on a clean close; and it bounds the bandwidth and CPU one
 * connection can make us spend on a body we already refused (an attacker gets cut off after it,
 * typically within a fraction of a second on a fast link).
 */
export const DEFAULT_MAX_DRAIN_BYTES = 16 * 1024 * 1024;

/**
 * The whole lingering close, from the 413 being written to the socket being closed, lasts at most
 * this long (5 s). Enough for a client on a modest link to finish a 10 MB upload it had already
 * started to push into kernel buffers, and nginx's per-read `lingering_timeout` default is the same
 * 5 s; bounded so a slow or stalled client (slowloris style) cannot hold a connection open.
 */
export const DEFAULT_MAX_DRAIN_MS = 5_000;

/** The outcome of {@link readBody}: the whole body, or the news that it is over the limit. */
export type ReadBodyResult =
  | { kind: 'body'; body: Buffer }
  | {
      kind: 'too-large';
      /** The `Content-Length` the client declared, or null for a body without one (chunked). */
      declaredBytes: number | null;
      /** Bytes read before giving up: 0 when the declared length was already over the limit. */
      seenBytes: number;
    };

export interface ReadBodyOptions {
  /** The largest body accepted, in bytes; one byte more is `too-large`. */
  maxBytes: number;
}

/** A parsed `Content-Length`, or null when absent (Node's parser has already rejected bad ones). */
function declaredLength(req: IncomingMessage): number | null {
  const header = req.headers['content-length'];
  if (header === undefined) return null;
  const bytes = Number(header);
  return Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : null;
}

/**
 * Reads the body of `req` within `maxBytes`.
 *
 * - A declared `Content-Length` over the limit resolves `too-large` at once, before any byte of
 *   the body is read (the request stays paused for {@link sendWhileDraining}).
 * - A body without a length (chunked) is read until it passes the limit, then resolves
 *   `too-large` with the request paused; bytes past the limit are never buffered.
 * - A body within the limit resolves `{ kind: 'body' }` once the request ends.
 * - Rejects with an Error when the request stream fails or closes before its end (client reset
 *   or aborted upload).
 *
 * After `too-large`, the caller must answer with {@link sendWhileDraining} (or destroy the socket):
 * the rest of the body is still on its way.
 */
export function readBody(req: IncomingMessage, options: ReadBodyOptions): Promise<ReadBodyResult> {
  const { maxBytes } = options;
  const declaredBytes = declaredLength(req);
  if (declaredBytes !== null && declaredBytes > maxBytes) {
    return Promise.resolve({ kind: 'too-large', declaredBytes, seenBytes: 0 });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let seenBytes = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      seenBytes += chunk.length;
      if (seenBytes > maxBytes) {
        cleanup();
        req.pause();
        chunks.length = 0;
        resolve({ kind: 'too-large', declaredBytes, seenBytes });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ kind: 'body', body: Buffer.concat(chunks, seenBytes) });
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    // 'close' without 'end' (and without 'error'): the request was destroyed mid-body.
    const onClose = (): void => {
      cleanup();
      reject(Object.assign(new Error('The request was closed before its body ended.'), { code: 'ECONNRESET' }));
    };
    if (req.readableEnded) {
      resolve({ kind: 'body', body: Buffer.alloc(0) });
      return;
    }
    if (req.destroyed) {
      onClose();
      return;
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** A complete response, written in one go by {@link sendWhileDraining}. */
export interface DrainResponse {
  status: number;
  /** Any `connection`, `content-length` or `transfer-encoding` is replaced: sendWhileDraining sets them. */
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface DrainOptions {
  /** The most refused bytes read and discarded before cutting off; default {@link DEFAULT_MAX_DRAIN_BYTES}. */
  maxDrainBytes?: number;
  /** The longest the connection lingers after the response; default {@link DEFAULT_MAX_DRAIN_MS}. */
  maxDrainMs?: number;
}

/**
 * How the connection ended:
 * - `client-finished`: the client sent the rest of its body, the response was ended and the socket
 *   closed cleanly (FIN);
 * - `byte-bound` / `time-bound`: a bound was passed and the socket was destroyed;
 * - `client-gone`: the client closed or reset the connection itself (for instance `fetch`, which
 *   drops the connection once it has the whole response).
 */
export type DrainEnd = 'client-finished' | 'byte-bound' | 'time-bound' | 'client-gone';

export interface DrainOutcome {
  ended: DrainEnd;
  /**
   * Request bytes read and thrown away after the response was written. Past `maxDrainBytes` by at
   * most the one socket read (≤ 64 KiB) that passed the bound: bytes arrive a read at a time.
   */
  discardedBytes: number;
  /** From the call to the socket's close. */
  elapsedMs: number;
}

/**
 * Writes `response` whole (with `connection: close` and its `content-length`), then reads and
 * discards whatever the client still sends, without buffering it, and:
 * - when the request ends (the client sent its whole body), ends the response so that Node closes
 *   the socket with a FIN, every request byte having been read;
 * - when more than `maxDrainBytes` are discarded or `maxDrainMs` pass before the socket is closed,
 *   destroys the socket (the client has the response on the wire already).
 *
 * Resolves (never rejects) once the socket is closed, with how that happened. Call it before any
 * header is sent; `req` may be paused (as {@link readBody} leaves it) or not yet read at all.
 */
export function sendWhileDraining(
  req: IncomingMessage,
  res: ServerResponse,
  response: DrainResponse,
  options: DrainOptions = {},
): Promise<DrainOutcome> {
  const maxDrainBytes = options.maxDrainBytes ?? DEFAULT_MAX_DRAIN_BYTES;
  const maxDrainMs = options.maxDrainMs ?? DEFAULT_MAX_DRAIN_MS;
  if (res.headersSent) throw new Error('sendWhileDraining: the response headers were already sent.');
  const started = Date.now();
  const socket = req.socket;
  const body = typeof response.body === 'string' ? Buffer.from(response.body) : response.body;

  return new Promise<DrainOutcome>((resolve) => {
    let discardedBytes = 0;
    let ended: DrainEnd | null = null;
    // Assigned once below, after the handlers that clear it are in place.
    // eslint-disable-next-line prefer-const
    let timer: NodeJS.Timeout | undefined;

    const onClose = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      resolve({ ended: ended ?? 'client-gone', discardedBytes, elapsedMs: Date.now() - started });
    };
    const cutOff = (why: 'byte-bound' | 'time-bound'): void => {
      if (ended !== null && ended !== 'client-finished') return;
      ended = why;
      socket.destroy();
    };
    const onData = (chunk: Buffer): void => {
      discardedBytes += chunk.length;
      if (discardedBytes > maxDrainBytes) cutOff('byte-bound');
    };
    const onEnd = (): void => {
      if (ended !== null) return;
      ended = 'client-finished';
      // Node now destroys the socket once the response is flushed (resOnFinish → destroySoon);
      // the request has been read to its end, so the close is a FIN, not a RST.
      res.end();
    };

    if (socket.destroyed) {
      resolve({ ended: 'client-gone', discardedBytes, elapsedMs: 0 });
      return;
    }
    socket.once('close', onClose);
    timer = setTimeout(() => cutOff('time-bound'), maxDrainMs);
    // A reset client makes `req` emit 'error'; without a listener it would be thrown.
    req.on('error', () => {});

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      const lower = name.toLowerCase();
      if (lower !== 'connection' && lower !== 'content-length' && lower !== 'transfer-encoding') headers[lower] = value;
    }
    res.writeHead(response.status, { ...headers, connection: 'close', 'content-length': String(body.length) });
    if (req.readableEnded) {
      ended = 'client-finished';
      res.end(body);
      return;
    }
    // Written now, ended later: the client can read the whole response while still uploading.
    res.write(body);
    req.on('data', onData);
    req.on('end', onEnd);
    req.resume();
  });
}
