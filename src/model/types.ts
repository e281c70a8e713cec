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

/** What config.json says the model is (model-family.ts). */
export interface ConfigFamily {
  /** `model_type` (roberta, xlm-roberta, deberta-v2, distilbert, bert…); null when config.json has none. */
  modelType: string | null;
  /** The first of `architectures`, e.g. RobertaForQuestionAnswering; null when it has none. */
  architecture: string | null;
}

/** What tokenizer.json says the tokenizer is (model-family.ts). */
export interface TokenizerFamily {
  /** `model.type`: BPE (RoBERTa's byte-level BPE included), Unigram (SentencePiece), WordPiece, WordLevel. */
  model: string;
  /** The post-processor that places the special tokens: TemplateProcessing, RobertaProcessing or BertProcessing. */
  postProcessor: string;
  /** One window as it is assembled, e.g. `<s> question </s> </s> context </s>`; `:1` marks token type id 1. */
  pair: string;
}

/** The model as recognised from its files. */
export interface ModelFamily extends ConfigFamily {
  tokenizer: TokenizerFamily;
}

/** What the ONNX model declares and what the engine needs to know about it. */
export interface ModelDescription {
  inputNames: readonly string[];
  outputNames: readonly string[];
  /** True when the model takes `token_type_ids` (BERT-style); DistilBERT does not. */
  usesTokenTypeIds: boolean;
  /**
   * Longest sequence the model's position embeddings accept (config.json max_position_embeddings,
   * less RoBERTa's padding offset: 512 for 514 positions).
   */
  maxPositionEmbeddings: number;
  /** What the model was recognised as; absent from engines made by hand. */
  family?: ModelFamily;
}
