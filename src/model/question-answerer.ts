/**
 * The QA engine's facade: tokenize → cut windows → run each window → search spans → rank answers.
 * Each step lives in its own module; this one only sequences them and owns the loaded resources.
 */
import { performance } from 'node:perf_hooks';
import type { AnswerManyOptions, QAEngine } from './engine';
import { FairScheduler } from './fair-scheduler';
import { InferenceError, QAInputError } from './errors';
import { maxSequencePositions, recognizeConfig } from './model-family';
import { OnnxQAModel, type WindowLogits } from './onnx-model';
import { DEFAULT_MAX_POSITIONS, resolveOptions } from './options';
import { defaultWindows } from './default-windows';
import { rankAnswers, selectSpans, spanToCharRange, type ScoredRange } from './span-search';
import { QATokenizer, type EncodedText } from './tokenizer';
import { markPhase } from '../support/phase-marks';
import type { Answer, ModelDescription, QAInput, QAOptions } from './types';
import { iterateWindows, planWindows, type Window, type WindowPlan } from './windows';

export interface QuestionAnswererSource {
  /** The ONNX model: a file path, or its bytes. */
  model: string | Uint8Array;
  /** The contents of a Hugging Face `tokenizer.json`. */
  tokenizerJson: string;
  /** The parsed `config.json`, when there is one (max_position_embeddings, model_type). */
  config?: Record<string, unknown>;
  /** onnxruntime intra-op threads; defaults to the cores this process may use. */
  intraOpNumThreads?: number;
  /** The graph was saved by onnxruntime's offline optimizer (`model optimize`): do not optimize it again. */
  preOptimized?: boolean;
  /**
   * `tokenizerJson` already parsed (by the loader, while the model downloaded), and what that took;
   * it must be the parse of this very `tokenizerJson`.
   */
  parsedTokenizer?: { tokenizer: QATokenizer; ms: number };
}

/** An input made ready for the model: options resolved, texts encoded, its windows counted. */
interface PreparedInput {
  context: string;
  options: QAOptions;
  questionIds: number[];
  contextTokens: EncodedText;
  plan: WindowPlan;
}

export class QuestionAnswerer implements QAEngine {
  private runCount = 0;
  /** One run at a time, requests taking turns (see fair-scheduler.ts). */
  private readonly scheduler = new FairScheduler<Window, WindowLogits>((window) => this.runWindow(window));

  private constructor(
    private readonly tokenizer: QATokenizer,
    private readonly model: OnnxQAModel,
    readonly description: ModelDescription,
    /** What loading cost, for the model information the API reports. */
    readonly loadTimings: { sessionCreateMs: number; tokenizerMs: number },
  ) {}

  /** Loads the tokenizer and creates the onnxruntime session. */
  static async create(source: QuestionAnswererSource): Promise<QuestionAnswerer> {
    // A model the engine cannot serve is refused before its session is created (model-family.ts).
    const configFamily = recognizeConfig(source.config);
    const t0 = performance.now();
    const tokenizer = source.parsedTokenizer?.tokenizer ?? QATokenizer.fromJson(source.tokenizerJson);
    const t1 = performance.now();
    const tokenizerMs = source.parsedTokenizer?.ms ?? t1 - t0;
    const model = await OnnxQAModel.create(source.model, {
      intraOpNumThreads: source.intraOpNumThreads,
      preOptimized: source.preOptimized,
    });
    const t2 = performance.now();
    // Whole positions only (the loader refuses anything else in config.json; callers may not use
    // it), less RoBERTa-style position ids' padding offset (model-family.ts).
    const maxPositions = maxSequencePositions(source.config) ?? DEFAULT_MAX_POSITIONS;
    try {
      await model.probe(await probeWindow(tokenizer, maxPositions));
    } catch (error) {
      await model.dispose().catch(() => undefined);
      throw error;
    }
    const description: ModelDescription = {
      inputNames: model.inputNames,
      outputNames: model.outputNames,
      usesTokenTypeIds: model.usesTokenTypeIds,
      maxPositionEmbeddings: maxPositions,
      family: { ...configFamily, tokenizer: tokenizer.family },
    };
    return new QuestionAnswerer(tokenizer, model, description, { tokenizerMs, sessionCreateMs: t2 - t1 });
  }

  async answer(input: QAInput): Promise<Answer[]> {
    const [result] = await this.answerMany([input]);
    if (result instanceof Error) throw result;
    return result;
  }

