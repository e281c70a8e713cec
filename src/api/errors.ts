/**
 * The API's errors, raised and mapped with its one table of codes (ERROR_TABLE, error-table.ts):
 * every `extensions.code` a client can see, its HTTP status, and which errors of the lower layers
 * (engine, loader, request scope) it answers. Nothing else in the code maps an error to a code or a
 * status; docs/operations.md's "Error codes" table is checked against the table
 * (test/docs/docs-match-code.test.ts). Apollo reads `extensions.http` from resolver errors and
 * removes it from the response.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { HeaderMap } from '@apollo/server';
import { ERROR_TABLE, ErrorCode, statusOf, type ErrorRow } from './error-table';
import { withoutQuotedValues } from './value-free-messages';

export { ERROR_TABLE, ErrorCode, statusOf };

/** A lower-layer error's `code` → the API code that answers it (from ERROR_TABLE's `from`). */
const CODE_OF_LOWER_LAYER_ERROR: ReadonlyMap<string, ErrorCode> = new Map(
  Object.entries(ERROR_TABLE as Record<string, ErrorRow>).flatMap(([code, row]) =>
    (row.from ?? []).map((from) => [from, code as ErrorCode] as const),
  ),
);

/** A request rejected before it reaches Apollo (the body, the method, the transport); rendered as a GraphQL error response. */
export class HttpRequestError extends Error {
  override readonly name = 'HttpRequestError';
  readonly status: number;
  constructor(
    message: string,
    readonly code: ErrorCode,
    /** Only where HTTP needs another status than the code's (e.g. 406 for an unacceptable `Accept`). */
    status?: number,
  ) {
    super(message);
    this.status = status ?? statusOf(code);
  }
}

/** The abort reason when a request's deadline passes (request-scope.ts). */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
  readonly code = 'DEADLINE_EXCEEDED' as const;
  constructor(readonly timeLimitMs: number) {
    super(
      `The request did not finish within its time limit of ${timeLimitMs} ms and was stopped. ` +
        'Send fewer or shorter inputs per request.',
    );
  }
}

/** The abort reason when the client went away before its response (request-scope.ts). */
export class RequestCancelledError extends Error {
  override readonly name = 'RequestCancelledError';
  readonly code = 'REQUEST_CANCELLED' as const;
  constructor() {
    super('The client closed the connection before the response; the request was stopped.');
  }
}

/**
 * An argument is out of range. HTTP 400, like Apollo's own variable-coercion errors: the client
 * must change the request, retrying it unchanged cannot help.
 */
export function badUserInput(message: string, argument: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: ErrorCode.BAD_USER_INPUT, argument, http: { status: statusOf('BAD_USER_INPUT') } },
  });
}

/**
 * A field (or an `answerMany` input) whose answers could be larger than what is left of the
 * request's response budget: refused before any work, HTTP 422 when nothing else succeeded.
 */
export function responseTooLarge(message: string, argument: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: ErrorCode.RESPONSE_TOO_LARGE, argument, http: { status: statusOf('RESPONSE_TOO_LARGE') } },
  });
}

/** The model cannot be loaded now: HTTP 503 with Retry-After, since retrying later can succeed. */
export function modelUnavailable(cause: Error): GraphQLError {
  return new GraphQLError('The model is not available right now; retry later.', {
    originalError: cause,
    extensions: {
      code: ErrorCode.MODEL_UNAVAILABLE,
      http: {
        status: statusOf('MODEL_UNAVAILABLE'),
        headers: new HeaderMap([['retry-after', String(ERROR_TABLE.MODEL_UNAVAILABLE.retryAfterSeconds)]]),
      },
    },
  });
}

/**
 * The GraphQL error of `code` for `cause`, with the code's status. DEADLINE_EXCEEDED is a 504, as
 * for a gateway that gave up: the same request may fit a less busy moment, a smaller one will.
 */
