/**
 * The QA engine's facade: tokenize → cut windows → run each window → search spans → rank answers.
 * Each step lives in its own module; this one only sequences them and owns the loaded resources.
 */
import { performance } from 'node:perf_hooks';
import type { QAEngine } from './engine';
import { QAInputError } from './errors';
import { OnnxQAModel, type WindowLogits } from './onnx-model';
import { resolveOptions } from './options';
import { rankAnswers, selectSpans, spanToCharRange, type ScoredRange } from './span-search';
import { QATokenizer, type EncodedText } from './tokenizer';
import type { Answer, ModelDescription, QAInput, QAOptions } from './types';
import { cutWindows, type Window } from './windows';

export interface QuestionAnswererSource {
  /** The ONNX model: a file path, or its bytes. */
  model: string | Uint8Array;
  /** The contents of a Hugging Face `tokenizer.json`. */
  tokenizerJson: string;
  /** The parsed `config.json`, when there is one (max_position_embeddings, model_type). */
  config?: Record<string, unknown>;
  /** onnxruntime intra-op threads; defaults to the cores this process may use. */
  intraOpNumThreads?: number;
}

/** An input made ready for the model: options resolved, texts encoded, windows cut. */
interface PreparedInput {
  context: string;
  options: QAOptions;
  contextTokens: EncodedText;
  windows: Window[];
}

/** Position embeddings of DistilBERT and BERT; used when config.json does not say. */
const DEFAULT_MAX_POSITIONS = 512;

export class QuestionAnswerer implements QAEngine {
  private constructor(
    private readonly tokenizer: QATokenizer,
    private readonly model: OnnxQAModel,
    readonly description: ModelDescription,
    /** What loading cost, for the model information the API reports. */
    readonly loadTimings: { sessionCreateMs: number; tokenizerMs: number },
  ) {}

  /** Loads the tokenizer and creates the onnxruntime session. */
  static async create(source: QuestionAnswererSource): Promise<QuestionAnswerer> {
    const t0 = performance.now();
    const tokenizer = QATokenizer.fromJson(source.tokenizerJson);
    const t1 = performance.now();
    const model = await OnnxQAModel.create(source.model, { intraOpNumThreads: source.intraOpNumThreads });
    const t2 = performance.now();
    const configured = source.config?.max_position_embeddings;
    const description: ModelDescription = {
      inputNames: model.inputNames,
      outputNames: model.outputNames,
      usesTokenTypeIds: model.usesTokenTypeIds,
      maxPositionEmbeddings: typeof configured === 'number' && configured > 0 ? configured : DEFAULT_MAX_POSITIONS,
    };
    return new QuestionAnswerer(tokenizer, model, description, { tokenizerMs: t1 - t0, sessionCreateMs: t2 - t1 });
  }

  async answer(input: QAInput): Promise<Answer[]> {
    const [result] = await this.answerMany([input]);
    if (result instanceof Error) throw result;
    return result;
  }

  async answerMany(inputs: readonly QAInput[]): Promise<Array<Answer[] | Error>> {
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

    // Windows run one after another, in input order; an identical window (same question, context
    // and geometry asked twice) runs once.
    const runs = new Map<string, Promise<WindowLogits>>();
    const results: Array<Answer[] | Error> = [];
    for (const item of prepared) {
      if (item instanceof Error) {
        results.push(item);
        continue;
      }
      const logits: WindowLogits[] = [];
      for (const window of item.windows) {
        const key = `${window.contextOffset}:${window.inputIds.join(',')}`;
        let run = runs.get(key);
        if (!run) runs.set(key, (run = this.model.run(window)));
        logits.push(await run);
      }
      results.push(decodeAnswers(item, logits, this.tokenizer.layout.clsId));
    }
    return results;
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
    const windows = cutWindows(questionTokens.ids, contextTokens.ids, this.tokenizer.layout, options);
    return { context, options, contextTokens, windows };
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/** Span search on each window's logits, then the reference's cross-window ranking. */
function decodeAnswers(item: PreparedInput, logits: readonly WindowLogits[], clsId: number | null): Answer[] {
  const { options, contextTokens } = item;
  const windows = item.windows.map((window, w) => {
    const contextTo = window.contextOffset + (window.contextEnd - window.contextStart);
    const pMask = new Uint8Array(window.inputIds.length);
    for (let i = 0; i < pMask.length; i++) {
      const inContext = i >= window.contextOffset && i < contextTo;
      // The reference keeps every [CLS] id unmasked: its position scores "no answer".
      pMask[i] = inContext || window.inputIds[i] === clsId ? 0 : 1;
    }
    const selection = selectSpans(
      logits[w].start,
      logits[w].end,
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
  });
  return rankAnswers(item.context, windows, options.topK, options.handleImpossibleAnswer);
}

function toInputError(error: unknown): Error {
  if (error instanceof QAInputError) return error;
  throw error;
}
