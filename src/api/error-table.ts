/**
 * The API's one table of codes: every `extensions.code` a client can see, its HTTP status, and which
 * errors of the lower layers it answers (errors.ts raises and maps them). Data only, in a module of
 * its own, so that what the Lambda entry evaluates before the model download (the load's metrics)
 * reads the codes without evaluating graphql and Apollo, as errors.ts would.
 */
export interface ErrorRow {
  /** The HTTP status of a response that fails with this code (partial success aside). */
  readonly status: number;
  /** Its message is replaced by INTERNAL_ERROR_MESSAGE when errors are masked (production). */
  readonly masked?: true;
  /** The `code`s of lower-layer errors answered with it (found by `code`, not `instanceof`: a class may be bundled twice). */
  readonly from?: readonly string[];
  /** Sent by Apollo itself (with its own status), never raised here. */
  readonly apollo?: true;
  /** Seconds a client should wait before retrying (the `Retry-After` header). */
  readonly retryAfterSeconds?: number;
}

export const ERROR_TABLE = {
  // The request: fix it and resend.
  BAD_USER_INPUT: { status: 400, from: ['INVALID_INPUT', 'OVER_BUDGET'] }, // QAInputError, WorkBudgetError (src/model/errors.ts)
  BAD_REQUEST: { status: 400 },
  BATCH_TOO_LARGE: { status: 400 },
  PAYLOAD_TOO_LARGE: { status: 413 },
  // 422, not 413: 413 is about the request's content, and this request is well-formed and small; what
  // it asks for (its answers' bytes) is more than the response may carry.
  RESPONSE_TOO_LARGE: { status: 422 },
  // The moment: retry later, or send less per request.
  MODEL_UNAVAILABLE: { status: 503, retryAfterSeconds: 5, from: ['MODEL_UNAVAILABLE'] }, // ModelUnavailableError (src/model/loading/errors.ts); retrying later can succeed
  DEADLINE_EXCEEDED: { status: 504, from: ['DEADLINE_EXCEEDED'] }, // DeadlineExceededError (errors.ts)
  // 499, nginx's "client closed request": nobody reads the response, the status is for the log line.
  REQUEST_CANCELLED: { status: 499, from: ['REQUEST_CANCELLED'] }, // RequestCancelledError (errors.ts)
  // The server: anything unexpected, e.g. InferenceError (src/model/errors.ts).
  INTERNAL_SERVER_ERROR: { status: 500, masked: true, from: ['INFERENCE_FAILED'] },
  // Apollo's own request-level codes: their messages describe the query, not the server.
  GRAPHQL_PARSE_FAILED: { status: 400, apollo: true },
  GRAPHQL_VALIDATION_FAILED: { status: 400, apollo: true },
  OPERATION_RESOLUTION_FAILURE: { status: 400, apollo: true },
  // The automatic-persisted-query protocol's normal first step (Apollo sends 200).
  PERSISTED_QUERY_NOT_FOUND: { status: 200, apollo: true },
  PERSISTED_QUERY_NOT_SUPPORTED: { status: 200, apollo: true },
} as const satisfies Record<string, ErrorRow>;

type OwnCode = {
  [K in keyof typeof ERROR_TABLE]: (typeof ERROR_TABLE)[K] extends { apollo: true } ? never : K;
}[keyof typeof ERROR_TABLE];

/** The codes this API raises itself (ERROR_TABLE less Apollo's). */
export const ErrorCode = Object.freeze(
  Object.fromEntries(
    Object.entries(ERROR_TABLE as Record<string, ErrorRow>)
      .filter(([, row]) => !row.apollo)
      .map(([code]) => [code, code]),
  ),
) as { readonly [K in OwnCode]: K };
export type ErrorCode = OwnCode;

/** The HTTP status of a code of ERROR_TABLE. */
export function statusOf(code: keyof typeof ERROR_TABLE): number {
  return ERROR_TABLE[code].status;
}
