/**
 * Request ids and structured logs: one line per HTTP request (its id, status, codes and the work
 * it was charged), and internal errors with their stack. Users' text (the query document and the
 * variables) is never logged unless API_LOG_REQUEST_TEXT is on, and this API's error messages never
 * quote it. The lines and their fields: docs/operations.md, "Reading the logs".
 */
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import type { LogEntry, LogLevel, LogSink } from '../api/context';
import { isPublicCode, uncodedClientErrorCode } from '../api/errors';
import type { RequestSummary } from '../api/request-recorder';
import type { RequestScope } from '../api/request-scope';
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

/** How an HTTP request ended, as the request core knows it when its response is ready. */
export interface RequestEnd {
  requestId: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  bodyBytes: number;
  /** The codes of the errors sent (CoreResponse.codes). */
  codes: readonly string[];
  /** What the request did (its recorder's snapshot). */
  summary: RequestSummary;
}

/** The line written when an HTTP request ends. */
export function logRequestEnd(options: RequestLogOptions, end: RequestEnd): void {
  if (!options.logRequests) return;
  const { summary } = end;
  options.sink({
    level: end.status >= 500 ? 'error' : end.status >= 400 ? 'warn' : 'info',
    msg: 'request',
    requestId: end.requestId,
    method: end.method,
    path: end.path,
    status: end.status,
    durationMs: end.durationMs,
    bodyBytes: end.bodyBytes,
    operations: summary.operations,
    inputs: summary.inputs,
    windows: summary.windows,
    tokens: summary.tokens,
    budgetRejections: summary.budgetRejections,
    codes: end.codes,
    ...(summary.responseCache ? { responseCache: summary.responseCache } : {}),
  });
}

interface ScopedContext {
  scope: Pick<RequestScope, 'requestId' | 'recorder'>;
}

/**
 * Counts each operation on the request's recorder and logs unexpected errors (always, with their
 * stack, which clients never see), and each operation's name and codes at DEBUG. With
 * API_LOG_REQUEST_TEXT, also logs each operation's text and variables. The request's own codes
 * are recorded where its errors are made (sent-codes.ts), not here.
 */
export function requestLogPlugin<T extends ScopedContext>(options: RequestLogOptions): ApolloServerPlugin<T> {
  return {
    async requestDidStart({ contextValue }) {
      const { requestId, recorder } = contextValue.scope;
      recorder.operationStarted();
      return {
        async didEncounterErrors(rc: GraphQLRequestContext<T>) {
          for (const error of rc.errors ?? []) {
            const code = codeOf(error);
            if (isPublicCode(code) || uncodedClientErrorCode(error)) continue;
            const original = error.originalError ?? error;
            options.sink({
              level: 'error',
              msg: 'internal error',
              requestId,
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
            requestId,
            operationName: rc.operationName ?? null,
            codes,
          });
          if (options.logRequestText) {
            options.sink({
              level: 'info',
              msg: 'operation (debug: API_LOG_REQUEST_TEXT is on)',
              requestId,
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
