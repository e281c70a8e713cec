/**
 * The request core: everything between a transport receiving an HTTP request and sending the
 * response, written once so that both transports (lambda.ts, local-server.ts) only map their own
 * shapes to CoreRequest and from CoreResponse: scope, CORS, routing, body, Apollo under the
 * deadline, errors, then the log line and metrics. The steps in order: ARCHITECTURE.md, "A request's path".
 */
import { HeaderMap, type ApolloServer, type BaseContext, type HTTPGraphQLRequest } from '@apollo/server';
import { ideAssetName, ideAssetResponse, type IdeAssets } from '../ide/assets';
import { corsHeaders } from './cors';
import {
  ErrorCode,
  HttpRequestError,
  INTERNAL_ERROR_MESSAGE,
  apiCodeOf,
  isRequestAborted,
  statusOf,
} from '../api/errors';
import { JSON_CONTENT_TYPE, checkBodySize, errorResponseBody, parseBody, type BodyLimits } from './http-body';
import type { MetricsRecorder } from './metrics';
import { REQUEST_ID_HEADER, defaultSink, logRequestEnd, type LogSink, type RequestLogOptions } from './request-log';
import { openScope, type RequestScope } from '../api/request-scope';
import { notModified, responseEtag } from './cache/etag';
import { collectCodes } from './sent-codes';

/** One HTTP request, as every transport can describe it. */
export interface CoreRequest {
  /** Upper case. */
  method: string;
  /** The path, without the query string. */
  path: string;
  /** The query string, without `?`. */
  search: string;
  headers: HeaderMap;
  /** The body as received (already base64-decoded by the Lambda adapter). */
  body: Buffer | string;
  /**
   * Set when the transport refused to read the body because it is over the size limit: its size in
   * bytes, declared (Content-Length) or, for a chunked body, a lower bound (`atLeast`). The core
   * answers 413 PAYLOAD_TOO_LARGE.
   */
  oversizedBody?: { bytes: number; atLeast: boolean };
  /**
   * Set when the transport could not read a request at all (a Lambda event of no known shape):
   * the core answers this error, with the headers, log line and metrics of any response.
   */
  refused?: HttpRequestError;
  /** An id for the request: Lambda's awsRequestId, or the client's `x-request-id` locally. */
  requestId?: string;
  /** The most time the transport allows, in ms (on Lambda: the remaining time less a margin). */
  timeLimitMs?: number;
  /** Aborts when the client disconnects (where the transport can tell). */
  signal?: AbortSignal;
}

export interface CoreResponse {
  status: number;
  headers: Record<string, string>;
  /** A string (GraphQL responses, errors) or bytes (the IDE's gzipped files). */
  body: string | Buffer;
  /**
   * `extensions.code` of each error the body carries, in order (duplicates kept: counts matter),
   * as whoever made the errors recorded them: Apollo's formatError (sent-codes.ts) or the core.
   * The log line and the metrics read them here.
   */
  codes: readonly string[];
}

export interface RequestCoreOptions<TContext extends BaseContext> {
  server: ApolloServer<TContext>;
  /** The Apollo context of one HTTP request, built from its scope. */
  context: (scope: RequestScope) => Promise<TContext>;
  limits: BodyLimits & { requestTimeoutMs: number; maxResponseBytes: number };
  /**
   * The GraphQL endpoint's path: other paths get 404, and GET `/` redirects to it. Null: every path
   * that is not an IDE file is GraphQL (behind API Gateway, whose routes choose what reaches us).
   */
  graphqlPath?: string | null;
  /** The IDE's files, served on GET `<...>/ide/<file>`; none when null. */
  ideAssets?: IdeAssets | null;
  /** CORS allow-list (API_CORS_ORIGINS); none by default. */
  corsOrigins?: readonly string[];
  /** One line per request when `logRequests`; internal errors are always logged to `sink`. */
  log?: RequestLogOptions;
  /** Each request's metrics (latency, inputs, windows, tokens, error codes, budget rejections). */
  metrics?: MetricsRecorder | null;
}

export type RequestCore = (request: CoreRequest) => Promise<CoreResponse>;

/**
 * How long after the deadline the core waits for Apollo before answering DEADLINE_EXCEEDED itself.
 * The engine stops between windows, so Apollo normally answers within one window of the deadline;
 * this covers a slow window without letting a stuck wait (a model load that never ends) hold the
 * response.
 */
export const DEADLINE_GRACE_MS = 500;

