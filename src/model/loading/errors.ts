/**
 * The loader's errors. A failed fetch names the object (an `s3://` URI or a local path) it is
 * about, because "Access Denied" alone does not tell an operator which of four objects to fix.
 * Every load failure is a ModelLoadError whose `reason` says which; a class of its own only where a
 * caller needs more (ModelLocalStorageError's system `code`). The provider wraps any load failure
 * in a ModelUnavailableError for the API.
 */

/** Why a model could not be fetched; stable for logs and tests. */
export type ModelLoadReason =
  | 'INVALID_URI'
  | 'OBJECT_NOT_FOUND'
  | 'BUCKET_NOT_FOUND'
  | 'ACCESS_DENIED'
  | 'TRUNCATED'
  | 'TIMEOUT'
  | 'UNREACHABLE'
  | 'MISSING_FILE'
  | 'INVALID_MODEL'
  | 'STORAGE_ERROR'
  // The engine's OnnxRuntimeUnavailableError (src/model/errors.ts), which a load passes on.
  | 'RUNTIME_UNAVAILABLE'
  // The engine's UnsupportedModelError: the files make a model of a kind the engine does not serve.
  | 'UNSUPPORTED_MODEL'
  | 'CHANGED'
  | 'CHECKSUM_MISMATCH'
  | 'LOCAL_STORAGE';

/** The reasons a ModelLoadError carries (the other two are the engine's own errors). */
export type LoaderReason = Exclude<ModelLoadReason, 'RUNTIME_UNAVAILABLE' | 'UNSUPPORTED_MODEL'>;

/** Each reason's error `name`, the one log lines show. */
const NAME_OF: Record<LoaderReason, string> = {
  INVALID_URI: 'InvalidModelUriError',
  OBJECT_NOT_FOUND: 'ModelObjectNotFoundError',
  BUCKET_NOT_FOUND: 'ModelBucketNotFoundError',
  ACCESS_DENIED: 'ModelAccessDeniedError',
  TRUNCATED: 'TruncatedModelObjectError',
  TIMEOUT: 'ModelReadTimeoutError',
  UNREACHABLE: 'ModelStoreUnreachableError',
  MISSING_FILE: 'MissingModelFileError',
  INVALID_MODEL: 'InvalidModelError',
  STORAGE_ERROR: 'ModelLoadError',
  CHANGED: 'ModelObjectChangedError',
  CHECKSUM_MISMATCH: 'ModelChecksumError',
  LOCAL_STORAGE: 'ModelLocalStorageError',
};

type Options = { cause?: unknown };

/** A model source could not be read or does not hold a usable model; `reason` says why. */
export class ModelLoadError extends Error {
  override readonly name: string;
  constructor(
    message: string,
    /** The object or path the message is about. */
    readonly object: string,
    readonly reason: LoaderReason = 'STORAGE_ERROR',
    options?: Options,
  ) {
    super(message, options);
    this.name = NAME_OF[reason];
  }
}

/** True when `err` is a load failure for `reason` (e.g. OBJECT_NOT_FOUND: try the next file name). */
export function isLoadFailure(err: unknown, reason: LoaderReason): err is ModelLoadError {
  return err instanceof ModelLoadError && err.reason === reason;
}

/** The model URI is not one of the supported forms. */
export function invalidModelUri(uri: string, why: string): ModelLoadError {
  return new ModelLoadError(`Invalid model URI "${uri}": ${why}`, uri, 'INVALID_URI');
}

/** S3 answered NoSuchKey / 404 for the object. */
export function objectNotFound(object: string, options?: Options): ModelLoadError {
  return new ModelLoadError(`Model object not found: ${object}`, object, 'OBJECT_NOT_FOUND', options);
}

/** S3 answered NoSuchBucket. */
export function bucketNotFound(object: string, bucket: string, options?: Options): ModelLoadError {
  return new ModelLoadError(
    `Bucket "${bucket}" does not exist (reading ${object})`,
    object,
    'BUCKET_NOT_FOUND',
    options,
  );
}

/** S3 answered 403 AccessDenied: the role lacks s3:GetObject (or the KMS key) for the object. */
export function accessDenied(object: string, options?: Options): ModelLoadError {
  return new ModelLoadError(
    `Access denied reading ${object} (check s3:GetObject and KMS permissions)`,
    object,
    'ACCESS_DENIED',
    options,
  );
}

/** The body ended before ContentLength bytes arrived (or carried more than announced). */
export function truncatedRead(
  object: string,
  received: number,
  expected: number,
  options?: Options & { part?: string },
): ModelLoadError {
  return new ModelLoadError(
    `Truncated read of ${object}${options?.part ? ` (${options.part})` : ''}: received ${received} of ${expected} bytes`,
    object,
    'TRUNCATED',
    options,
  );
}

/** No byte arrived within the idle timeout, or the whole read exceeded its deadline. */
export function readTimeout(object: string, ms: number, what = 'read', options?: Options): ModelLoadError {
  return new ModelLoadError(`Timed out after ${ms} ms (${what}) reading ${object}`, object, 'TIMEOUT', options);
}

/** The storage endpoint could not be reached (connection refused/reset, DNS). */
export function storeUnreachable(object: string, detail: string, options?: Options): ModelLoadError {
  return new ModelLoadError(`Cannot reach storage for ${object}: ${detail}`, object, 'UNREACHABLE', options);
}

/** A file the engine needs (tokenizer.json, an .onnx) is absent from the source. */
export function missingModelFile(object: string, detail?: string, options?: Options): ModelLoadError {
  return new ModelLoadError(
    `Missing model file: ${object}${detail ? ` (${detail})` : ''}`,
    object,
    'MISSING_FILE',
    options,
  );
}

/** The bytes were read but do not make a model (ONNX session or tokenizer creation failed). */
export function invalidModel(object: string, detail: string, options?: Options): ModelLoadError {
  return new ModelLoadError(`Invalid model ${object}: ${detail}`, object, 'INVALID_MODEL', options);
}

/**
 * The object changed while it was being read in parts (another ETag on a later part, or S3's 412
 * for `If-Match`): its parts would come from two uploads. Not retried part by part; the next load
 * starts over.
 */
export function objectChanged(object: string, detail: string, options?: Options): ModelLoadError {
  return new ModelLoadError(`Model object changed while reading ${object}: ${detail}`, object, 'CHANGED', options);
}

/** The bytes read do not match the size or SHA-256 the model manifest lists for them. */
export function checksumMismatch(object: string, detail: string, options?: Options): ModelLoadError {
  return new ModelLoadError(`Checksum mismatch for ${object}: ${detail}`, object, 'CHECKSUM_MISMATCH', options);
}

/**
 * A local file could not be written or created while loading (a full /tmp is ENOSPC). `object`
 * is the model object being stored; the message names the local path and the system error, and
 * `code` holds the system code.
 */
export class ModelLocalStorageError extends ModelLoadError {
  readonly code: string | undefined;
  constructor(object: string, file: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException)?.code;
    const why = code === 'ENOSPC' ? 'no space left on the device' : ((cause as Error)?.message ?? String(cause));
    super(`Cannot write ${file} while loading ${object}: ${why}${code ? ` (${code})` : ''}`, object, 'LOCAL_STORAGE', {
      cause,
    });
    this.code = code;
  }
}

/** The model cannot be loaded right now (a later attempt may succeed): what the provider rejects with. */
export class ModelUnavailableError extends Error {
  override readonly name = 'ModelUnavailableError';
  readonly code = 'MODEL_UNAVAILABLE' as const;
}
