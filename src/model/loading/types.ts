import type { QAEngine } from '../engine';
import type { ModelFamily } from '../types';
import type { S3ReadOptions } from './config';

/** Where a model came from and what loading it cost; exposed by the API's model information field. */
export interface ModelInfo {
  /** Human name, e.g. the Hugging Face repo id or the folder / object name. */
  name: string;
  /** The URI it was loaded from: `s3://bucket/prefix/`, `s3://bucket/key.tar.gz` or a local path. */
  source: string;
  /** True when the int8 dynamically quantized ONNX file was chosen. */
  quantized: boolean;
  /**
   * True when `model optimize`'s `*.optimized.onnx` was served (its session created without graph
   * optimization); in the `model loaded` log line. Optional: engines made by hand do not say.
   */
  optimized?: boolean;
  /** True for the generated random-weight demo model: its answers mean nothing. */
  demo: boolean;
  /** Input names the ONNX graph declares, in order. */
  inputNames: string[];
  /** What the model was recognised as from config.json and tokenizer.json; null when the engine does not say. */
  family?: ModelFamily | null;
  /** Longest window the engine feeds the model (tokens). */
  maxSequenceLength: number;
  /** Bytes read for the model and tokenizer files together. */
  bytes: number;
  /** ETag of the ONNX object when it came from S3. */
  etag: string | null;
  /** Version id from the S3 folder's model manifest (`model push`); null without a manifest. */
  version: string | null;
  /** ISO-8601 time the load finished. */
  loadedAt: string;
  timings: {
    downloadMs: number;
    sessionCreateMs: number;
    tokenizerMs: number;
    totalMs: number;
  };
}

export type EngineState = 'idle' | 'loading' | 'ready' | 'failed';

/**
 * The container's model, as the API sees it. `createModelProvider` (provider.ts) makes the one that
 * loads; `fixedModel` (fixed-model.ts) wraps an engine already created.
 */
export interface ModelProvider {
  /** The loaded engine; rejects with ModelUnavailableError while the model cannot be loaded. */
  get(): Promise<QAEngine>;
  /** Provenance of the loaded model, or null until a load has succeeded. */
  info(): ModelInfo | null;
  state(): EngineState;
  /**
   * Starts (or joins) the load and waits for it, never throwing: true when the model is ready. For
   * Lambda INIT and server start-up, where a failure must not crash the process.
   */
  warmUp(): Promise<boolean>;
  /** The last load failure (a ModelUnavailableError), or null. */
  error(): Error | null;
}

/** Minimal logger (console, or Powertools' Logger, fits). */
export interface LoadLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** How one load attempt failed, as the provider records it. */
export interface LoadFailure {
  /** The load error's message. */
  reason: string;
  /** Failed attempts in a row, this one included. */
  failures: number;
  /** How long calls fail fast before the next attempt may start. */
  retryInMs: number;
  elapsedMs: number;
}

/**
 * What becomes of each load attempt, as typed events (metrics listen here; log lines are for
 * people and are never parsed).
 */
export interface LoadEvents {
  onLoaded?(info: ModelInfo): void;
  onLoadFailed?(failure: LoadFailure): void;
}

/** Everything needed to create an engine, plus where it came from and what reading it cost. */
export interface ModelFiles {
  source: string;
  /** URI or path of the ONNX file (`archive!/entry` inside a bundle), for error messages. */
  modelObject: string;
  tokenizerObject: string;
  /** ONNX bytes, or a file path (local folders, and bodies spilled to disk). */
  model: Uint8Array | string;
  tokenizerJson: string;
  config: Record<string, unknown> | undefined;
  quantized: boolean;
  /** True for a graph `model optimize` wrote (`*.optimized.onnx`, `*.ort`): create its session without re-optimizing. */
  optimized: boolean;
  /** Bytes of model + tokenizer (+ config) read, or the archive's size. */
  bytes: number;
  /** ETag of the ONNX object (or of the archive), when from S3. */
  etag: string | null;
  /** The manifest's version id, for an S3 folder pushed with a manifest; otherwise null. */
  version: string | null;
  downloadMs: number;
  /**
   * The load's private spill folder, if anything was written to disk: remove it once the session
   * has been created (the ONNX path may point into it).
   */
  tempDir: string | undefined;
}

/** What each source's reader returns; the rest is added by fetchModelFiles. */
export type FetchedFiles = Omit<ModelFiles, 'downloadMs' | 'tempDir' | 'optimized'>;

/** What every source reads by: which files it prefers, and the bounds of each read. */
export interface SourceReadOptions {
  preferQuantized: boolean;
  /** Prefer `model optimize`'s files beside the chosen file (default false; model-files.ts). */
  preferOptimized?: boolean;
  /** The running onnxruntime's version: with preferOptimized, its ORT-format file comes first. */
  onnxruntimeVersion?: string;
  read: S3ReadOptions;
}
