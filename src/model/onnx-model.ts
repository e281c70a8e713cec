/**
 * The ONNX side of the engine: one onnxruntime session, fed by the input names the model declares.
 * Each window runs as its own call, unpadded: on CPU padding windows into a batch does not lower the
 * per-sequence cost, and with an int8 model it changes the answers (dynamic quantization scales
 * activations over the whole input tensor, so a window's logits would depend on its batch mates).
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type * as ort from 'onnxruntime-node';
import { InferenceError } from './errors';
import { checkQuestionAnsweringGraph } from './model-family';
import { graphProblem, logitsProblem, type ValueInfo } from './onnx-contract';
import { loadOnnxRuntime, type OnnxRuntime } from './onnxruntime/load';
import { lambdaMemoryMb } from '../support/env';
import { defaultIntraOpThreads } from './threads';
import { markPhase } from '../support/phase-marks';

export interface OnnxModelOptions {
  /** Threads for one run; defaults to the CPU this process really gets (see threads.ts). */
  intraOpNumThreads?: number;
  /** The file is onnxruntime's own optimized graph (`model optimize`): see sessionOptions. */
  preOptimized?: boolean;
}

export interface WindowInput {
  inputIds: readonly number[];
  typeIds: readonly number[];
}

export interface WindowLogits {
  start: Float32Array;
  end: Float32Array;
}

/**
 * The options of every engine session: one window at a time, on `intraOpNumThreads` threads. A graph
 * `model optimize` saved already holds every fusion the `extended` level makes, so its session skips
 * graph optimization ('disabled'): that is the cold-start saving. The levels above 'extended' add
 * layout transforms for convolutions (none here), CPU-specific, so `model optimize` does not save them.
 */
export function sessionOptions(intraOpNumThreads: number, preOptimized = false): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: preOptimized ? 'disabled' : 'all',
  };
}

/** ORT-format bytes (the flatbuffer file identifier "ORTM" at offset 4), as `model optimize` writes them. */
export function isOrtFormat(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[4] === 0x4f && bytes[5] === 0x52 && bytes[6] === 0x54 && bytes[7] === 0x4d;
}

/**
 * For ORT-format bytes: onnxruntime uses them in place, weights included, instead of parsing and
 * copying (a faster session creation, the same logits and run time, a lower peak RSS;
 * docs/decisions/2026-12-06-optimized-graph-by-default.md). The bytes must then outlive the
 * session: OnnxQAModel keeps them.
 */
export const ORT_BYTES_IN_PLACE = {
  session: { use_ort_model_bytes_directly: '1', use_ort_model_bytes_for_initializers: '1' },
};

/** The int64 input tensors of one window (batch 1, unpadded), for the inputs the model declares. */
export function windowFeeds(
  Tensor: OnnxRuntime['Tensor'],
  inputNames: readonly string[],
  window: WindowInput,
): Record<string, ort.Tensor> {
  const length = window.inputIds.length;
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of inputNames) {
    const data = new BigInt64Array(length);
    if (name === 'input_ids') for (let i = 0; i < length; i++) data[i] = BigInt(window.inputIds[i]);
    else if (name === 'attention_mask') data.fill(1n);
    else if (name === 'token_type_ids') for (let i = 0; i < length; i++) data[i] = BigInt(window.typeIds[i]);
    else throw new InferenceError(`The ONNX model declares an input the engine cannot feed: ${name}`);
    feeds[name] = new Tensor('int64', data, [1, length]);
  }
  return feeds;
}

