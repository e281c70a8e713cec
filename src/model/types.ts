/**
 * Public types of the QA engine. Everything that crosses the engine's boundary is declared here,
 * apart from the implementation, so the GraphQL layer and the model loader depend on types only.
 */

/** Per-request knobs, named as in Hugging Face's QuestionAnsweringPipeline (v4.53), camel-cased. */
export interface QAOptions {
  /** How many answers to return, best first. Reference default 1. */
  topK: number;
  /** Longest answer, in tokens. Reference default 15. */
  maxAnswerLength: number;
  /** Tokens of context shared by two consecutive windows. Reference default 128. */
  docStride: number;
  /** Longest window fed to the model, special tokens and question included. Reference default 384. */
  maxSeqLength: number;
  /** Also return the empty answer ("no answer in this context"), scored by the [CLS] position. */
  handleImpossibleAnswer: boolean;
  /** Widen an answer to whole words (the reference's `align_to_words`). Reference default true. */
  alignToWords: boolean;
}

export interface QAInput {
  question: string;
  context: string;
  options?: Partial<QAOptions>;
}

/**
 * One answer. `start`/`end` are offsets into the context in UTF-16 code units (what
 * `String.prototype.slice` counts), end exclusive, so `context.slice(start, end) === text`.
 */
export interface Answer {
  text: string;
  score: number;
  start: number;
  end: number;
}

/** What the ONNX model declares and what the engine needs to know about it. */
export interface ModelDescription {
  inputNames: readonly string[];
  outputNames: readonly string[];
  /** True when the model takes `token_type_ids` (BERT-style); DistilBERT does not. */
  usesTokenTypeIds: boolean;
  /** Longest sequence the model's position embeddings accept (config.json max_position_embeddings). */
  maxPositionEmbeddings: number;
}
