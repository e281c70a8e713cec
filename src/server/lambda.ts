/**
 * The Lambda adapter: the events of every front door (API Gateway HTTP API and REST API, function
 * URLs, Application Load Balancers; mapped in lambda-events.ts) ↔ the request core
 * (request-core.ts), which does everything else exactly as for the local server. This file adds
 * the invocation: its time limit, its log context, and a response for any event at all.
 */
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, Handler } from 'aws-lambda';
import type { Api } from './api';
import { createRequestCore, internalErrorResponse, type CoreRequest, type RequestCoreOptions } from './request-core';
import type { RequestScope } from '../api/request-scope';
import { mapEvent, resultOf, type LambdaResult, type MappedEvent } from './lambda-events';
import type { HttpRequestError } from '../api/errors';
import { defaultSink } from './request-log';

/** Any JSON value is an event: a door sends a known shape, but a direct invocation sends anything. */
export type LambdaHandler = Handler<unknown, LambdaResult>;

/**
 * Time kept back from the invocation's remaining time so that a request stopped at its deadline
 * still answers before Lambda's own timeout: the core's grace for the running window
 * (DEADLINE_GRACE_MS, 500 ms) plus the response's serialization and return, both bounded by the
 * response budget (API_MAX_RESPONSE_BYTES).
 */
export const LAMBDA_RESPONSE_MARGIN_MS = 1_000;

/**
 * The core's request for one invocation; `context` gives the request id and the time left. An
 * event of no known shape becomes a request the core refuses (so it is logged and counted too).
 */
export function requestFromEvent(
  mapped: MappedEvent | { refused: HttpRequestError },
  context: Partial<Context> | undefined,
): CoreRequest {
  const remaining: unknown =
    typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  const invocation = {
    requestId: typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined,
    // Lambda's clock is a number; a caller's own context may not be, and then only the API's
    // own request timeout applies.
    timeLimitMs:
      typeof remaining === 'number' && Number.isFinite(remaining)
        ? Math.max(0, remaining - LAMBDA_RESPONSE_MARGIN_MS)
        : undefined,
  };
  if ('refused' in mapped) {
    return {
      method: 'UNKNOWN',
      path: '',
      search: '',
      headers: new HeaderMap(),
      body: '',
      refused: mapped.refused,
      ...invocation,
    };
  }
  return { ...mapped.request, ...invocation };
}

export type LambdaAdapterOptions<TContext extends BaseContext> = Omit<
  RequestCoreOptions<TContext>,
  'server' | 'graphqlPath'
> & {
  /** The Powertools Logger the core's lines go through: given the invocation's context. */
  logger?: Logger;
};

/**
 * The handler for `server`, whatever door the function is behind. Apollo starts in the background,
 * as on Lambda it must: the first invocation waits for it, and a failed start fails requests
 * rather than INIT. It answers every event, never throws: an event of no known shape gets 400
 * BAD_REQUEST, and a failure outside the core (a bug) a masked 500.
 */
export function createLambdaHandler<TContext extends BaseContext>(
  server: ApolloServer<TContext>,
  options: LambdaAdapterOptions<TContext>,
): LambdaHandler {
  server.startInBackgroundHandlingStartupErrorsByLoggingAndFailingAllRequests();
  // Every path that reaches the function is GraphQL (or an IDE file): the door's routes decide.
  const core = createRequestCore({ ...options, server, graphqlPath: null });
  const { logger } = options;
  const sink = options.log?.sink ?? defaultSink;
  return async (event, context) => {
    let mapped: MappedEvent | null = null;
    try {
      const outcome = mapEvent(event);
      if (!('refused' in outcome)) mapped = outcome;
      if (logger) {
        // A sandbox runs one invocation at a time, so the Logger's per-invocation state is this
        // request's: cold_start, function_request_id and the function's name come from the context,
        // correlation_id is the door's request id (API Gateway's access logs carry it), and the
        // debug sampling (POWERTOOLS_LOGGER_SAMPLE_RATE) is drawn again for each invocation.
        if (context) logger.addContext(context);
        logger.setCorrelationId(mapped?.correlationId);
        logger.refreshSampleRateCalculation();
      }
      return resultOf(mapped, await core(requestFromEvent(outcome, context)));
    } catch (error) {
      // The core answers its own failures; this is the adapter's last word on one of its own
      // (logged with the invocation's id, never echoed to the client).
      const response = internalErrorResponse(error, {
        sink,
        where: 'the Lambda adapter',
        requestId: typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined,
      });
      // The core's finishing step (which marks errors no-store) did not run.
      return resultOf(mapped, { ...response, headers: { ...response.headers, 'cache-control': 'no-store' } });
    }
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
