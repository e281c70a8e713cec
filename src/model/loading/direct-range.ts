/**
 * One ranged GET of a presigned S3 URL, its body read by the socket straight into its place.
 *
 * Why: Node's HTTP client allocates a fresh chunk for every socket read and the reader then copies
 * it into the part's place; for a model-sized body that is a large share of the download's CPU, on
 * the one vCPU a 1,769 MB function has (docs/decisions/2026-12-07-cold-start-measured-cold.md).
 * Here the socket's `onread` buffer is the part's own memory, so every byte is written once, where
 * it stays. The request is presigned by the SDK (its signing, credentials and endpoint rules).
 *
 * What holds: only the plain answer is accepted (`206`, the exact Content-Range and Content-Length
 * asked for, no transfer coding, headers within 16 KiB, not one byte more than the part); anything
 * else rejects with DirectReadDeclined, and the caller reads the part through the SDK instead,
 * which knows S3's errors. The bytes are not trusted here either: the caller verifies each part
 * against the manifest's SHA-256. Waits are bounded (first byte, then between reads), and an abort
 * closes the socket at once.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';

export interface DirectRangeRequest {
  /** Presigned GetObject URL (http: or https:). */
  url: URL;
  /** Inclusive byte range of the object. */
  start: number;
  end: number;
  /** Exactly `end - start + 1` bytes: where the body goes. */
  into: Buffer;
  /** Longest wait from the connection's start to the end of the response's headers. */
  firstByteTimeoutMs: number;
  /** Longest wait for the next bytes of the body. */
  idleTimeoutMs: number;
  signal: AbortSignal;
  /** Certificates to trust besides Node's own (tests with a local TLS server). */
  ca?: string | Buffer;
}

export interface DirectRangeResponse {
  etag: string | null;
  /** The object's size, from Content-Range. */
  total: number;
}

/** The answer was not the plain one (or the connection failed): read the part another way. */
export class DirectReadDeclined extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DirectReadDeclined';
  }
}

const MAX_HEAD_BYTES = 16 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

/** Status and lower-cased headers of a response head (`HTTP/1.1 206 Partial Content\r\n…`). */
function parseHead(head: string): { status: number; headers: Map<string, string> } | undefined {
  const lines = head.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!status) return undefined;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(status[1]), headers };
}

/** Reads bytes `start`–`end` of the presigned object into `into` (see the module comment). */
export function readRangeDirect(request: DirectRangeRequest): Promise<DirectRangeResponse> {
  const { url, start, end, into, signal } = request;
  const length = end - start + 1;
  if (into.length !== length) return Promise.reject(new RangeError(`into holds ${into.length} bytes, not ${length}`));
  return new Promise<DirectRangeResponse>((resolve, reject) => {
    const head = Buffer.allocUnsafe(MAX_HEAD_BYTES);
    // Receives whatever would come past the part's end: any byte there declines the answer.
    const overflow = Buffer.allocUnsafe(1024);
    let headBytes = 0;
    let received = -1; // body bytes in place; -1 while the head is read
    let response: DirectRangeResponse | undefined;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let socket: net.Socket | undefined;

    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket?.destroy();
      if (error) reject(error);
      else resolve(response!);
    };
    const decline = (why: string, cause?: unknown): void =>
      settle(new DirectReadDeclined(`${why} (bytes ${start}-${end} of ${url.host}${url.pathname})`, { cause }));
    const onAbort = (): void => settle(signal.reason instanceof Error ? signal.reason : new Error('read stopped'));
    const wait = (ms: number, why: string): void => {
      clearTimeout(timer);
      timer = setTimeout(() => decline(why), ms);
    };

    const onHead = (): void => {
      const stop = head.subarray(0, headBytes).indexOf(HEAD_END);
      if (stop < 0) {
        if (headBytes === head.length) decline('response headers over 16 KiB');
        return;
      }
      const parsed = parseHead(head.subarray(0, stop).toString('latin1'));
      if (!parsed) return decline('not an HTTP/1.1 response');
      const { status, headers } = parsed;
      if (status !== 206) return decline(`status ${status}`);
      const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(headers.get('content-range') ?? '');
      if (!range || Number(range[1]) !== start || Number(range[2]) !== end)
        return decline(`Content-Range ${headers.get('content-range') ?? 'missing'}`);
      if (headers.get('content-length') !== String(length) || headers.has('transfer-encoding'))
        return decline('not a plain body of the range asked for');
      response = { etag: headers.get('etag') ?? null, total: Number(range[3]) };
      // Body bytes that came with the head: the only copy this read makes.
      const early = headBytes - (stop + HEAD_END.length);
      if (early > length) return decline('more bytes than the range');
      head.copy(into, 0, stop + HEAD_END.length, headBytes);
      received = early;
      if (received === length) return settle();
      wait(request.idleTimeoutMs, `no data for ${request.idleTimeoutMs} ms`);
    };

    const onread = {
      buffer: (): Uint8Array =>
        received < 0 ? head.subarray(headBytes) : received < length ? into.subarray(received) : overflow,
      callback: (bytes: number, buffer: Uint8Array): boolean => {
        if (settled) return false;
        if (received < 0) {
          headBytes += bytes;
          onHead();
        } else if (buffer === overflow) {
          decline('more bytes than the range');
        } else {
          received += bytes;
          if (received === length) settle();
          else timer?.refresh();
        }
        return !settled;
      },
    };
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    try {
      socket =
        url.protocol === 'https:'
          ? tls.connect({
              host,
              port,
              ...(net.isIP(host) ? {} : { servername: host }),
              ALPNProtocols: ['http/1.1'],
              ...(request.ca ? { ca: [...tls.rootCertificates, request.ca.toString()] } : {}),
              // tls.connect takes `onread` as net.connect does (tested over TLS in
              // test/integration/loading-direct.test.ts); @types/node does not declare it.
              ...({ onread } as object),
            })
          : net.connect({ host, port, onread });
    } catch (err) {
      return decline('could not connect', err);
    }
    socket.on('error', (err: Error) => decline(`connection failed: ${err.message}`, err));
    socket.on('close', () => decline(received < 0 ? 'closed before the headers' : `closed after ${received} bytes`));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    wait(request.firstByteTimeoutMs, `no response headers within ${request.firstByteTimeoutMs} ms`);
    socket.write(
      `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nRange: bytes=${start}-${end}\r\n` +
        'Accept-Encoding: identity\r\nConnection: close\r\n\r\n',
    );
  });
}
