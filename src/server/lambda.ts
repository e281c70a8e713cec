/**
 * The Lambda adapter: API Gateway HTTP API (payload v2) events ↔ the request core
 * (request-core.ts), which does everything else exactly as for the local server. Two pure mappings
 * and the invocation's time limit. Why not @as-integrations/aws-lambda: README, "Four departures".
 */
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, Handler } from 'aws-lambda';
import type { Api } from './api';
import { createRequestCore, type CoreRequest, type CoreResponse, type RequestCoreOptions } from './request-core';
import type { RequestScope } from '../api/request-scope';

export type LambdaHandler = Handler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

/**
 * Time kept back from the invocation's remaining time so that a request stopped at its deadline
 * still answers before Lambda's own timeout: the core's grace for the running window
 * (DEADLINE_GRACE_MS, 500 ms) plus the response's serialization and return, both bounded by the
 * response budget (API_MAX_RESPONSE_BYTES).
 */
export const LAMBDA_RESPONSE_MARGIN_MS = 1_000;

function headerMapOf(event: APIGatewayProxyEventV2): HeaderMap {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers.set(name, value);
  }
  return headers;
}

/** Decodes the event's body (API Gateway base64-encodes bodies it considers binary). */
export function eventBody(event: APIGatewayProxyEventV2): Buffer | string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
}

/** The core's request for one invocation; `context` gives the request id and the time left. */
export function requestFromEvent(event: APIGatewayProxyEventV2, context: Partial<Context> | undefined): CoreRequest {
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  return {
    method: (event.requestContext?.http?.method ?? 'GET').toUpperCase(),
    path: event.rawPath ?? event.requestContext?.http?.path ?? '/',
    search: event.rawQueryString ?? '',
    headers: headerMapOf(event),
    body: eventBody(event),
    requestId: context?.awsRequestId,
    timeLimitMs: remaining === undefined ? undefined : Math.max(0, remaining - LAMBDA_RESPONSE_MARGIN_MS),
  };
}

/** The v2 result for a core response: text as is, bytes (the IDE's gzipped files) base64-encoded. */
export function resultFromResponse(response: CoreResponse): APIGatewayProxyStructuredResultV2 {
  if (Buffer.isBuffer(response.body)) {
    return { statusCode: response.status, headers: response.headers, body: response.body.toString('base64'), isBase64Encoded: true };
  }
  return { statusCode: response.status, headers: response.headers, body: response.body };
}

export type LambdaAdapterOptions<TContext extends BaseContext> = Omit<RequestCoreOptions<TContext>, 'server' | 'graphqlPath'> & {
  /** The Powertools Logger the core's lines go through: given the invocation's context. */
  logger?: Logger;
};

/**
 * A v2 handler for `server`. Apollo starts in the background, as on Lambda it must: the first
 * invocation waits for it, and a failed start fails requests rather than INIT.
 */
export function createLambdaHandler<TContext extends BaseContext>(
  server: ApolloServer<TContext>,
  options: LambdaAdapterOptions<TContext>,
): LambdaHandler {
  server.startInBackgroundHandlingStartupErrorsByLoggingAndFailingAllRequests();
  // Every path that reaches the function is GraphQL (or an IDE file): API Gateway's routes decide.
  const core = createRequestCore({ ...options, server, graphqlPath: null });
  const { logger } = options;
  return async (event, context) => {
    if (logger) {
      // A sandbox runs one invocation at a time, so the Logger's per-invocation state is this
      // request's: cold_start, function_request_id and the function's name come from the context,
      // correlation_id is API Gateway's request id (its access logs carry it), and the debug
      // sampling (POWERTOOLS_LOGGER_SAMPLE_RATE) is drawn again for each invocation.
      if (context) logger.addContext(context);
      logger.setCorrelationId(event.requestContext?.requestId);
      logger.refreshSampleRateCalculation();
    }
    return resultFromResponse(await core(requestFromEvent(event, context)));
  };
}

/** The Lambda handler of an API, with its configuration (limits, CORS, logs, IDE). */
export function createApiLambdaHandler(api: Api): LambdaHandler {
  return createLambdaHandler(api.server, {
    limits: api.config.limits,
    context: (scope: RequestScope) => api.createContext(scope),
    ideAssets: api.ideAssets,
    corsOrigins: api.config.corsOrigins,
    log: { logRequests: api.config.logRequests, logRequestText: api.config.logRequestText, sink: api.logSink },
    logger: api.logger,
    metrics: api.metrics,
  });
}
