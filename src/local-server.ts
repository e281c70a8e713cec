/**
 * The local server: the same API (src/server/api.ts) over node:http, for `npm start`, the
 * browser test and comparisons with the Lambda handler. A thin mapping between Node's request and
 * response and the request core (src/server/request-core.ts), which does the rest exactly as on
 * Lambda. Routes: `/graphql` (GraphQL, and the IDE for browsers), `/ide/<file>`, `/` → `/graphql`.
 *
 * What only this transport can do: tell when the client disconnects (the core then stops the
 * request's work), and refuse an oversized body without reading it while still letting the client
 * read the 413 (node-body.ts).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { Api } from './server/api';
import { createRequestCore, type CoreRequest, type RequestCore, type RequestCoreOptions } from './server/request-core';
import { readBody, sendWhileDraining } from './server/node-body';
import { REQUEST_ID_HEADER } from './server/request-log';
import type { RequestScope } from './api/request-scope';

export const GRAPHQL_PATH = '/graphql';

function headerMapOf(req: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

/** Path and query string, parsed by hand: `new URL('//x', base)` throws, and clients do send such paths. */
function splitUrl(url: string | undefined): { path: string; search: string } {
  const [pathname = '/', search = ''] = (url ?? '/').split(/\?(.*)/s);
  return { path: pathname.replace(/\/{2,}/g, '/'), search };
}

async function handle(
  core: RequestCore,
  maxBodyBytes: number,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  // 'close' before the response finished: the client went away, and its work should stop.
  const clientGone = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) clientGone.abort();
  });
  const header = req.headers[REQUEST_ID_HEADER];
  const body = await readBody(req, { maxBytes: maxBodyBytes });
  const request: CoreRequest = {
    method: (req.method ?? 'GET').toUpperCase(),
    ...splitUrl(req.url),
    headers: headerMapOf(req),
    body: body.kind === 'body' ? body.body : '',
    oversizedBody:
      body.kind === 'too-large'
        ? { bytes: body.declaredBytes ?? body.seenBytes, atLeast: body.declaredBytes === null }
        : undefined,
    // A client's own id is kept when it is a harmless token (to correlate its logs with ours).
    requestId: typeof header === 'string' ? header : undefined,
    signal: clientGone.signal,
  };
  const response = await core(request);
  if (clientGone.signal.aborted || res.destroyed) return;
  if (body.kind === 'too-large') {
    // The client may still be sending: let it finish (bounded) so that it reads the 413.
    await sendWhileDraining(req, res, response);
    return;
  }
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

export type NodeAdapterOptions<TContext extends BaseContext> = Omit<RequestCoreOptions<TContext>, 'server'>;

/** A `node:http` request listener for `server` (which the caller starts). */
export function createNodeListener<TContext extends BaseContext>(
  server: ApolloServer<TContext>,
  options: NodeAdapterOptions<TContext>,
): (req: IncomingMessage, res: ServerResponse) => void {
  const core = createRequestCore({ graphqlPath: GRAPHQL_PATH, ...options, server });
  return (req, res) => {
    handle(core, options.limits.maxBodyBytes, req, res).catch((error: unknown) => {
      // The core answers every error itself; this is a failure to read or write the socket.
      options.log?.sink({
        level: 'warn',
        msg: 'connection failed',
        message: (error as Error)?.message ?? String(error),
      });
      res.destroy();
    });
  };
}

/** The request listener of an API, with its configuration (limits, CORS, logs, IDE). */
export function createRequestListener(api: Api): (req: IncomingMessage, res: ServerResponse) => void {
  return createNodeListener(api.server, {
    limits: api.config.limits,
    context: (scope: RequestScope) => api.createContext(scope),
    ideAssets: api.ideAssets,
    corsOrigins: api.config.corsOrigins,
    // Users' text is never logged by the local server's request lines.
    log: { logRequests: api.config.logRequests, logRequestText: false, sink: api.logSink },
    metrics: api.metrics,
  });
}

export interface RunningServer {
  server: http.Server;
  url: string;
  close(): Promise<void>;
}

/** Starts Apollo and listens; port 0 picks a free port. */
export async function listen(api: Api, options: { port: number; host: string }): Promise<RunningServer> {
  await api.server.start();
  const server = http.createServer(createRequestListener(api));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  return {
    server,
    url: `http://${host}:${port}${GRAPHQL_PATH}`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await api.server.stop();
    },
  };
}
