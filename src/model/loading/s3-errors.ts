import { ModelLoadError, objectNotFound, bucketNotFound, accessDenied, readTimeout, storeUnreachable } from './errors';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * Maps an SDK error to a ModelLoadError naming the object. Pure: works on the error's `name`,
 * `code` and `$metadata.httpStatusCode`, which is all the SDK guarantees across versions.
 */
export function toModelLoadError(err: unknown, object: string, bucket: string, timeoutMs = 0): ModelLoadError {
  if (err instanceof ModelLoadError) return err;
  const e = (err ?? {}) as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  switch (e.name) {
    case 'NoSuchKey':
    case 'NotFound':
      return objectNotFound(object, { cause: err });
    case 'NoSuchBucket':
      return bucketNotFound(object, bucket, { cause: err });
    case 'AccessDenied':
    case 'Forbidden':
    case 'InvalidAccessKeyId':
    case 'SignatureDoesNotMatch':
    case 'AllAccessDisabled':
      return accessDenied(object, { cause: err });
    case 'TimeoutError':
    case 'AbortError':
    case 'RequestTimeout':
      return readTimeout(object, timeoutMs, 'request', { cause: err });
  }
  if (status === 404) return objectNotFound(object, { cause: err });
  if (status === 403) return accessDenied(object, { cause: err });
  if (e.code && NETWORK_CODES.has(e.code)) return storeUnreachable(object, `${e.code}`, { cause: err });
  const msg = e.message ?? String(err);
  if (/socket hang up|connect|ECONNRE/i.test(msg)) return storeUnreachable(object, msg, { cause: err });
  return new ModelLoadError(
    `Error reading ${object}: ${e.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${msg}`,
    object,
    'STORAGE_ERROR',
    { cause: err },
  );
}
