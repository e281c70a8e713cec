/**
 * Cuts a (question, context) pair into model windows as Hugging Face's fast-tokenizer path does
 * (`truncation="only_second"`, `return_overflowing_tokens=True`, `stride=doc_stride`): the question
 * is never truncated, only the context is windowed, and consecutive windows share `docStride`
 * context tokens. Pure: token ids in, windows out.
 */
import { QAInputError } from './errors';
import type { PairLayout } from './special-tokens';

export interface Window {
  inputIds: number[];
  typeIds: number[];
  /** Position in `inputIds` of the window's first context token. */
  contextOffset: number;
  /** The context tokens this window holds: [contextStart, contextEnd) of the context encoding. */
  contextStart: number;
  contextEnd: number;
}

export interface WindowingOptions {
  maxSeqLength: number;
  docStride: number;
}

/**
 * Context tokens per window once the question and special tokens are in, and the step between
 * windows. Throws QAInputError when no window with this stride fits, where the reference fails
 * (and the Rust library would panic).
 */
export function windowGeometry(
  questionLength: number,
  contextLength: number,
  layout: PairLayout,
  { maxSeqLength, docStride }: WindowingOptions,
): { room: number; step: number } {
  const total = questionLength + contextLength + layout.addedCount;
  // Everything fits: one window, whatever the stride (the reference does not truncate then).
  if (total <= maxSeqLength) return { room: contextLength, step: Math.max(contextLength, 1) };
  const room = maxSeqLength - questionLength - layout.addedCount;
  if (room <= 0) {
    throw new QAInputError(
      `The question is ${questionLength} tokens long, which leaves no room for the context within ` +
        `maxSeqLength ${maxSeqLength} (${layout.addedCount} special tokens included). Shorten the question ` +
        `or raise maxSeqLength.`,
      'question',
    );
  }
  if (room <= docStride) {
    throw new QAInputError(
      `The question is ${questionLength} tokens long; with maxSeqLength ${maxSeqLength} that leaves ${room} ` +
        `context tokens per window, which must be more than docStride (${docStride}). Shorten the question, ` +
        `lower docStride below ${room}, or raise maxSeqLength.`,
      'docStride',
    );
  }
  return { room, step: room - docStride };
}

/**
 * What windowing one pair will cost, computed by arithmetic from the token counts alone, before
 * any window is built: the number of model runs and the tokens they feed the model. This is what
 * a request's work budget is charged in (work-budget.ts). `cutWindows` produces exactly `count`
 * windows of `tokens` tokens in all (windows.test.ts checks the two against each other).
 */
export interface WindowPlan {
  /** Model windows (one ONNX run each). */
  count: number;
  /** Tokens of all windows together, special tokens and the repeated question included. */
  tokens: number;
  room: number;
  step: number;
}

export function planWindows(
  questionLength: number,
  contextLength: number,
  layout: PairLayout,
  options: WindowingOptions,
): WindowPlan {
  const { room, step } = windowGeometry(questionLength, contextLength, layout, options);
  // Window k covers [k·step, min(k·step + room, n)); the last one is the first whose end reaches n.
  const count = contextLength <= room ? 1 : 1 + Math.ceil((contextLength - room) / step);
  const lastContext = contextLength - (count - 1) * step;
  const contextTokens = (count - 1) * room + Math.max(lastContext, 0);
  return { count, tokens: count * (questionLength + layout.addedCount) + contextTokens, room, step };
}

/**
 * The windows of one pair (at least one, even for an empty context), built one at a time as they
 * are consumed: a request's windows are never all in memory at once.
 */
export function* iterateWindows(
  questionIds: readonly number[],
  contextIds: readonly number[],
  layout: PairLayout,
  options: WindowingOptions,
): Generator<Window, void, undefined> {
  const { room, step } = windowGeometry(questionIds.length, contextIds.length, layout, options);
  for (let start = 0; ; start += step) {
    const end = Math.min(start + room, contextIds.length);
    yield assemble(questionIds, contextIds, start, end, layout);
    if (end >= contextIds.length) return;
  }
}

/** Every window of one pair, as an array (tests and the bench's onnxruntime floor). */
export function cutWindows(
  questionIds: readonly number[],
  contextIds: readonly number[],
  layout: PairLayout,
  options: WindowingOptions,
): Window[] {
  return [...iterateWindows(questionIds, contextIds, layout, options)];
}

function assemble(
  questionIds: readonly number[],
  contextIds: readonly number[],
  contextStart: number,
  contextEnd: number,
  layout: PairLayout,
): Window {
  const inputIds: number[] = [];
  const typeIds: number[] = [];
  const push = (id: number, typeId: number) => {
    inputIds.push(id);
    typeIds.push(typeId);
  };
  for (const p of layout.before) push(p.id, p.typeId);
  for (const id of questionIds) push(id, layout.questionTypeId);
  for (const p of layout.between) push(p.id, p.typeId);
  const contextOffset = inputIds.length;
  for (let i = contextStart; i < contextEnd; i++) push(contextIds[i], layout.contextTypeId);
  for (const p of layout.after) push(p.id, p.typeId);
  return { inputIds, typeIds, contextOffset, contextStart, contextEnd };
}