export class OnnxQAModel {
  /** Runs are chained: concurrent runs would only split the same cores and slow each other. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly runtime: OnnxRuntime,
    private readonly session: ort.InferenceSession,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
    /** ORT-format bytes the session reads in place: referenced here so that they live as long as it. */
    private readonly sessionBytes: Uint8Array | undefined,
  ) {}

  static async create(model: string | Uint8Array, options: OnnxModelOptions = {}): Promise<OnnxQAModel> {
    // Loaded here, not imported: the Lambda entry starts the model download first (load.ts).
    const runtime = loadOnnxRuntime();
    const threads =
      options.intraOpNumThreads ??
      defaultIntraOpThreads({
        cores: availableParallelism(),
        lambdaMemoryMb: lambdaMemoryMb(),
      });
    // An ORT-format file is read here, to be used in place like bytes (from a path onnxruntime would
    // parse and copy it: slower than the standard file).
    if (typeof model === 'string' && /\.ort$/i.test(model)) model = await readFile(model);
    const base = sessionOptions(threads, options.preOptimized);
    // Two calls, not one on a union: create's overloads take a path or bytes, not either. A path is
    // read into memory onnxruntime owns; ORT-format bytes are used in place, from a 16-byte-aligned
    // start (the weights are read as floats where they lie).
    let inPlace: Uint8Array | undefined;
    if (typeof model !== 'string' && isOrtFormat(model))
      inPlace = model.byteOffset % 16 === 0 ? model : new Uint8Array(model);
    const session =
      typeof model === 'string'
        ? await runtime.InferenceSession.create(model, base)
        : await runtime.InferenceSession.create(
            inPlace ?? model,
            inPlace ? { ...base, extra: ORT_BYTES_IN_PLACE } : base,
          );
    // Names first (another kind of model: UnsupportedModelError), then types and shapes (a
    // malformed export of the right kind).
    let problem: Error | null = null;
    try {
      checkQuestionAnsweringGraph(session.inputNames, session.outputNames);
      const graph = graphProblem(
        session.inputMetadata as readonly ValueInfo[],
        session.outputMetadata as readonly ValueInfo[],
      );
      if (graph) problem = new Error(`The ONNX model ${graph}`);
    } catch (error) {
      problem = error as Error;
    }
    if (problem) {
      await session.release().catch(() => undefined);
      throw problem;
    }
    return new OnnxQAModel(runtime, session, session.inputNames, session.outputNames, inPlace);
  }

  /**
   * Runs one window before the model is served: a graph whose declared shapes say little (or lie)
   * must still give finite logits of the window's length. Throws with what is wrong.
   */
  async probe(window: WindowInput): Promise<void> {
    try {
      await this.run(window);
    } catch (error) {
      const detail =
        error instanceof InferenceError && error.cause
          ? `${error.message}: ${(error.cause as Error).message ?? error.cause}`
          : (error as Error).message;
      throw new Error(`The ONNX model fails a probe window of ${window.inputIds.length} tokens: ${detail}`, {
        cause: error,
      });
    }
  }

  get usesTokenTypeIds(): boolean {
    return this.inputNames.includes('token_type_ids');
  }

  /** Start and end logits of one window. Rejects with InferenceError when onnxruntime fails. */
  run(window: WindowInput): Promise<WindowLogits> {
    const result = this.queue.then(() => this.runNow(window));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async runNow(window: WindowInput): Promise<WindowLogits> {
    const length = window.inputIds.length;
    const feeds = windowFeeds(this.runtime.Tensor, this.inputNames, window);
    let outputs: ort.InferenceSession.ReturnType;
    try {
      markPhase('run-start');
      outputs = await this.session.run(feeds, ['start_logits', 'end_logits']);
      markPhase('run-end');
    } catch (cause) {
      throw new InferenceError(`onnxruntime failed on a window of ${length} tokens`, { cause });
    }
    // Checked on every run, not only at the probe: a NaN or a short output would otherwise be an
    // answer (or a crash) far from its cause. Two passes over a few hundred floats.
    const start = outputs.start_logits?.data;
    const end = outputs.end_logits?.data;
    const problem = logitsProblem('start_logits', start, length) ?? logitsProblem('end_logits', end, length);
    if (problem)
      throw new InferenceError(`the model's output for a window of ${length} tokens is unusable`, {
        cause: new Error(problem),
      });
    return { start: start as Float32Array, end: end as Float32Array };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