/** HTTP status logged for a request whose client left before its response (REQUEST_CANCELLED's). */
const CLIENT_CLOSED_STATUS = statusOf('REQUEST_CANCELLED');

export function createRequestCore<TContext extends BaseContext>(options: RequestCoreOptions<TContext>): RequestCore {
  const allowed = options.corsOrigins ?? [];
  const sink = options.log?.sink ?? defaultSink;
  return async (request) => {
    const scope = openScope({
      requestId: request.requestId,
      timeLimitMs: Math.min(options.limits.requestTimeoutMs, request.timeLimitMs ?? Infinity),
      transportSignal: request.signal,
    });
    const cors = corsHeaders({ method: request.method, origin: request.headers.get('origin') }, allowed);
    let response: CoreResponse;
    try {
      response = cors.preflight
        ? { status: 204, headers: {}, body: '', codes: [] }
        : await route(options, request, scope);
    } catch (error) {
      response = errorResponse(error, scope, sink);
    } finally {
      scope.close();
    }
    return finish(options, request, scope, cors.headers, response);
  };
}

/** Step 7: the headers every response gets, then the request's log line and metrics. */
function finish<TContext extends BaseContext>(
  options: RequestCoreOptions<TContext>,
  request: CoreRequest,
  scope: RequestScope,
  corsHeaders: Record<string, string>,
  answered: CoreResponse,
): CoreResponse {
  let response = answered;
  const length: Record<string, string> =
    response.status === 204 || response.status === 304
      ? {}
      : { 'content-length': String(Buffer.byteLength(response.body)) };
  // Errors are never cached, whoever answered them (this core, or Apollo before execution, e.g.
  // its CSRF refusal): a CDN with a default TTL would otherwise keep a 504 for everyone.
  if (response.status >= 400 && !Object.keys(response.headers).some((h) => h.toLowerCase() === 'cache-control')) {
    response = { ...response, headers: { ...response.headers, 'cache-control': 'no-store' } };
  }
  response = {
    ...response,
    headers: withHeaders(response.headers, { ...corsHeaders, ...length, [REQUEST_ID_HEADER]: scope.requestId }),
  };
  const status = request.signal?.aborted ? CLIENT_CLOSED_STATUS : response.status;
  const durationMs = Date.now() - scope.startedAt;
  const summary = scope.recorder.snapshot();
  const { codes } = response;
  if (options.log) {
    logRequestEnd(options.log, {
      requestId: scope.requestId,
      method: request.method,
      path: request.path,
      status,
      durationMs,
      bodyBytes: Buffer.byteLength(request.body),
      codes,
      summary,
    });
  }
  options.metrics?.request({
    status,
    durationMs,
    inputs: summary.inputs,
    windows: summary.windows,
    tokens: summary.tokens,
    codes,
    budgetRejections: summary.budgetRejections,
    responseCache: summary.responseCache,
  });
  return response;
}

async function route<TContext extends BaseContext>(
  options: RequestCoreOptions<TContext>,
  request: CoreRequest,
  scope: RequestScope,
): Promise<CoreResponse> {
  if (request.refused) throw request.refused;
  if (request.oversizedBody) checkBodySize(request.oversizedBody.bytes, options.limits, request.oversizedBody.atLeast);
  const asset = request.method === 'GET' && options.ideAssets ? ideAssetName(request.path) : null;
  if (asset && options.ideAssets) {
    const file = ideAssetResponse(options.ideAssets.get(asset), {
      acceptEncoding: request.headers.get('accept-encoding'),
      ifNoneMatch: request.headers.get('if-none-match'),
    });
    return { ...file, codes: [] };
  }
  const graphqlPath = options.graphqlPath ?? null;
  if (graphqlPath !== null && request.path !== graphqlPath) {
    if (request.path === '/' && request.method === 'GET')
      return { status: 302, headers: { location: graphqlPath }, body: '', codes: [] };
    return {
      status: 404,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: `Not found. The GraphQL endpoint is ${graphqlPath}.\n`,
      codes: [],
    };
  }
  const text = typeof request.body === 'string' ? request.body : request.body.toString('utf8');
  const httpGraphQLRequest: HTTPGraphQLRequest = {
    method: request.method,
    headers: request.headers,
    search: request.search,
    body: parseBody(text, request.headers.get('content-type'), options.limits),
  };
  const execution = collectCodes(() =>
    options.server.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: () => options.context(scope) }),
  );
  const backstop = afterStopped(scope.signal, DEADLINE_GRACE_MS);
  let response;
  try {
    response = await Promise.race([execution.result, backstop.promise]);
  } finally {
    backstop.cancel();
  }
  if (response.body.kind !== 'complete') {
    // Incremental delivery (@defer) needs a streamed response, which payload v2 results are not,
    // and both transports answer alike. Stop the stream's work.
    void response.body.asyncIterator.return?.();
    throw new HttpRequestError('Incremental delivery is not supported by this endpoint.', ErrorCode.BAD_REQUEST, 406);
  }
  checkResponseSize(response.body.string, options.limits.maxResponseBytes);
  const status = response.status ?? 200;
  const body = response.body.string;
  // Copied: a batch's other operations may still format errors for a response already decided.
  const codes = [...execution.codes];
  // Content-Type follows the request's Accept (application/json or graphql-response+json).
  const headers = withHeaders(Object.fromEntries(response.headers), { vary: 'Accept' });
  // Validators and revalidation (src/server/cache/etag.ts): GET only, content-derived, none on errors.
  const etag = responseEtag({ method: request.method, status, headers, body });
  if (etag === null) delete headers.etag;
  else headers.etag = etag;
  if (notModified(request.method, request.headers.get('if-none-match'), etag))
    return { status: 304, headers, body: '', codes };
  return { status, headers, body, codes };
}

