/**
 * The version of the loaded model, as far as caches are concerned: answers are deterministic for
 * one model version and one input, so a cached answer is valid exactly while the version is the
 * same. Everything that keys or validates a cached answer (the response cache's key, the ETag of
 * GET responses) goes through `cacheVersion`, so switching its source is a change here only.
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

/**
 * The HTTP ETag of a cacheable response. Weak: two responses with the same tag are equivalent (same
 * answers), not byte-identical. The version is hashed, because the S3 ETag identifies the object
 * and must not reach clients in production (`model { etag }` is null there).
 *
 * One tag per model version suffices: an ETag validates one URL, and a GET's URL holds the whole
 * operation (query, variables), whose response is deterministic for one model version.
 */
export function modelEtag(version: string): string {
  return `W/"qa-${sha256(version).slice(0, 24)}"`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