function coded(code: ErrorCode, cause: Error): GraphQLError {
  return new GraphQLError(cause.message, {
    originalError: cause,
    extensions: { code, http: { status: statusOf(code) } },
  });
}

/** Duck-typed rather than `instanceof`: the engine and loader classes may be bundled twice. */
function ownCodeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

/** The API code ERROR_TABLE gives a lower-layer error (by its own `code`), or undefined for an unknown one. */
export function apiCodeOf(error: unknown): ErrorCode | undefined {
  const own = ownCodeOf(error);
  return error instanceof Error && typeof own === 'string' ? CODE_OF_LOWER_LAYER_ERROR.get(own) : undefined;
}

export function isModelUnavailable(error: unknown): error is Error {
  return apiCodeOf(error) === ErrorCode.MODEL_UNAVAILABLE;
}

/** The request's deadline passed or its client left: its work was stopped on purpose. */
export function isRequestAborted(error: unknown): error is Error {
  const code = apiCodeOf(error);
  return code === ErrorCode.DEADLINE_EXCEEDED || code === ErrorCode.REQUEST_CANCELLED;
}

/** An engine error about one input (QAInputError, WorkBudgetError): the client's to fix. */
export function isEngineInputError(error: unknown): error is Error & { field?: string } {
  return apiCodeOf(error) === ErrorCode.BAD_USER_INPUT;
}

/** An error the model raised while running one input's windows (InferenceError): masked, logged. */
export function isInferenceError(error: unknown): error is Error {
  return apiCodeOf(error) === ErrorCode.INTERNAL_SERVER_ERROR;
}

/**
 * A message about one input, naming it as the client did: a budget refusal (WorkBudgetError) has no
 * subject of its own, so it gets `subject` ("inputs[3]", or an alias) in front.
 */
export function inputErrorMessage(error: Error, subject: string): string {
  return ownCodeOf(error) === 'OVER_BUDGET' ? `${subject} ${error.message}` : error.message;
}

/**
 * Maps an engine or loader error to the GraphQL error the client sees. Anything unexpected
 * becomes INTERNAL_SERVER_ERROR, whose message `formatError` masks in production.
 */
export function toGraphQLError(error: unknown, argumentPrefix = '', subject = 'input'): GraphQLError {
  if (error instanceof GraphQLError) return error;
  const code = apiCodeOf(error);
  if (code === ErrorCode.MODEL_UNAVAILABLE) return modelUnavailable(error as Error);
  if (code === ErrorCode.DEADLINE_EXCEEDED || code === ErrorCode.REQUEST_CANCELLED) return coded(code, error as Error);
  if (isEngineInputError(error)) {
    const argument = argumentPrefix + (error.field ?? 'input');
    return badUserInput(inputErrorMessage(error, subject), argument);
  }
  const cause = error instanceof Error ? error : new Error(String(error));
  // HTTP 500: the server failed, not the request (Apollo would answer 200 with a field error).
  return coded(ErrorCode.INTERNAL_SERVER_ERROR, cause);
}

/** What a client sees of an internal error (the log has the rest). */
export const INTERNAL_ERROR_MESSAGE = 'Internal server error';

/** Codes whose messages are written for clients (ERROR_TABLE's unmasked ones); everything else is masked in production. */
const PUBLIC_CODES: ReadonlySet<string> = new Set(
  Object.entries(ERROR_TABLE as Record<string, ErrorRow>)
    .filter(([, row]) => !row.masked)
    .map(([code]) => code),
);

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
export function createFormatError(options: {
  maskErrors: boolean;
  /** The schema's names (value-free-messages.ts). */ schemaNames?: ReadonlySet<string>;
}) {
  const schemaNames = options.schemaNames ?? new Set<string>();
  return (unredacted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    // graphql-js quotes the values it refuses (users' questions and contexts): never sent.
    const formatted = { ...unredacted, message: withoutQuotedValues(unredacted.message, schemaNames) };
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
      message: INTERNAL_ERROR_MESSAGE,
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
