/**
 * Request ids and structured logs: one line per HTTP request (its id, status, codes and the work
 * it was charged), and internal errors with their stack. Users' text (the query document and the
 * variables) is never logged unless API_LOG_REQUEST_TEXT is on, and this API's error messages never
 * quote it. The lines and their fields: docs/operations.md, "Reading the logs".
 */
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import type { LogEntry, LogLevel, LogSink } from '../api/context';
import { isPublicCode, uncodedClientErrorCode } from '../api/errors';
import type { RequestTrace } from '../api/request-scope';
import { createLogger, loggerSink } from './logger';
import { codeOf } from './sent-codes';

export type { LogEntry, LogLevel, LogSink };

let shared: LogSink | null = null;

/** The process's default sink: one Powertools Logger on stdout (Lambda sends it to CloudWatch). */
export const defaultSink: LogSink = (entry) => {
  shared ??= loggerSink(createLogger());
  shared(entry);
};

export const REQUEST_ID_HEADER = 'x-request-id';

export interface RequestLogOptions {
  /** One line per HTTP request. */
  logRequests: boolean;
  /** Debug: add the query and variables (users' text) to a line per operation. */
  logRequestText: boolean;
  sink: LogSink;
}

/** The line written when an HTTP request ends (by the transport, which knows the status). */
export function logRequestEnd(
  options: RequestLogOptions,
  trace: RequestTrace,
  codes: readonly string[],
  http: { method: string; path: string; status: number; bodyBytes: number },
): void {
  if (!options.logRequests) return;
  options.sink({
    level: http.status >= 500 ? 'error' : http.status >= 400 ? 'warn' : 'info',
    msg: 'request',
    requestId: trace.requestId,
    method: http.method,
    path: http.path,
    status: http.status,
    durationMs: Date.now() - trace.startedAt,
    bodyBytes: http.bodyBytes,
    operations: trace.operations,
    inputs: trace.usage?.inputs ?? 0,
    windows: trace.work?.windows ?? 0,
    tokens: trace.work?.tokens ?? 0,
    budgetRejections: budgetRejections(trace),
    codes,
    ...(trace.responseCache ? { responseCache: trace.responseCache } : {}),
  });
}

/** Inputs refused by the request's budgets: windows (WorkBudget) or characters (the text budget). */
export function budgetRejections(trace: RequestTrace): number {
  return (trace.work?.refusals ?? 0) + (trace.usage?.refusals ?? 0);
}

interface TracedContext {
  scope: { trace: RequestTrace };
}

/**
 * Counts each operation on the request's trace and logs unexpected errors (always, with their
 * stack, which clients never see), and each operation's name and codes at DEBUG. With
 * API_LOG_REQUEST_TEXT, also logs each operation's text and variables. The request's own codes
 * are recorded where its errors are made (sent-codes.ts), not here.
 */
export function requestLogPlugin<T extends TracedContext>(options: RequestLogOptions): ApolloServerPlugin<T> {
  return {
    async requestDidStart({ contextValue }) {
      const { trace } = contextValue.scope;
      trace.operations += 1;
      return {
        async didEncounterErrors(rc: GraphQLRequestContext<T>) {
          for (const error of rc.errors ?? []) {
            const code = codeOf(error);
            if (isPublicCode(code) || uncodedClientErrorCode(error)) continue;
            const original = error.originalError ?? error;
            options.sink({
              level: 'error',
              msg: 'internal error',
              requestId: trace.requestId,
              operationName: rc.operationName ?? null,
              path: error.path ?? null,
              error: original.name,
              message: original.message,
              stack: original.stack,
            });
          }
        },
        async willSendResponse(rc: GraphQLRequestContext<T>) {
          const body = rc.response.body;
          const codes = body?.kind === 'single' ? (body.singleResult.errors ?? []).map(codeOf) : [];
          // Written only when the level is DEBUG, e.g. for the invocations that
          // POWERTOOLS_LOGGER_SAMPLE_RATE samples; names and codes only, never users' text.
          options.sink({
            level: 'debug',
            msg: 'operation',
            requestId: trace.requestId,
            operationName: rc.operationName ?? null,
            codes,
          });
          if (options.logRequestText) {
            options.sink({
              level: 'info',
              msg: 'operation (debug: API_LOG_REQUEST_TEXT is on)',
              requestId: trace.requestId,
              operationName: rc.operationName ?? null,
              query: rc.request.query ?? null,
              variables: rc.request.variables ?? null,
            });
          }
        },
      };
    },
  };
}
