import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { QAEngine } from '../engine';
import { DEFAULT_MAX_POSITIONS, defaultMaxSeqLength } from '../options';
import type { QuestionAnswererSource } from '../question-answerer';
import { QATokenizer } from '../tokenizer';
import type { S3ReadOptions } from './config';
import { OnnxRuntimeUnavailableError, UnsupportedModelError } from '../errors';
import { installedOnnxRuntimeVersion } from '../onnxruntime/version';
import { warmUpOnnxRuntime } from '../onnxruntime/warm-up';
import { ModelLoadError, invalidModel } from './errors';
import { fetchModelFiles, type FetchOptions } from './fetch-model-files';
import { summarizeConfig } from './model-files';
import { parseModelUri, type ModelSource } from './source-uri';
import type { ModelFiles, ModelInfo } from './types';

/** The engine as the loader sees it: a QAEngine that may report its own load timings. */
export type LoadableEngine = QAEngine & { loadTimings?: { sessionCreateMs: number; tokenizerMs: number } };

/** Creates an engine from fetched files; `QuestionAnswerer.create` in production, a fake in tests. */
export type EngineFactory = (source: QuestionAnswererSource) => Promise<LoadableEngine>;

/** A loaded model and its provenance. */
export interface LoadedModel {
  engine: QAEngine;
  info: ModelInfo;
  /** How long onnxruntime's warm-up took (overlapped with the download); null when none ran or it failed. */
  runtimeWarmUpMs?: number | null;
}

export interface LoadModelOptions {
  s3?: S3Client;
  preferQuantized: boolean;
  /** Prefer `model optimize`'s files beside the chosen file (MODEL_OPTIMIZED; model-files.ts). */
  preferOptimized?: boolean;
  read: S3ReadOptions;
  /** onnxruntime threads per run; undefined lets the engine decide (threads.ts). */
  threads?: number;
  createEngine?: EngineFactory;
  /** Overrides `demo` (the default resolver's fallback marks its model even if config.json does not). */
  demo?: boolean;
  /** Overrides the name taken from config.json / the URI. */
  name?: string;
  /** Creates spill files; injectable to test a full disk (default: fs.promises.open). */
  openFile?: FetchOptions['openFile'];
  /** Called once the model file's GETs are in flight (S3 sources only). */
  onModelRequested?: () => void;
  /**
   * Do while the model downloads what the engine would do after it: onnxruntime's one-time start
   * (../onnxruntime/warm-up.ts; once the model's GETs are in flight, or at once for a local
   * source) and the parse of tokenizer.json (as soon as it is read, S3 folders). Default: on with
   * the default engine factory, off with an injected one (whose tests must not load onnxruntime).
   */
  warmUp?: boolean;
}

const defaultFactory: EngineFactory = async (source) => {
  // Lazy so tests of the loader with a fake factory never load onnxruntime.
  const { QuestionAnswerer } = await import('../question-answerer');
  return QuestionAnswerer.create(source);
};

function readOnnxRuntimeVersion(): string | undefined {
  try {
    return installedOnnxRuntimeVersion();
  } catch {
    return undefined;
  }
}

/** Human name: config.json's `_name_or_path`, else the last path segment of the source. */
export function modelName(source: ModelSource, configName: string | undefined): string {
  if (configName) return configName;
  const raw =
    source.kind === 's3-folder'
      ? source.prefix || source.bucket
      : source.kind === 's3-archive'
        ? source.key
        : source.path;
  return path.posix.basename(raw.replace(/\/+$/, '')).replace(/\.(tar\.gz|tgz)$/i, '') || raw;
}

/**
 * Fetches a model from `uri` and creates its engine, timing each step. Errors are ModelLoadError
 * subclasses naming the object at fault; a session that fails to create (corrupt ONNX, bad
 * tokenizer) becomes an INVALID_MODEL error naming both files it was built from.
 */
