/**
 * The Lambda adapter: pure mappings between API Gateway HTTP API (payload v2) events and
 * Apollo's HTTP requests/responses, on top of @as-integrations/aws-lambda. It differs from the
 * integration's stock v2 handler in three ways: a malformed body gets a GraphQL-shaped error
 * with a stable code (not the raw JSON.parse message as text), the body size and HTTP batch
 * length are capped, and the IDE's static files are served (gzipped) before Apollo runs.
 * Around it all, `createLambdaHandler` answers CORS preflights, adds the CORS headers and the
 * `x-request-id` header (Lambda's awsRequestId) to every result, and logs one line per request.
 */
import { HeaderMap, type ApolloServer, type BaseContext, type HTTPGraphQLRequest, type HTTPGraphQLResponse } from '@apollo/server';
import { handlers, startServerAndCreateLambdaHandler, type LambdaHandler } from '@as-integrations/aws-lambda';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ErrorCode } from './errors';
import { HttpRequestError, JSON_CONTENT_TYPE, errorResponseBody, parseBody, type BodyLimits } from './http-body';
import { ideAssetName, ideAssetResponse, type IdeAssets } from '../ide/assets';
import type { Api } from './api';
import { corsHeaders } from './cors';
import { REQUEST_ID_HEADER, logRequestEnd, newRequestId, newTrace, type RequestLogOptions, type RequestTrace } from './request-log';

export type V2RequestHandler = handlers.RequestHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

function headerMapOf(event: APIGatewayProxyEventV2): HeaderMap {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers.set(name, value);
  }
  return headers;
}

/** Decodes the event's body (API Gateway base64-encodes bodies it considers binary). */
export function eventBodyText(event: APIGatewayProxyEventV2): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

export function requestFromEvent(event: APIGatewayProxyEventV2, limits: BodyLimits): HTTPGraphQLRequest {
  const headers = headerMapOf(event);
  return {
    method: event.requestContext.http.method.toUpperCase(),
    headers,
    search: event.rawQueryString ?? '',
    body: parseBody(eventBodyText(event), headers.get('content-type'), limits),
  };
}

export function resultFromResponse(response: HTTPGraphQLResponse): APIGatewayProxyStructuredResultV2 {
  if (response.body.kind !== 'complete') {
    // Incremental delivery (@defer) needs a streaming response, which payload v2 results are not.
    throw new HttpRequestError('Incremental delivery is not supported by this endpoint.', 406, ErrorCode.BAD_REQUEST);
  }
  return {
    statusCode: response.status ?? 200,
    headers: { ...Object.fromEntries(response.headers), 'content-length': String(Buffer.byteLength(response.body.string)) },
    body: response.body.string,
  };
}

export function resultFromError(error: unknown): APIGatewayProxyStructuredResultV2 {
  const known =
    error instanceof HttpRequestError
      ? error
      : // Anything else is a bug in this adapter: never echo its message to the client.
        (console.error('Unexpected error in the Lambda adapter:', error),
        new HttpRequestError('Internal server error', 500, ErrorCode.INTERNAL_SERVER_ERROR));
  return {
    statusCode: known.status,
    headers: { 'content-type': JSON_CONTENT_TYPE },
    body: errorResponseBody(known),
  };
}

export function createV2RequestHandler(limits: BodyLimits): V2RequestHandler {
  return handlers.createRequestHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(
    (event) => requestFromEvent(event, limits),
    { success: resultFromResponse, error: resultFromError },
  );
}

/** Answers GET `<...>/ide/<file>` from memory; every other request goes on to Apollo. */
export function ideAssetsMiddleware(assets: IdeAssets | null) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2 | void> => {
    if (!assets || event.requestContext.http.method !== 'GET') return;
    const name = ideAssetName(event.rawPath ?? event.requestContext.http.path);
    if (!name) return;
    const headers = headerMapOf(event);
    const response = ideAssetResponse(assets.get(name), {
      acceptEncoding: headers.get('accept-encoding'),
      ifNoneMatch: headers.get('if-none-match'),
    });
    return {
      statusCode: response.status,
      headers: response.headers,
      body: response.body.toString('base64'),
      isBase64Encoded: true,
    };
  };
}

export interface LambdaAdapterOptions<TContext extends BaseContext> {
  limits: BodyLimits;
  context: (args: { event: APIGatewayProxyEventV2; context: Context; trace: RequestTrace }) => Promise<TContext>;
  ideAssets?: IdeAssets | null;
  /** CORS allow-list (API_CORS_ORIGINS); none by default. */
  corsOrigins?: readonly string[];
  /** Request logging; off when absent. */
  log?: RequestLogOptions;
}

/** The error codes of an error result (for the log line of requests rejected before Apollo). */
function codesOfBody(body: string | undefined): string[] {
  try {
    const parsed = JSON.parse(body ?? '') as { errors?: Array<{ extensions?: { code?: unknown } }> };
    return (parsed.errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
  } catch {
    return [];
  }
}

export function createLambdaHandler<TContext extends BaseContext>(
  server: ApolloServer<TContext>,
  options: LambdaAdapterOptions<TContext>,
): LambdaHandler<V2RequestHandler> {
  // The trace of each invocation, found again by the context function through the event object
  // (each invocation has its own; the Lambda context object may be shared by tests).
  const traces = new WeakMap<APIGatewayProxyEventV2, RequestTrace>();
  const inner = startServerAndCreateLambdaHandler(server, createV2RequestHandler(options.limits), {
    context: ({ event, context }) => options.context({ event, context, trace: traces.get(event) ?? newTrace() }),
    middleware: [ideAssetsMiddleware(options.ideAssets ?? null)],
  });
  const allowed = options.corsOrigins ?? [];
  return async (event, context, callback) => {
    const trace = newTrace(newRequestId(context?.awsRequestId));
    traces.set(event, trace);
    const method = event.requestContext?.http?.method?.toUpperCase() ?? 'GET';
    const cors = corsHeaders({ method, origin: event.headers?.origin }, allowed);
    let result: APIGatewayProxyStructuredResultV2;
    if (cors.preflight) {
      result = { statusCode: 204, headers: {} };
    } else {
      try {
        result = (await inner(event, context, callback)) as APIGatewayProxyStructuredResultV2;
      } catch (error) {
        // The integration catches its own errors; this is the last line before a crashed invocation.
        result = resultFromError(error);
      }
    }
    result = { ...result, headers: { ...result.headers, ...cors.headers, [REQUEST_ID_HEADER]: trace.requestId } };
    const status = result.statusCode ?? 200;
    if (options.log) {
      if (trace.codes.length === 0 && status >= 400 && !result.isBase64Encoded) trace.codes.push(...codesOfBody(result.body));
      logRequestEnd(options.log, trace, {
        method,
        path: event.rawPath ?? '',
        status,
        bodyBytes: event.body?.length ?? 0,
      });
    }
    return result;
  };
}

/** The Lambda handler of an API, with its configuration (CORS, logs) and IDE. */
export function createApiLambdaHandler(api: Api): LambdaHandler<V2RequestHandler> {
  return createLambdaHandler(api.server, {
    limits: api.config.limits,
    context: ({ trace }) => api.createContext(trace),
    ideAssets: api.ideAssets,
    corsOrigins: api.config.corsOrigins,
    log: { logRequests: api.config.logRequests, logRequestText: api.config.logRequestText, sink: api.logSink },
  });
}
