/**
 * The loader's errors, all of them. A failed fetch names the object (an `s3://` URI or a local
 * path) it is about, because "Access Denied" alone does not tell an operator which of four objects
 * to fix. The provider wraps any load failure in a ModelUnavailableError for the API.
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

/** Base class: a model source could not be read or does not hold a usable model. */
export class ModelLoadError extends Error {
  override readonly name: string = 'ModelLoadError';
  constructor(
    message: string,
    /** The object or path the message is about. */
    readonly object: string,
    readonly reason: ModelLoadReason = 'STORAGE_ERROR',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The model URI is not one of the supported forms. */
export class InvalidModelUriError extends ModelLoadError {
  override readonly name = 'InvalidModelUriError';
  constructor(uri: string, why: string) {
    super(`Invalid model URI "${uri}": ${why}`, uri, 'INVALID_URI');
  }
}

/** S3 answered NoSuchKey / 404 for the object. */
export class ModelObjectNotFoundError extends ModelLoadError {
  override readonly name = 'ModelObjectNotFoundError';
  constructor(object: string, options?: { cause?: unknown }) {
    super(`Model object not found: ${object}`, object, 'OBJECT_NOT_FOUND', options);
  }
}

/** S3 answered NoSuchBucket. */
export class ModelBucketNotFoundError extends ModelLoadError {
  override readonly name = 'ModelBucketNotFoundError';
  constructor(object: string, bucket: string, options?: { cause?: unknown }) {
    super(`Bucket "${bucket}" does not exist (reading ${object})`, object, 'BUCKET_NOT_FOUND', options);
  }
}

/** S3 answered 403 AccessDenied: the role lacks s3:GetObject (or the KMS key) for the object. */
export class ModelAccessDeniedError extends ModelLoadError {
  override readonly name = 'ModelAccessDeniedError';
  constructor(object: string, options?: { cause?: unknown }) {
    super(`Access denied reading ${object} (check s3:GetObject and KMS permissions)`, object, 'ACCESS_DENIED', options);
  }
}

/** The body ended before ContentLength bytes arrived (or carried more than announced). */
export class TruncatedModelObjectError extends ModelLoadError {
  override readonly name = 'TruncatedModelObjectError';
  constructor(object: string, received: number, expected: number, options?: { cause?: unknown; part?: string }) {
    super(
      `Truncated read of ${object}${options?.part ? ` (${options.part})` : ''}: received ${received} of ${expected} bytes`,
      object,
      'TRUNCATED',
      options,
    );
  }
}

/** No byte arrived within the idle timeout, or the whole read exceeded its deadline. */
export class ModelReadTimeoutError extends ModelLoadError {
  override readonly name = 'ModelReadTimeoutError';
  constructor(object: string, ms: number, what = 'read', options?: { cause?: unknown }) {
    super(`Timed out after ${ms} ms (${what}) reading ${object}`, object, 'TIMEOUT', options);
  }
}

/** The storage endpoint could not be reached (connection refused/reset, DNS). */
export class ModelStoreUnreachableError extends ModelLoadError {
  override readonly name = 'ModelStoreUnreachableError';
  constructor(object: string, detail: string, options?: { cause?: unknown }) {
    super(`Cannot reach storage for ${object}: ${detail}`, object, 'UNREACHABLE', options);
  }
}

/** A file the engine needs (tokenizer.json, an .onnx) is absent from the source. */
export class MissingModelFileError extends ModelLoadError {
  override readonly name = 'MissingModelFileError';
  constructor(object: string, detail?: string, options?: { cause?: unknown }) {
    super(`Missing model file: ${object}${detail ? ` (${detail})` : ''}`, object, 'MISSING_FILE', options);
  }
}

/** The bytes were read but do not make a model (ONNX session or tokenizer creation failed). */
export class InvalidModelError extends ModelLoadError {
  override readonly name = 'InvalidModelError';
  constructor(object: string, detail: string, options?: { cause?: unknown }) {
    super(`Invalid model ${object}: ${detail}`, object, 'INVALID_MODEL', options);
  }
}

/**
 * The object changed while it was being read in parts (another ETag on a later part, or S3's 412
 * for `If-Match`): its parts would come from two uploads. Not retried part by part; the next load
 * starts over.
 */
export class ModelObjectChangedError extends ModelLoadError {
  override readonly name = 'ModelObjectChangedError';
  constructor(object: string, detail: string, options?: { cause?: unknown }) {
    super(`Model object changed while reading ${object}: ${detail}`, object, 'CHANGED', options);
  }
}

/** The bytes read do not match the size or SHA-256 the model manifest lists for them. */
export class ModelChecksumError extends ModelLoadError {
  override readonly name = 'ModelChecksumError';
  constructor(object: string, detail: string, options?: { cause?: unknown }) {
    super(`Checksum mismatch for ${object}: ${detail}`, object, 'CHECKSUM_MISMATCH', options);
  }
}

/**
 * A local file could not be written or created while loading (a full /tmp is ENOSPC). `object`
 * is the model object being stored; the message names the local path and the system error.
 */
export class ModelLocalStorageError extends ModelLoadError {
  override readonly name = 'ModelLocalStorageError';
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
