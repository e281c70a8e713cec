/**
 * The local server: the same API (src/server/api.ts) over node:http, for `npm start`, the
 * browser test and comparisons with the Lambda handler. Routes:
 *   /graphql        GraphQL (POST, GET) and, for browsers, the GraphiQL IDE
 *   /ide/<file>     the IDE's bundle, gzipped
 *   /               redirects to /graphql
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import type { Api } from './server/api';
import { ErrorCode } from './server/errors';
import { HttpRequestError, JSON_CONTENT_TYPE, checkBodySize, errorResponseBody, parseBody } from './server/http-body';
import { ideAssetName, ideAssetResponse } from './ide/assets';
import { corsHeaders } from './server/cors';
import { REQUEST_ID_HEADER, logRequestEnd, newRequestId, newTrace, type RequestTrace } from './server/request-log';

export const GRAPHQL_PATH = '/graphql';

/** Reads the body, giving up (413) as soon as it exceeds the limit rather than buffering it all. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        try {
          checkBodySize(size, { maxBodyBytes: maxBytes, maxBatchOperations: Infinity });
        } catch (error) {
          req.pause();
          reject(error);
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function headerMapOf(req: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

function sendError(api: Api, trace: RequestTrace, res: ServerResponse, error: unknown): void {
  const known =
    error instanceof HttpRequestError
      ? error
      : (api.logSink({
          level: 'error',
          msg: 'internal error in the local server',
          requestId: trace.requestId,
          error: (error as Error)?.name,
          message: (error as Error)?.message ?? String(error),
          stack: (error as Error)?.stack,
        }),
        new HttpRequestError('Internal server error', 500, ErrorCode.INTERNAL_SERVER_ERROR));
  trace.codes.push(known.code);
  if (res.headersSent) {
    // A failure while streaming: the status is gone; end the response rather than hang.
    res.destroy();
    return;
  }
  // The client may still be sending a body we refused; close rather than drain it.
  res.writeHead(known.status, { 'content-type': JSON_CONTENT_TYPE, connection: 'close' });
  res.end(errorResponseBody(known));
}

async function handleGraphQL(api: Api, trace: RequestTrace, req: IncomingMessage, res: ServerResponse, url: { search: string }): Promise<void> {
  const headers = headerMapOf(req);
  const raw = await readBody(req, api.config.limits.maxBodyBytes);
  const httpGraphQLRequest: HTTPGraphQLRequest = {
    method: (req.method ?? 'GET').toUpperCase(),
    headers,
    search: url.search.replace(/^\?/, ''),
    body: parseBody(raw, headers.get('content-type'), api.config.limits),
  };
  const response = await api.server.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: () => api.createContext(trace) });
  const outHeaders = Object.fromEntries(response.headers);
  res.writeHead(response.status ?? 200, outHeaders);
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

export function createRequestListener(api: Api) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    // A client's own id is kept when it is a harmless token (to correlate its logs with ours).
    const header = req.headers[REQUEST_ID_HEADER];
    const trace = newTrace(newRequestId(typeof header === 'string' ? header : undefined));
    res.setHeader(REQUEST_ID_HEADER, trace.requestId);
    const method = (req.method ?? 'GET').toUpperCase();
    const cors = corsHeaders({ method, origin: req.headers.origin }, api.config.corsOrigins);
    for (const [name, value] of Object.entries(cors.headers)) res.setHeader(name, value);
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => void (bodyBytes += chunk.length));
    res.on('finish', () =>
      logRequestEnd({ logRequests: api.config.logRequests, logRequestText: false, sink: api.logSink }, trace, {
        method,
        path: (req.url ?? '/').split('?')[0]!,
        status: res.statusCode,
        bodyBytes,
      }),
    );
    if (cors.preflight) {
      res.writeHead(204);
      res.end();
      return;
    }
    // Parse by hand: `new URL('//x', base)` throws (a protocol-relative URL) and clients do send
    // such paths.
    const [pathname = '/', search = ''] = (req.url ?? '/').split(/\?(.*)/s);
    const url = { pathname: pathname.replace(/\/{2,}/g, '/'), search: search === '' ? '' : `?${search}` };
    const asset = req.method === 'GET' ? ideAssetName(url.pathname) : null;
    if (asset && api.ideAssets) {
      const response = ideAssetResponse(api.ideAssets.get(asset), {
        acceptEncoding: req.headers['accept-encoding'],
        ifNoneMatch: req.headers['if-none-match'],
      });
      res.writeHead(response.status, response.headers);
      res.end(response.body);
      return;
    }
    if (url.pathname === '/' && req.method === 'GET') {
      res.writeHead(302, { location: GRAPHQL_PATH });
      res.end();
      return;
    }
    if (url.pathname !== GRAPHQL_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`Not found. The GraphQL endpoint is ${GRAPHQL_PATH}.\n`);
      return;
    }
    handleGraphQL(api, trace, req, res, url).catch((error) => sendError(api, trace, res, error));
  };
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
