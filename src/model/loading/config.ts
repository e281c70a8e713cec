import * as os from 'node:os';
import * as path from 'node:path';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { DEFAULT_BACKOFF, validateBackoff, type BackoffOptions } from './backoff';

/** Model-loading configuration, typed, read once from the environment. */
export interface ModelLoadingConfig {
  /** `MODEL_URI`: s3://bucket/prefix/, s3://bucket/key.tar.gz or a local path; undefined → default resolver. */
  modelUri: string | undefined;
  /** `MODEL_QUANTIZED` (default true): prefer onnx/model_quantized.onnx over onnx/model.onnx. */
  preferQuantized: boolean;
  /**
   * `MODEL_OPTIMIZED` (default true): prefer the graph `model optimize` wrote beside the chosen file
   * (`*.optimized.onnx`), created without re-optimization; false serves the standard file.
   */
  preferOptimized: boolean;
  /**
   * `MODEL_THREADS`: onnxruntime threads per run. Unset: the CPU the process really gets (cores, or
   * on Lambda one per 1,769 MB). Set 1 on a host whose cores are shared with other busy processes.
   */
  threads: number | undefined;
  s3: S3ReadOptions & {
    /** `S3_FORCE_PATH_STYLE=true`: http://host/bucket/key instead of http://bucket.host/key (emulators). */
    forcePathStyle: boolean;
    /** `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`, read here only to detect an emulator. */
    endpoint: string | undefined;
    /** `AWS_REGION` / `AWS_DEFAULT_REGION`; passed through so an injected env is honoured too. */
    region: string | undefined;
    /** `MODEL_S3_CONNECT_TIMEOUT_MS` (default 3000). */
    connectionTimeoutMs: number;
  };
  /** `MODEL_RETRY_INITIAL_MS` (1000) / `MODEL_RETRY_MAX_MS` (30000): backoff after a failed load. */
  retry: BackoffOptions;
  /** Local cache of Hub downloads for `npm start` (`MODEL_CACHE_DIR`, default `.cache/models`). */
  cacheDir: string;
  hub: {
    /** `HF_ENDPOINT` (default https://huggingface.co), as huggingface_hub reads it. */
    endpoint: string;
    /** `MODEL_HUB_REPO` (default Xenova/distilbert-base-cased-distilled-squad). */
    repo: string;
    /** `MODEL_HUB_REVISION` (default main). */
    revision: string;
    /** `MODEL_HUB_TIMEOUT_MS` (default 3000): how long `npm start` waits before falling back to the demo model. */
    timeoutMs: number;
  };
}

/** Timeouts and memory policy for S3 reads. */
export interface S3ReadOptions {
  /** `MODEL_S3_IDLE_TIMEOUT_MS` (default 10000): longest wait for the next bytes of a body. */
  idleTimeoutMs: number;
  /** `MODEL_S3_TOTAL_TIMEOUT_MS` (default 120000): deadline for one object, headers to last byte. */
  totalTimeoutMs: number;
  /**
   * `MODEL_MAX_IN_MEMORY_BYTES`: bodies larger than this are streamed to `spillDir` and handed to
   * onnxruntime as a path, because a buffer would be held twice (JS copy + the session's copy).
   * Default: a quarter of the Lambda memory size (or of total memory outside Lambda).
   */
  maxInMemoryBytes: number;
  /** Where large bodies go (`MODEL_SPILL_DIR`, default the OS temp dir, i.e. /tmp on Lambda). */
  spillDir: string;
  /**
   * `MODEL_S3_PART_BYTES` (default 8 MiB): bytes per ranged GET; objects up to this size are one GET.
   * 0 reads every object as one stream (what the loader did before ranged reads).
   */
  partBytes?: number;
  /** `MODEL_S3_CONCURRENCY` (default 8): ranged GETs in flight per object. */
  concurrency?: number;
  /** `MODEL_S3_PART_ATTEMPTS` (default 3): attempts per part before the load fails. */
  partAttempts?: number;
}

/** Ranged-read defaults, chosen from the bench's cold-start section (docs/model-loading.md). */
export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;
export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_PART_ATTEMPTS = 3;

