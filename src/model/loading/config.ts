import * as os from 'node:os';
import * as path from 'node:path';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { bool, int, invalid, lambdaMemoryMb, optionalInt, str, type Env } from '../../support/env';
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
  /**
   * `MODEL_MAX_WAIT_MS` (default 10000): longest a request waits for a load in progress before it is
   * answered MODEL_UNAVAILABLE (503, Retry-After); the load goes on for the requests after it.
   */
  maxWaitMs: number;
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
    /** `HF_TOKEN`: a Hub access token for gated or private repositories; none by default. */
    token: string | undefined;
  };
}

/** Timeouts and memory policy for S3 reads. */
export interface S3ReadOptions {
  /** `MODEL_S3_IDLE_TIMEOUT_MS` (default 5000): longest wait for the next bytes of a body (and of a local file). */
  idleTimeoutMs: number;
  /** `MODEL_S3_FIRST_BYTE_TIMEOUT_MS` (default 2000): longest wait for a response's headers (S3 answers in tens of ms). */
  firstByteTimeoutMs?: number;
  /** `MODEL_S3_TOTAL_TIMEOUT_MS` (default 120000): deadline for one object (or local file), headers to last byte. */
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
  /**
   * `MODEL_S3_DIRECT_READS` (default true): read a manifest's parts by presigned GETs written
   * straight into place (direct-range.ts), the SDK taking over any other answer.
   */
  directReads?: boolean;
}

/** Ranged-read defaults, chosen from the bench's cold-start section (docs/model-loading.md). */
export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;
export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_PART_ATTEMPTS = 3;

export const DEFAULT_HUB_REPO = 'Xenova/distilbert-base-cased-distilled-squad';
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

/** Most onnxruntime threads or S3 connections a variable may ask for. */
const MAX_PARALLEL = 64;

/** Default in-memory limit: a quarter of the function's memory, so two copies fit with room to run. */
export function defaultMaxInMemoryBytes(env: Env = process.env): number {
  const lambdaMb = lambdaMemoryMb(env);
  const total = lambdaMb !== undefined ? lambdaMb * 1024 * 1024 : os.totalmem();
  return Math.floor(total / 4);
}

/** MODEL_RETRY_INITIAL_MS / MODEL_RETRY_MAX_MS, checked together (the cap must not be below the start). */
function readRetry(env: Env): BackoffOptions {
  const initialMs = int(env, 'MODEL_RETRY_INITIAL_MS', DEFAULT_BACKOFF.initialMs);
  const maxMs = int(env, 'MODEL_RETRY_MAX_MS', DEFAULT_BACKOFF.maxMs);
  if (maxMs < initialMs)
    throw invalid('MODEL_RETRY_MAX_MS', `an integer >= MODEL_RETRY_INITIAL_MS (${initialMs})`, String(maxMs));
  return validateBackoff({ initialMs, maxMs, factor: DEFAULT_BACKOFF.factor });
}

/** Reads the model-loading configuration; throws ConfigError naming the variable when one is invalid. */
export function loadModelLoadingConfig(env: Env = process.env, cwd: string = process.cwd()): ModelLoadingConfig {
  const parallel = { min: 1, max: MAX_PARALLEL };
  return {
    modelUri: str(env, 'MODEL_URI'),
    preferQuantized: bool(env, 'MODEL_QUANTIZED', true),
    preferOptimized: bool(env, 'MODEL_OPTIMIZED', true),
    threads: optionalInt(env, 'MODEL_THREADS', parallel),
    s3: {
      forcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', false),
      endpoint: str(env, 'AWS_ENDPOINT_URL_S3') ?? str(env, 'AWS_ENDPOINT_URL'),
      region: str(env, 'AWS_REGION') ?? str(env, 'AWS_DEFAULT_REGION'),
      connectionTimeoutMs: int(env, 'MODEL_S3_CONNECT_TIMEOUT_MS', 3_000),
      idleTimeoutMs: int(env, 'MODEL_S3_IDLE_TIMEOUT_MS', 5_000, { min: 1 }),
      firstByteTimeoutMs: int(env, 'MODEL_S3_FIRST_BYTE_TIMEOUT_MS', 2_000, { min: 1 }),
      totalTimeoutMs: int(env, 'MODEL_S3_TOTAL_TIMEOUT_MS', 120_000),
      maxInMemoryBytes: int(env, 'MODEL_MAX_IN_MEMORY_BYTES', defaultMaxInMemoryBytes(env)),
      spillDir: str(env, 'MODEL_SPILL_DIR') ?? os.tmpdir(),
      partBytes:
        int(env, 'MODEL_S3_PART_BYTES', DEFAULT_PART_BYTES, { note: '0 reads each object as one stream' }) || Infinity,
      concurrency: int(env, 'MODEL_S3_CONCURRENCY', DEFAULT_CONCURRENCY, parallel),
      partAttempts: int(env, 'MODEL_S3_PART_ATTEMPTS', DEFAULT_PART_ATTEMPTS, parallel),
      directReads: bool(env, 'MODEL_S3_DIRECT_READS', true),
    },
    maxWaitMs: int(env, 'MODEL_MAX_WAIT_MS', 10_000, { min: 1 }),
    retry: readRetry(env),
    cacheDir: path.resolve(cwd, str(env, 'MODEL_CACHE_DIR') ?? '.cache/models'),
    hub: {
      endpoint: (str(env, 'HF_ENDPOINT') ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, ''),
      repo: str(env, 'MODEL_HUB_REPO') ?? DEFAULT_HUB_REPO,
      revision: str(env, 'MODEL_HUB_REVISION') ?? 'main',
      timeoutMs: int(env, 'MODEL_HUB_TIMEOUT_MS', 3_000),
      token: str(env, 'HF_TOKEN'),
    },
  };
}

/**
 * S3 client options. Region, endpoint (`AWS_ENDPOINT_URL_S3`) and credentials come from the SDK's own
 * chain; we add only path style, connect timeout and — when an endpoint override points at an
 * emulator — `WHEN_REQUIRED` checksums, because s3rver stores the newest SDK's default
 * aws-chunked framing inside the object (docs/model-loading.md, "Configuration").
 */
export function s3ClientConfig(config: Pick<ModelLoadingConfig, 's3'>): S3ClientConfig {
  const emulator = config.s3.endpoint !== undefined || config.s3.forcePathStyle;
  return {
    // The SDK reads these from process.env itself; passing them keeps an injected env authoritative.
    ...(config.s3.region ? { region: config.s3.region } : {}),
    ...(config.s3.endpoint ? { endpoint: config.s3.endpoint } : {}),
    forcePathStyle: config.s3.forcePathStyle,
    ...(emulator ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
    requestHandler: { connectionTimeout: config.s3.connectionTimeoutMs },
  };
}

/** An S3Client configured as above; inject your own in tests or to share one across the process. */
export function createModelS3Client(config: Pick<ModelLoadingConfig, 's3'>): S3Client {
  return new S3Client(s3ClientConfig(config));
}
