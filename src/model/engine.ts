import type { Answer, ModelDescription, QAInput } from './types';

/**
 * What the API layer needs from a QA engine. `QuestionAnswerer` implements it; tests wrap it
 * (for example to count batched calls) without touching ONNX.
 */
export interface QAEngine {
  readonly description: ModelDescription;
  /** Answers one input: at most `topK` answers, best first. Rejects with QAInputError on bad input. */
  answer(input: QAInput): Promise<Answer[]>;
  /**
   * Answers many inputs in one call, in order. A bad input yields its QAInputError in its own slot
   * (so one bad input does not fail the others); a failure of the model itself rejects the call.
   * The result for each input is exactly what `answer` returns for it alone.
   */
  answerMany(inputs: readonly QAInput[]): Promise<Array<Answer[] | Error>>;
}
