/**
 * The API's error vocabulary: every error a client can see has a stable `extensions.code`, and
 * the codes that describe the whole request also set its HTTP status (Apollo reads
 * `extensions.http` from resolver errors and removes it from the response).
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { HeaderMap } from '@apollo/server';

export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  MODEL_UNAVAILABLE: 'MODEL_UNAVAILABLE',
  BATCH_TOO_LARGE: 'BATCH_TOO_LARGE',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  BAD_REQUEST: 'BAD_REQUEST',
  DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED',
  REQUEST_CANCELLED: 'REQUEST_CANCELLED',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Seconds a client should wait before retrying while the model loads or recovers. */
const MODEL_RETRY_AFTER_SECONDS = '5';

/**
 * An argument is out of range. HTTP 400, like Apollo's own variable-coercion errors: the client
 * must change the request, retrying it unchanged cannot help.
 */
export function badUserInput(message: string, argument: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: ErrorCode.BAD_USER_INPUT, argument, http: { status: 400 } },
  });
}

/** The model cannot be loaded now: HTTP 503 with Retry-After, since retrying later can succeed. */
export function modelUnavailable(cause: Error): GraphQLError {
  return new GraphQLError('The model is not available right now; retry later.', {
    originalError: cause,
    extensions: {
      code: ErrorCode.MODEL_UNAVAILABLE,
      http: { status: 503, headers: new HeaderMap([['retry-after', MODEL_RETRY_AFTER_SECONDS]]) },
    },
  });
}

/**
 * The request ran out of time and its work was stopped (request-scope.ts). HTTP 504, as for a
 * gateway that gave up: the same request may fit a less busy moment, a smaller one will.
 */
export function deadlineExceeded(cause: Error): GraphQLError {
  return new GraphQLError(cause.message, {
    originalError: cause,
    extensions: { code: ErrorCode.DEADLINE_EXCEEDED, http: { status: 504 } },
  });
}

/**
 * The client went away and the request's work was stopped. Nobody reads this response; its status
 * (499, nginx's "client closed request") is for the log line.
 */
export function requestCancelled(cause: Error): GraphQLError {
  return new GraphQLError(cause.message, {
    originalError: cause,
    extensions: { code: ErrorCode.REQUEST_CANCELLED, http: { status: 499 } },
  });
}

/** Duck-typed rather than `instanceof`: the engine and loader classes may be bundled twice. */
function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

export function isModelUnavailable(error: unknown): error is Error {
  return codeOf(error) === ErrorCode.MODEL_UNAVAILABLE;
}

/** The request's deadline passed or its client left: its work was stopped on purpose. */
export function isRequestAborted(error: unknown): error is Error {
  const code = codeOf(error);
  return error instanceof Error && (code === ErrorCode.DEADLINE_EXCEEDED || code === ErrorCode.REQUEST_CANCELLED);
}

/**
 * A message about one input, naming it as the client did: a budget refusal (WorkBudgetError) has no
 * subject of its own, so it gets `subject` ("inputs[3]", or an alias) in front.
 */
export function inputErrorMessage(error: Error, subject: string): string {
  return error.name === 'WorkBudgetError' ? `${subject} ${error.message}` : error.message;
}

export function isEngineInputError(error: unknown): error is Error & { field?: string } {
  return error instanceof Error && codeOf(error) === ErrorCode.BAD_USER_INPUT;
}

/**
 * Maps an engine or loader error to the GraphQL error the client sees. Anything unexpected
 * becomes INTERNAL_SERVER_ERROR, whose message `formatError` masks in production.
 */
export function toGraphQLError(error: unknown, argumentPrefix = '', subject = 'input'): GraphQLError {
  if (error instanceof GraphQLError) return error;
  if (isModelUnavailable(error)) return modelUnavailable(error);
  if (isRequestAborted(error)) {
    return codeOf(error) === ErrorCode.DEADLINE_EXCEEDED ? deadlineExceeded(error) : requestCancelled(error);
  }
  if (isEngineInputError(error)) {
    const argument = argumentPrefix + (error.field ?? 'input');
    return badUserInput(inputErrorMessage(error, subject), argument);
  }
  const cause = error instanceof Error ? error : new Error(String(error));
  // HTTP 500: the server failed, not the request (Apollo would answer 200 with a field error).
  return new GraphQLError(cause.message, {
    originalError: cause,
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, http: { status: 500 } },
  });
}

/** What a client sees of an internal error (the log has the rest). */
export const INTERNAL_ERROR_MESSAGE = 'Internal server error';
const MASKED_MESSAGE = INTERNAL_ERROR_MESSAGE;

/** Codes whose messages are written for clients; everything else is masked in production. */
const PUBLIC_CODES = new Set<string>([
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.MODEL_UNAVAILABLE,
  ErrorCode.BATCH_TOO_LARGE,
  ErrorCode.PAYLOAD_TOO_LARGE,
  ErrorCode.BAD_REQUEST,
  ErrorCode.DEADLINE_EXCEEDED,
  ErrorCode.REQUEST_CANCELLED,
  // Apollo's own request-level codes: their messages describe the query, not the server.
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

/** graphql-js's message when variable coercion gives up after 50 errors (no code, no status). */
const VARIABLE_ERROR_LIMIT = /^Too many errors processing variables, error limit reached\./;

/**
 * The code of an error raised about the request but without a code of its own, so that it is
 * reported as the client's fault (with its message, which describes the request) rather than
 * masked as internal: Apollo's 4xx errors without a code (e.g. "provided sha does not match
 * query" for a persisted query) are BAD_REQUEST; graphql-js's variable error limit (a list of
 * thousands of bad inputs) is BAD_USER_INPUT. Null for every other error.
 */
export function uncodedClientErrorCode(error: unknown): ErrorCode | null {
  if (!(error instanceof GraphQLError) || error.originalError) return null;
  const code = error.extensions?.code;
  if (code !== undefined && code !== ErrorCode.INTERNAL_SERVER_ERROR) return null;
  const status = (error.extensions?.http as { status?: number } | undefined)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) return ErrorCode.BAD_REQUEST;
  if (VARIABLE_ERROR_LIMIT.test(error.message)) return ErrorCode.BAD_USER_INPUT;
  return null;
}

/** Is this a code whose message is written for clients (not masked)? */
export function isPublicCode(code: unknown): boolean {
  return typeof code === 'string' && PUBLIC_CODES.has(code);
}

/**
 * Apollo's `formatError`. With masking on, an error without a public code keeps only the masked
 * message and INTERNAL_SERVER_ERROR: no stack, no file paths, no driver messages. The original
 * is logged, with the request id, by the request-log plugin (request-log.ts), so the operator
 * still sees it.
 */
export function createFormatError(options: { maskErrors: boolean }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const clientCode = uncodedClientErrorCode(error);
    if (clientCode) return { message: formatted.message, extensions: { code: clientCode } };
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && PUBLIC_CODES.has(code)) {
      if (!options.maskErrors) return formatted;
      // Apollo adds a stack trace only when includeStacktraceInErrorResponses is on; be explicit.
      const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    if (!options.maskErrors) return formatted;
    return {
      message: MASKED_MESSAGE,
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