export async function loadModel(uri: string | ModelSource, options: LoadModelOptions): Promise<LoadedModel> {
  const started = performance.now();
  const source = typeof uri === 'string' ? parseModelUri(uri) : uri;
  // Read from onnxruntime-node's package.json, not its native library (not loaded yet: load.ts).
  // Unreadable, the ORT-format file is no candidate and the next file serves: never a failed load.
  const onnxruntimeVersion = options.preferOptimized ? readOnnxRuntimeVersion() : undefined;
  const warmUp = options.warmUp ?? options.createEngine === undefined;
  let warming: Promise<number | null> | undefined;
  // Its synchronous part (loading the library, creating the environment) blocks the event loop, so
  // it starts once the GETs are in flight: the bytes then queue in the sockets meanwhile.
  const startWarmUp = () => {
    if (!warmUp || warming) return;
    warming = warmUpOnnxRuntime().catch(() => null);
  };
  if (source.kind !== 's3-folder' && source.kind !== 's3-archive') startWarmUp();
  // tokenizer.json usually arrives long before the ONNX file: parsed then, between the model's
  // chunks. A parse that fails is left to the engine, whose error names the files.
  let parsedTokenizer: QuestionAnswererSource['parsedTokenizer'];
  const parseTokenizer = (json: string) => {
    const t0 = performance.now();
    try {
      parsedTokenizer = { tokenizer: QATokenizer.fromJson(json), ms: performance.now() - t0 };
    } catch {
      parsedTokenizer = undefined;
    }
  };
  const files: ModelFiles = await fetchModelFiles(source, {
    ...options,
    onnxruntimeVersion,
    onModelRequested: () => {
      startWarmUp();
      options.onModelRequested?.();
    },
    onTokenizerJson: warmUp ? parseTokenizer : undefined,
  });
  // Awaited before the model's session, so the two never overlap. A failed warm-up is no failure:
  // the model's own session then reports the real problem.
  const runtimeWarmUpMs = warming ? await warming : null;
  const summary = summarizeConfig(files.config);
  const createEngine = options.createEngine ?? defaultFactory;
  let engine: LoadableEngine;
  const createStarted = performance.now();
  try {
    engine = await createEngine({
      model: files.model,
      tokenizerJson: files.tokenizerJson,
      config: files.config,
      intraOpNumThreads: options.threads,
      preOptimized: files.optimized,
      parsedTokenizer,
    });
  } catch (err) {
    // A load error, or onnxruntime that cannot load: neither is the model's fault. A model of a
    // kind the engine does not serve says so itself (what it found, what was expected).
    if (
      err instanceof ModelLoadError ||
      err instanceof OnnxRuntimeUnavailableError ||
      err instanceof UnsupportedModelError
    )
      throw err;
    throw invalidModel(
      files.modelObject,
      `engine creation failed (model ${files.modelObject}, tokenizer ${files.tokenizerObject}): ${(err as Error)?.message ?? err}`,
      { cause: err },
    );
  } finally {
    // onnxruntime has read the spilled file by now (or failed); /tmp is small on Lambda.
    if (files.tempDir) await rm(files.tempDir, { recursive: true, force: true });
  }
  const createMs = performance.now() - createStarted;
  const sessionCreateMs = engine.loadTimings?.sessionCreateMs ?? createMs;
  const tokenizerMs = engine.loadTimings?.tokenizerMs ?? 0;
  const maxPositions =
    engine.description?.maxPositionEmbeddings ?? summary.maxPositionEmbeddings ?? DEFAULT_MAX_POSITIONS;
  const info: ModelInfo = {
    name: options.name ?? modelName(source, summary.name),
    source: source.uri,
    quantized: files.quantized,
    optimized: files.optimized,
    demo: options.demo ?? summary.demo,
    inputNames: [...(engine.description?.inputNames ?? [])],
    family: engine.description?.family ?? null,
    maxSequenceLength: defaultMaxSeqLength(maxPositions),
    bytes: files.bytes,
    etag: files.etag,
    version: files.version,
    loadedAt: new Date().toISOString(),
    timings: {
      downloadMs: round(files.downloadMs),
      sessionCreateMs: round(sessionCreateMs),
      tokenizerMs: round(tokenizerMs),
      totalMs: round(performance.now() - started),
    },
  };
  return { engine, info, runtimeWarmUpMs: runtimeWarmUpMs === null ? null : round(runtimeWarmUpMs) };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
