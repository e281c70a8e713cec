/**
 * A small HTTP proxy on 127.0.0.1 that makes a local S3 server (s3rver) behave like S3 seen from
 * Lambda: each connection gets `bytesPerSecond` (default 85 MB/s) and every response waits
 * `firstByteMs` (default 30 ms) before its headers. s3rver on loopback serves a 67 MB model in a
 * blink and so hides exactly what ranged reads are for; through this proxy one stream costs what
 * it would cost from S3.
 *
 * Faults, chosen per request by a function of method, path and Range: `reset` cuts the connection
 * after some body bytes (an RST), `stall` stops sending (after the headers, or before them) for a
 * while. Every request is logged with its Range and what happened, so tests can check that only
 * the damaged part was asked for again.
 *
 * Loops are bounded: the body loop runs once per upstream chunk, and every wait has a timeout.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Resolves when `res` can take more (or is gone), leaving no listener behind. */
export function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** What to do to one response. */
export type ProxyFault =
  /** Send `afterBytes` of the body, then reset the connection. */
  | { kind: 'reset'; afterBytes: number }
  /** Send `afterBytes` of the body (or nothing, not even headers, with `beforeHeaders`), then go silent for `ms` (default 60 s) and close. */
  | { kind: 'stall'; afterBytes: number; beforeHeaders?: boolean; ms?: number };

/** A request as the fault chooser and the log see it. */
export interface ProxiedRequest {
  method: string;
  /** Decoded path without the query, e.g. `/models/m/onnx/model.onnx`. */
  path: string;
  /** The Range header, if any. */
  range: string | undefined;
}

export interface ProxyLogEntry extends ProxiedRequest {
  status: number;
  /** Body bytes sent to the client. */
  bytes: number;
  fault: ProxyFault['kind'] | undefined;
}

export interface ThrottleSettings {
  /** Per connection; 0 or Infinity: unthrottled. */
  bytesPerSecond: number;
  /** Wait before each response's headers. */
  firstByteMs: number;
}

export interface ThrottleProxy {
  endpoint: string;
  port: number;
  /** Change freely between requests (e.g. unthrottled while uploading). */
  settings: ThrottleSettings;
  log: ProxyLogEntry[];
  /** Requests for `path` (optionally only those with this Range). */
  count(method: string, path: string, range?: string): number;
  /** Chooses a fault per request; undefined for none. */
  faults(choose: ((req: ProxiedRequest) => ProxyFault | undefined) | undefined): void;
  close(): Promise<void>;
}

export const DEFAULT_THROTTLE: ThrottleSettings = { bytesPerSecond: 85e6, firstByteMs: 30 };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Starts the proxy in front of `upstream` (e.g. `http://127.0.0.1:<s3rver port>`). */
export async function startThrottleProxy(
  upstream: string,
  settings: Partial<ThrottleSettings> = {},
): Promise<ThrottleProxy> {
  const target = new URL(upstream);
  if (!/^127\.\d+\.\d+\.\d+$/.test(target.hostname))
    throw new Error(`the proxy only forwards to loopback, got ${upstream}`);
  const current: ThrottleSettings = { ...DEFAULT_THROTTLE, ...settings };
  const log: ProxyLogEntry[] = [];
  let chooser: ((req: ProxiedRequest) => ProxyFault | undefined) | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  const server = http.createServer((req, res) => {
    const arrived = performance.now();
    const request: ProxiedRequest = {
      method: req.method ?? 'GET',
      path: decodeURIComponent((req.url ?? '').split('?')[0]!),
      range: typeof req.headers.range === 'string' ? req.headers.range : undefined,
    };
    const fault = chooser?.(request);
    const entry: ProxyLogEntry = { ...request, status: 0, bytes: 0, fault: fault?.kind };
    log.push(entry);
    const out = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (up) => void relay(up).catch(() => res.destroy()),
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
    res.on('close', () => out.destroy());

    async function relay(up: http.IncomingMessage): Promise<void> {
      entry.status = up.statusCode ?? 0;
      if (fault?.kind === 'stall' && fault.beforeHeaders) return stall(up, fault.ms);
      await sleep(current.firstByteMs - (performance.now() - arrived));
      res.writeHead(up.statusCode ?? 502, up.headers);
      const started = performance.now();
      const rate = current.bytesPerSecond > 0 && Number.isFinite(current.bytesPerSecond) ? current.bytesPerSecond : 0;
      for await (const chunk of up as AsyncIterable<Buffer>) {
        if (res.destroyed) break;
        let piece = chunk;
        if (fault && fault.afterBytes < entry.bytes + piece.length) {
          piece = piece.subarray(0, Math.max(0, fault.afterBytes - entry.bytes));
          if (piece.length > 0) await send(piece);
          if (fault.kind === 'reset') {
            up.destroy();
            // Let the bytes sent so far reach the client first: an RST makes the receiver drop
            // what it has not read yet, and the fault is meant to land mid-body.
            await new Promise<void>((resolve) => res.write('', () => resolve()));
            await sleep(20);
            // An RST, as a dropped connection looks to the client, rather than a clean FIN.
            res.socket?.resetAndDestroy();
            return;
          }
          return stall(up, fault.ms);
        }
        if (rate > 0) {
          // Pace against the schedule, not per chunk, so timer granularity does not change the rate.
          const due = started + ((entry.bytes + piece.length) / rate) * 1000;
          const ahead = due - performance.now();
          if (ahead >= 1) await sleep(ahead);
        }
        await send(piece);
      }
      res.end();
    }

    async function send(piece: Buffer): Promise<void> {
      entry.bytes += piece.length;
      if (!res.write(piece)) await drained(res);
    }

    async function stall(up: http.IncomingMessage, ms = 60_000): Promise<void> {
      up.destroy();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        res.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      res.destroy();
    }
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    settings: current,
    log,
    count: (method, path, range) =>
      log.filter((e) => e.method === method && e.path === path && (range === undefined || e.range === range)).length,
    faults: (fn) => void (chooser = fn),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
