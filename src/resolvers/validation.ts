/**
 * Argument checks done before anything reaches the engine. Each failure names the argument
 * (as the client wrote it, e.g. `inputs[3].question` or `options.docStride`) and the limit, so
 * a client can fix the request without reading the docs.
 */
import type { QAInput, QAOptions } from '../model/types';
import type { AnswerOptions } from '../generated/graphql';
import type { RequestLimits, TextUsage } from '../api/context';
import { badUserInput, responseTooLarge } from '../api/errors';
import type { ResponseBudget } from '../api/response-budget';
import type { OutputBound } from './output-bound';

/** Ranges of the options; the engine checks how they combine (e.g. docStride vs. window room). */
export const OPTION_RANGES = {
  maxAnswerLength: { min: 1, max: 512 },
  docStride: { min: 0, max: 511 },
  maxSeqLength: { min: 16, max: 512 },
} as const;

function checkRange(value: number, min: number, max: number, argument: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw badUserInput(`${argument} must be an integer from ${min} to ${max}, got ${value}.`, argument);
  }
}

/** Drops nulls (GraphQL's "not given") and checks each option's range. */
export function toEngineOptions(options: AnswerOptions | null | undefined, prefix: string): Partial<QAOptions> {
  const result: Partial<QAOptions> = {};
  if (!options) return result;
  for (const name of ['maxAnswerLength', 'docStride', 'maxSeqLength'] as const) {
    const value = options[name];
    if (value === null || value === undefined) continue;
    checkRange(value, OPTION_RANGES[name].min, OPTION_RANGES[name].max, `${prefix}options.${name}`);
    result[name] = value;
  }
  if (options.handleImpossibleAnswer != null) result.handleImpossibleAnswer = options.handleImpossibleAnswer;
  if (options.alignToWords != null) result.alignToWords = options.alignToWords;
  return result;
}

/** A text argument must hold more than whitespace and stay within `max` UTF-16 code units. */
function checkText(value: string, max: number, argument: string): void {
  if (value.trim() === '') throw badUserInput(`${argument} must not be empty.`, argument);
  if (value.length > max) {
    throw badUserInput(`${argument} is ${value.length} characters long; the limit is ${max}.`, argument);
  }
}

export interface RawInput {
  question: string;
  context: string;
  topK: number;
  options?: AnswerOptions | null;
}

/**
 * Checks one input and turns it into the engine's QAInput. `prefix` is how the client named
 * the input (`""` for top-level arguments, `inputs[3].` inside `answerMany`).
 */
export function validateInput(raw: RawInput, limits: RequestLimits, prefix = ''): QAInput {
  checkText(raw.question, limits.maxQuestionLength, `${prefix}question`);
  checkText(raw.context, limits.maxContextLength, `${prefix}context`);
  checkRange(raw.topK, 1, limits.maxTopK, `${prefix}topK`);
  const options = toEngineOptions(raw.options, prefix);
  return { question: raw.question, context: raw.context, options: { ...options, topK: raw.topK } };
}

/**
 * Counts an accepted input's question and context against the request-wide text budget (all
 * operations of an HTTP batch share it), which bounds the tokenizer's work for one HTTP request.
 * The model's work is bounded separately, in windows (src/model/work-budget.ts). Takes nothing
 * when the input does not fit.
 */
export function chargeText(usage: TextUsage, input: QAInput, limits: RequestLimits, prefix: string): void {
  const length = input.question.length + input.context.length;
  const next = usage.textLength + length;
  usage.inputs += 1;
  if (next > limits.maxRequestTextLength) {
    usage.refusals += 1;
    throw badUserInput(
      `This request's questions and contexts add up to more than ${limits.maxRequestTextLength} characters ` +
        `(${usage.textLength} before this input, which has ${length}); split it into several requests.`,
      `${prefix}context`,
    );
  }
  usage.textLength = next;
}

/**
 * Charges an answer field's (or `answerMany` input's) bound to the request's response budget, or
 * refuses it (RESPONSE_TOO_LARGE) naming what to change. `subject` names it as the client did (its
 * alias, or `inputs[3]`); `prefix` is its arguments' prefix.
 */
export function chargeOutput(
  budget: ResponseBudget,
  bound: OutputBound,
  topK: number,
  subject: string,
  prefix: string,
): void {
  if (budget.tryCharge(bound.bytes)) return;
  throw responseTooLarge(
    `${subject} could return up to ${bound.bytes} bytes (topK ${topK} × ${bound.textSelections} \`text\` selection(s) × ` +
      `a context of ${bound.contextBytes} bytes as JSON); this request's response may use ${budget.limit} bytes and has ` +
      `${budget.remaining} left. Lower topK, select \`text\` fewer times, send a shorter context, or split the request.`,
    `${prefix}topK`,
  );
}
