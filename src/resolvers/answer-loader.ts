/**
 * The per-request DataLoader in front of the engine: every `answer`, `answers` and
 * `answerMany` input of one HTTP request becomes one `answerMany` call.
 */
import DataLoader from 'dataloader';
import type { ModelProvider } from '../model/loading/types';
import type { AnswerManyOptions } from '../model/engine';
import type { Answer, QAInput } from '../model/types';
import { waitForModel } from './wait-for-model';
import { markPhase } from '../support/phase-marks';

/**
 * Dispatch after the current turn of the event loop rather than DataLoader's default (after
 * the current microtask queue, roughly). Apollo runs the operations of an HTTP batch
 * concurrently, each through its own chain of awaits (parse, validate, plugin hooks), so the
 * last operation may reach its resolvers several microtasks after the first one has; all of
 * that work is promise-based, so it has finished by the time `setImmediate` fires.
 */
export function afterCurrentTurn(dispatch: () => void): void {
  setImmediate(dispatch);
}

/** Identical inputs (same question, context and options) are answered once per request. */
export function inputKey(input: QAInput): string {
  const options = input.options ?? {};
  const sorted = Object.keys(options)
    .sort()
    .map((k) => [k, options[k as keyof typeof options]]);
  return JSON.stringify([input.question, input.context, sorted]);
}

/**
 * `work` carries the request's budget and stop signal to every engine call: each batch is charged
 * to the same budget, and a request that is stopped (deadline, client gone) stops waiting for the
 * model's load and drops its queued windows.
 */
export function createAnswerLoader(
  provider: ModelProvider,
  work: AnswerManyOptions = {},
): DataLoader<QAInput, Answer[], string> {
  return new DataLoader<QAInput, Answer[], string>(
    async (inputs) => {
      markPhase('engine-start');
      // A provider failure (ModelUnavailableError) rejects every load of the batch with it.
      const engine = await waitForModel(provider, work.signal);
      // Error slots (QAInputError, WorkBudgetError, an InferenceError on one of that input's windows)
      // reject only their own load: DataLoader's contract.
      const answers = await engine.answerMany(inputs, work);
      markPhase('engine-end');
      return answers;
    },
    { batchScheduleFn: afterCurrentTurn, cacheKeyFn: inputKey },
  );
}
