import type { Answer, ModelDescription, QAInput } from './types';
import type { WorkBudget } from './work-budget';

/** How one `answerMany` call may spend work, and when it must stop. */
export interface AnswerManyOptions {
  /**
   * The request's work budget, shared by every call for that request. Each input is charged its
   * windows (counted by arithmetic) before any window runs; one that does not fit gets a
   * WorkBudgetError in its slot and costs nothing.
   */
  budget?: WorkBudget;
  /**
   * Stops the call (the request's deadline passed, or its client went away): queued windows are
   * dropped and no further window starts. Inputs that finished before keep their answers; the
   * others get `signal.reason` in their slot. A call stopped before its windows start rejects with it.
   */
  signal?: AbortSignal;
}

/**
 * What the API layer needs from a QA engine. `QuestionAnswerer` implements it; tests wrap it
 * (for example to count batched calls) without touching ONNX.
 */
export interface QAEngine {
  readonly description: ModelDescription;
  /** Windows run since the engine was created: the work actually done, for tests and metrics. */
  readonly windowsRun?: number;
  /** Answers one input: at most `topK` answers, best first. Rejects with QAInputError on bad input. */
  answer(input: QAInput): Promise<Answer[]>;
  /**
   * Answers many inputs in one call, in order. A bad input yields its QAInputError in its own slot
   * (so one bad input does not fail the others), and so does an InferenceError when onnxruntime fails
   * on one of that input's windows, and the stop's reason for an input not finished when `signal`
   * aborts (finished inputs keep their answers); cheap inputs run first. The result for each input
   * is exactly what `answer` returns for it alone.
   */
  answerMany(inputs: readonly QAInput[], options?: AnswerManyOptions): Promise<Array<Answer[] | Error>>;
}
