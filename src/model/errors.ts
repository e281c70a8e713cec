/**
 * Errors the QA engine raises. Each carries a stable `code` so the API layer can map it to a
 * GraphQL error code without parsing messages.
 */

/** The caller's input or options cannot be answered as given (maps to BAD_USER_INPUT). */
export class QAInputError extends Error {
  override readonly name: string = 'QAInputError';
  readonly code = 'BAD_USER_INPUT' as const;
  constructor(
    message: string,
    /** The option or field the message is about, e.g. `docStride` or `question`. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The model failed while running (maps to INTERNAL_SERVER_ERROR; the message is not shown to clients). */
export class InferenceError extends Error {
  override readonly name = 'InferenceError';
  readonly code = 'INFERENCE_FAILED' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * An input needs more model windows than its request has left (work-budget.ts). A client error
 * (BAD_USER_INPUT): the same input in a request of its own, or split, may fit. The message has no
 * subject, so the API can prefix how the client named the input ("inputs[3] needs …").
 */
export class WorkBudgetError extends QAInputError {
  override readonly name = 'WorkBudgetError';
  constructor(
    /** Windows this input needs. */
    readonly needed: number,
    /** Windows the request had left when this input was charged. */
    readonly remaining: number,
    /** The request's whole budget. */
    readonly limit: number,
  ) {
    super(
      `needs ${formatCount(needed)} model windows; this request may use ${formatCount(limit)}` +
        (remaining < limit ? ` and has ${formatCount(remaining)} left` : '') +
        '. Shorten the context or the question, lower docStride, or send it in a request of its own.',
      'context',
    );
  }
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
