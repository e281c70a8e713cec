/**
 * The engine's errors (its onnxruntime included). Each carries a stable `code` in the engine's own
 * words; the API layer alone decides what a client sees of it (src/api/errors.ts, ERROR_TABLE).
 */

/** Why an input cannot be answered as given: its options or text (INVALID_INPUT), or its cost (OVER_BUDGET). */
export type QAInputCode = 'INVALID_INPUT' | 'OVER_BUDGET';

/** The caller's input or options cannot be answered as given. */
export class QAInputError extends Error {
  override readonly name: string = 'QAInputError';
  readonly code: QAInputCode = 'INVALID_INPUT';
  constructor(
    message: string,
    /** The option or field the message is about, e.g. `docStride` or `question`. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The model failed while running (its message is for the log, not for clients). */
export class InferenceError extends Error {
  override readonly name = 'InferenceError';
  readonly code = 'INFERENCE_FAILED' as const;
}

/**
 * An input needs more model windows than its request has left (work-budget.ts). The caller's
 * problem: the same input in a request of its own, or split, may fit. The message has no subject,
 * so the API can prefix how the client named the input ("inputs[3] needs …").
 */
export class WorkBudgetError extends QAInputError {
  override readonly name = 'WorkBudgetError';
  override readonly code = 'OVER_BUDGET';
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

/**
 * onnxruntime itself could not be made ready: its native library does not load (a package built
 * without it, or for another architecture). Not the model's fault: the loader passes it on as it is
 * (not as an INVALID_MODEL load error), and like every load failure it is retried after a backoff.
 * `object` and `reason` match the loader's errors (src/model/loading/errors.ts), so logs and tests
 * read both alike.
 */
export class OnnxRuntimeUnavailableError extends Error {
  override readonly name = 'OnnxRuntimeUnavailableError';
  readonly reason = 'RUNTIME_UNAVAILABLE' as const;
  constructor(file: string, detail: string, options?: { cause?: unknown }) {
    super(`onnxruntime unavailable (${file}): ${detail}`, options);
    this.object = file;
  }
  /** The file at fault. */
  readonly object: string;
}

/**
 * The files make a model, but not one the engine can serve: a generative model, a tokenizer
 * without special tokens around a pair, a template it cannot assemble, a graph without the QA
 * logits (model-family.ts). Retrying will not change it. `object` names the file the fact was read
 * from and `reason` matches the loader's errors (src/model/loading/errors.ts), like
 * OnnxRuntimeUnavailableError; the loader passes it on as it is.
 */
export class UnsupportedModelError extends Error {
  override readonly name = 'UnsupportedModelError';
  readonly reason = 'UNSUPPORTED_MODEL' as const;
  constructor(
    /** Where it was found: config.json, tokenizer.json or the ONNX graph. */
    readonly object: string,
    /** What the model has. */
    readonly found: string,
    /** What the engine serves instead. */
    readonly expected: string,
  ) {
    super(`Unsupported model: ${object} has ${found}; expected ${expected}`);
  }
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
