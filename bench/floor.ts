/**
 * The floor: onnxruntime's `session.run` alone, batch 1, on exactly the windows the engine feeds
 * (cut by the engine's own tokenizer and windowing code), with the engine's session options. Input
 * tensors are built once up front, so a sample is nothing but native inference.
 */
import * as ort from 'onnxruntime-node';
import { sessionOptions, windowFeeds } from '../src/model/onnx-model';
import type { Window } from '../src/model/windows';

/** Windows of one input as the engine cuts them with default options (the engine's own function). */
export { defaultWindows as engineWindows } from '../src/model/default-windows';

export class Floor {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** Bytes a session may use in place (ORT format): they must live as long as it. */
    private readonly bytes?: Uint8Array,
  ) {}

  /**
   * The engine's own session options, so the only difference from the engine is our code;
   * `preOptimized` for a `model optimize` graph, as the loader creates it; `overrides` for variants
   * the engine does not use.
   */
  static async create(
    model: string | Uint8Array,
    threads: number,
    preOptimized = false,
    overrides: ort.InferenceSession.SessionOptions = {},
  ): Promise<Floor> {
    const options = { ...sessionOptions(threads, preOptimized), ...overrides };
    // Two calls, not one on a union: create's overloads take a path or bytes, not either.
    return typeof model === 'string'
      ? new Floor(await ort.InferenceSession.create(model, options))
      : new Floor(await ort.InferenceSession.create(model, options), model);
  }

  /** Prebuilt feeds for these windows; pass the result to `run`. */
  feeds(windows: readonly Window[]): Array<Record<string, ort.Tensor>> {
    return windows.map((w) => windowFeeds(ort.Tensor, this.session.inputNames, w));
  }

  async run(feeds: ReadonlyArray<Record<string, ort.Tensor>>): Promise<void> {
    for (const f of feeds) await this.session.run(f, ['start_logits', 'end_logits']);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