  async answerMany(inputs: readonly QAInput[], options: AnswerManyOptions = {}): Promise<Array<Answer[] | Error>> {
    const { signal } = options;
    signal?.throwIfAborted();
    const encodings = new Map<string, Promise<EncodedText>>();
    // Many questions about one context (a common batch) tokenize that context once.
    const encode = (text: string) => {
      let encoded = encodings.get(text);
      if (!encoded) encodings.set(text, (encoded = this.tokenizer.encode(text)));
      return encoded;
    };
    const prepared = await Promise.all(
      inputs.map((input) => this.prepare(input, encode).catch((error: unknown) => toInputError(error))),
    );
    markPhase('prepared');
    signal?.throwIfAborted();
    // Every input is charged before any window runs, in input order: what does not fit is refused
    // without costing anything, and the windows that do run are never more than the budget.
    const charged = prepared.map((item) => {
      if (item instanceof Error || !options.budget) return item;
      try {
        options.budget.charge(item.plan.count, item.plan.tokens);
        return item;
      } catch (error) {
        return toInputError(error);
      }
    });

    // Windows run one after another, cheapest input first (fewest windows; input order among
    // equals), taking turns with other calls (fair-scheduler.ts): when the call is stopped, as many
    // inputs as possible have finished, and they keep their answers. An identical window (same
    // question, context and geometry asked twice) runs once.
    const lane = {};
    const runs = new Map<string, Promise<WindowLogits>>();
    const results: Array<Answer[] | Error> = new Array(charged.length);
    const cost = (item: PreparedInput | Error) => (item instanceof Error ? 0 : item.plan.count);
    const order = charged.map((_, i) => i).sort((a, b) => cost(charged[a]!) - cost(charged[b]!));
    for (const i of order) {
      const item = charged[i]!;
      if (item instanceof Error) {
        results[i] = item;
        continue;
      }
      if (signal?.aborted) {
        results[i] = stopReason(signal);
        continue;
      }
      const decoded: DecodedWindow[] = [];
      try {
        // Built one at a time and dropped once decoded: only their logits' spans are kept.
        for (const window of iterateWindows(
          item.questionIds,
          item.contextTokens.ids,
          this.tokenizer.layout,
          item.options,
        )) {
          const key = `${window.contextOffset}:${window.inputIds.join(',')}`;
          let run = runs.get(key);
          if (!run) runs.set(key, (run = this.scheduler.submit(lane, window, signal)));
          decoded.push(decodeWindow(item, window, await run, this.tokenizer.layout.clsId));
        }
      } catch (error) {
        // A stopped call drops its queued windows; the inputs not finished get the stop's reason.
        // onnxruntime failing on one of this input's windows fails this input only.
        if (signal?.aborted) {
          results[i] = stopReason(signal);
          continue;
        }
        if (error instanceof InferenceError) {
          results[i] = error;
          continue;
        }
        throw error;
      }
      results[i] = rankAnswers(item.context, decoded, item.options.topK, item.options.handleImpossibleAnswer);
    }
    return results;
  }

  /** Windows this engine has run since it was created (what a request's work actually cost). */
  get windowsRun(): number {
    return this.runCount;
  }

  /** Windows waiting for their turn, all requests together. */
  get windowsQueued(): number {
    return this.scheduler.queued;
  }

  private async runWindow(window: Window): Promise<WindowLogits> {
    this.runCount += 1;
    markPhase('window-turn');
    return this.model.run(window);
  }

  private async prepare(input: QAInput, encode: (text: string) => Promise<EncodedText>): Promise<PreparedInput> {
    const { question, context } = input ?? ({} as QAInput);
    if (typeof question !== 'string' || question.length === 0) {
      throw new QAInputError('question must be a non-empty string', 'question');
    }
    if (typeof context !== 'string' || context.length === 0) {
      throw new QAInputError('context must be a non-empty string', 'context');
    }
    const options = resolveOptions(input.options, {
      maxPositions: this.description.maxPositionEmbeddings,
      minSeqLength: this.tokenizer.layout.addedCount + 2,
    });
    const [questionTokens, contextTokens] = await Promise.all([encode(question), encode(context)]);
    const plan = planWindows(questionTokens.ids.length, contextTokens.ids.length, this.tokenizer.layout, options);
    return { context, options, questionIds: questionTokens.ids, contextTokens, plan };
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

type DecodedWindow = { ranges: ScoredRange[]; nullScore: number };

/** A short real window (question, context and special tokens as the tokenizer makes them), to probe the model with. */
async function probeWindow(tokenizer: QATokenizer, maxPositions: number): Promise<Window> {
  const [first] = await defaultWindows(tokenizer, 'What is this?', 'This is a short test of the model.', maxPositions);
  return first!;
}

/** Span search on one window's logits, as character ranges of the context (for rankAnswers). */
function decodeWindow(item: PreparedInput, window: Window, logits: WindowLogits, clsId: number | null): DecodedWindow {
  const { options, contextTokens } = item;
  const contextTo = window.contextOffset + (window.contextEnd - window.contextStart);
  const pMask = new Uint8Array(window.inputIds.length);
  for (let i = 0; i < pMask.length; i++) {
    const inContext = i >= window.contextOffset && i < contextTo;
    // The reference keeps every [CLS] id unmasked: its position scores "no answer".
    pMask[i] = inContext || window.inputIds[i] === clsId ? 0 : 1;
  }
  const selection = selectSpans(
    logits.start,
    logits.end,
    { pMask, contextFrom: window.contextOffset, contextTo },
    options.topK,
    options.maxAnswerLength,
  );
  const ranges: ScoredRange[] = selection.spans.map((span) => {
    const toContext = window.contextStart - window.contextOffset;
    const [start, end] = spanToCharRange(
      contextTokens,
      span.start + toContext,
      span.end + toContext,
      window.contextStart,
      window.contextEnd,
      options.alignToWords,
    );
    return { start, end, score: span.score };
  });
  return { ranges, nullScore: selection.nullScore };
}

/** Why a call was stopped, as an input's error (the request scope aborts with an Error). */
function stopReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
}

function toInputError(error: unknown): Error {
  if (error instanceof QAInputError) return error;
  throw error;
}
