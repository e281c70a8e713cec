/**
 * Errors the QA engine raises. Each carries a stable `code` so the API layer can map it to a
 * GraphQL error code without parsing messages.
 */

/** The caller's input or options cannot be answered as given (maps to BAD_USER_INPUT). */
export class QAInputError extends Error {
  override readonly name = 'QAInputError';
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
