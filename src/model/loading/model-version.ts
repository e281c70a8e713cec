/**
 * The loaded model's version: what caches key answers by and what metrics are split by. Answers are
 * deterministic for one model version and one input.
 */
import type { ModelInfo } from './types';

/**
 * The manifest's version id when the model was pushed with one (`model push`), else the ONNX
 * object's S3 ETag without its quotes, else null (a local folder, or an object without an ETag).
 */
export function modelVersion(info: Pick<ModelInfo, 'version' | 'etag'>): string | null {
  if (info.version) return info.version;
  // ETags come quoted ("..."); the quotes are not part of the version.
  return info.etag ? info.etag.replace(/"/g, '') : null;
}
