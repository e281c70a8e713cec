// Placeholder signature so the loader and API can be written against it; the engine fills it in.
import type { QAEngine } from './engine';
import type { Answer, ModelDescription, QAInput } from './types';

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

export class QuestionAnswerer implements QAEngine {
  readonly description!: ModelDescription;
  readonly loadTimings!: { sessionCreateMs: number; tokenizerMs: number };
  static async create(_source: QuestionAnswererSource): Promise<QuestionAnswerer> {
    throw new Error('not implemented yet');
  }
  async answer(_input: QAInput): Promise<Answer[]> {
    throw new Error('not implemented yet');
  }
  async answerMany(_inputs: readonly QAInput[]): Promise<Array<Answer[] | Error>> {
    throw new Error('not implemented yet');
  }
  async dispose(): Promise<void> {}
}