/**
 * The response budget, enforced on the body as written: the resolvers charge answer fields before
 * any work (src/resolvers/output-bound.ts), and this catches everything else (errors, many small
 * fields, a batch's brackets). Never a body Lambda cannot return.
 */
function checkResponseSize(body: string, maxBytes: number): void {
  // A UTF-8 byte is at most 3 per UTF-16 unit: most bodies are decided without counting.
  if (body.length * 3 <= maxBytes) return;
  const bytes = Buffer.byteLength(body);
  if (bytes <= maxBytes) return;
  throw new HttpRequestError(
    `The response would be ${bytes} bytes; the limit is ${maxBytes}. ` +
      'Ask for less per request: lower topK, select fewer fields or aliases, send fewer operations or shorter contexts.',
    ErrorCode.RESPONSE_TOO_LARGE,
  );
}

/** Rejects with the signal's reason `graceMs` after it aborts; never, if cancelled first. */
function afterStopped(signal: AbortSignal, graceMs: number): { promise: Promise<never>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const promise = new Promise<never>((_resolve, reject) => {
    onAbort = () => {
      timer = setTimeout(() => reject(signal.reason), graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return {
    promise,
    cancel() {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    },
  };
}

/** The response for an error raised outside Apollo's own error handling. */
function errorResponse(error: unknown, scope: RequestScope, sink: LogSink): CoreResponse {
  let known: HttpRequestError;
  if (error instanceof HttpRequestError) known = error;
  else if (isRequestAborted(error)) {
    known = new HttpRequestError(error.message, apiCodeOf(error)!);
  } else {
    return internalErrorResponse(error, { sink, where: 'the request core', requestId: scope.requestId });
  }
  return codedResponse(known);
}

/** The response of one coded error, which carries its code. */
function codedResponse(error: HttpRequestError): CoreResponse {
  return {
    status: error.status,
    headers: { 'content-type': JSON_CONTENT_TYPE },
    body: errorResponseBody(error),
    codes: [error.code],
  };
}

/**
 * The answer to a bug (anything but a coded error): logged with the request id and where it
 * happened, never echoed to the client, which gets the masked INTERNAL_SERVER_ERROR.
 */
export function internalErrorResponse(
  error: unknown,
  at: { sink: LogSink; where: string; requestId: string | undefined },
): CoreResponse {
  at.sink({
    level: 'error',
    msg: `internal error in ${at.where}`,
    requestId: at.requestId,
    error: (error as Error)?.name,
    message: (error as Error)?.message ?? String(error),
    stack: (error as Error)?.stack,
  });
  return codedResponse(new HttpRequestError(INTERNAL_ERROR_MESSAGE, ErrorCode.INTERNAL_SERVER_ERROR));
}

/** Adds headers; `vary` values are combined rather than replaced (the IDE's and CORS's). */
function withHeaders(base: Record<string, string>, extra: Record<string, string>): Record<string, string> {
  const merged = { ...base };
  for (const [name, value] of Object.entries(extra)) {
    const key = name.toLowerCase();
    merged[key] = key === 'vary' && merged[key] ? `${merged[key]}, ${value}` : value;
  }
  return merged;
}