export const DEFAULT_HUB_REPO = 'Xenova/distilbert-base-cased-distilled-squad';
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${name} must be a number >= 0, got "${raw}"`);
  return n;
}

function positiveInt(env: Env, name: string, fallback: number): number {
  const n = int(env, name, fallback);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`${name} must be an integer from 1 to 64, got "${env[name]}"`);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new RangeError(`${name} must be true or false, got "${env[name]}"`);
}

function optionalThreads(env: Env): number | undefined {
  const raw = env.MODEL_THREADS;
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`MODEL_THREADS must be an integer from 1 to 64, got "${raw}"`);
  return n;
}

/** Default in-memory limit: a quarter of the function's memory, so two copies fit with room to run. */
export function defaultMaxInMemoryBytes(env: Env = process.env): number {
  const lambdaMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  const total = Number.isFinite(lambdaMb) && lambdaMb > 0 ? lambdaMb * 1024 * 1024 : os.totalmem();
  return Math.floor(total / 4);
}

/** Reads the model-loading configuration; throws RangeError with the variable's name when invalid. */
export function loadModelLoadingConfig(env: Env = process.env, cwd: string = process.cwd()): ModelLoadingConfig {
  const retry = validateBackoff({
    initialMs: int(env, 'MODEL_RETRY_INITIAL_MS', DEFAULT_BACKOFF.initialMs),
    maxMs: int(env, 'MODEL_RETRY_MAX_MS', DEFAULT_BACKOFF.maxMs),
    factor: DEFAULT_BACKOFF.factor,
  });
  const modelUri = env.MODEL_URI?.trim() || undefined;
  return {
    modelUri,
    preferQuantized: bool(env, 'MODEL_QUANTIZED', true),
    preferOptimized: bool(env, 'MODEL_OPTIMIZED', true),
    threads: optionalThreads(env),
    s3: {
      forcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', false),
      endpoint: env.AWS_ENDPOINT_URL_S3?.trim() || env.AWS_ENDPOINT_URL?.trim() || undefined,
      region: env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || undefined,
      connectionTimeoutMs: int(env, 'MODEL_S3_CONNECT_TIMEOUT_MS', 3_000),
      idleTimeoutMs: int(env, 'MODEL_S3_IDLE_TIMEOUT_MS', 10_000),
      totalTimeoutMs: int(env, 'MODEL_S3_TOTAL_TIMEOUT_MS', 120_000),
      maxInMemoryBytes: int(env, 'MODEL_MAX_IN_MEMORY_BYTES', defaultMaxInMemoryBytes(env)),
      spillDir: env.MODEL_SPILL_DIR?.trim() || os.tmpdir(),
      partBytes: int(env, 'MODEL_S3_PART_BYTES', DEFAULT_PART_BYTES) || Infinity,
      concurrency: positiveInt(env, 'MODEL_S3_CONCURRENCY', DEFAULT_CONCURRENCY),
      partAttempts: positiveInt(env, 'MODEL_S3_PART_ATTEMPTS', DEFAULT_PART_ATTEMPTS),
    },
    retry,
    cacheDir: path.resolve(cwd, env.MODEL_CACHE_DIR?.trim() || '.cache/models'),
    hub: {
      endpoint: (env.HF_ENDPOINT?.trim() || DEFAULT_HUB_ENDPOINT).replace(/\/+$/, ''),
      repo: env.MODEL_HUB_REPO?.trim() || DEFAULT_HUB_REPO,
      revision: env.MODEL_HUB_REVISION?.trim() || 'main',
      timeoutMs: int(env, 'MODEL_HUB_TIMEOUT_MS', 3_000),
    },
  };
}

/**
 * S3 client options. Region, endpoint (`AWS_ENDPOINT_URL_S3`) and credentials come from the SDK's own
 * chain; we add only path style, connect timeout and — when an endpoint override points at an
 * emulator — `WHEN_REQUIRED` checksums, because s3rver stores the newest SDK's default
 * aws-chunked framing inside the object (see DESIGN.md).
 */
export function s3ClientConfig(config: Pick<ModelLoadingConfig, 's3'>): S3ClientConfig {
  const emulator = config.s3.endpoint !== undefined || config.s3.forcePathStyle;
  return {
    // The SDK reads these from process.env itself; passing them keeps an injected env authoritative.
    ...(config.s3.region ? { region: config.s3.region } : {}),
    ...(config.s3.endpoint ? { endpoint: config.s3.endpoint } : {}),
    forcePathStyle: config.s3.forcePathStyle,
    ...(emulator
      ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
    requestHandler: { connectionTimeout: config.s3.connectionTimeoutMs },
  };
}

/** An S3Client configured as above; inject your own in tests or to share one across the process. */
export function createModelS3Client(config: Pick<ModelLoadingConfig, 's3'>): S3Client {
  return new S3Client(s3ClientConfig(config));
}
