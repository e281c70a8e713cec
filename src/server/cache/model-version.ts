/**
 * The version of the loaded model, as far as caches are concerned: answers are deterministic for
 * one model version and one input, so a cached answer is valid exactly while the version is the
 * same. The response cache keys its answers with `cacheVersion`, so switching its source is a
 * change here only.
 */
import { createHash } from 'node:crypto';
import { modelVersion } from '../../model/loading/model-version';
import type { ModelInfo } from '../../model/loading/types';

/**
 * The model's version (model-version.ts: the manifest's, else the ONNX ETag), or for a model
 * without one, a hash of its name and load time (a local folder: every load counts as a new
 * version, which is safe, only less cacheable).
 */
export function cacheVersion(info: ModelInfo): string {
  return modelVersion(info) ?? `load:${sha256(`${info.name}\n${info.loadedAt}`).slice(0, 16)}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
