import * as path from 'node:path';
import { invalidModelUri } from './errors';

/** Where a model lives, parsed from the single configuration value (`MODEL_URI`). */
export type ModelSource =
  /** A Hugging Face style folder under an S3 prefix (prefix is '' or ends with '/'). */
  | { kind: 's3-folder'; uri: string; bucket: string; prefix: string }
  /** The tutorial's single `.tar.gz` bundle in S3. */
  | { kind: 's3-archive'; uri: string; bucket: string; key: string }
  /** A Hugging Face style folder on local disk (absolute path). */
  | { kind: 'local-folder'; uri: string; path: string }
  /** A `.tar.gz` bundle on local disk (absolute path). */
  | { kind: 'local-archive'; uri: string; path: string };

const ARCHIVE = /\.(tar\.gz|tgz)$/i;
// S3's bucket naming rules, loosely: enough to catch a typo like "s3:/bucket" or a stray space.
const BUCKET = /^[a-z0-9][a-z0-9.\-_]{1,253}[a-z0-9]$/i;

/** True for names the loader treats as a tar.gz bundle. */
export function isArchiveName(name: string): boolean {
  return ARCHIVE.test(name);
}

/**
 * Parses a model URI: `s3://bucket/prefix/`, `s3://bucket/key.tar.gz`, a local folder or a local
 * `.tar.gz` (plain path or `file://`). An S3 URI without a trailing slash that is not an archive is
 * read as a folder, since S3 has no directories to tell the two apart.
 */
export function parseModelUri(uri: string, cwd: string = process.cwd()): ModelSource {
  const trimmed = uri.trim();
  if (trimmed === '') throw invalidModelUri(uri, 'empty');
  if (/^s3:\/\//i.test(trimmed)) {
    const rest = trimmed.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const key = slash === -1 ? '' : rest.slice(slash + 1);
    if (!BUCKET.test(bucket)) throw invalidModelUri(uri, `"${bucket}" is not a valid bucket name`);
    if (isArchiveName(key)) return { kind: 's3-archive', uri: `s3://${bucket}/${key}`, bucket, key };
    const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    return { kind: 's3-folder', uri: `s3://${bucket}/${prefix}`, bucket, prefix };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) && !/^file:\/\//i.test(trimmed)) {
    throw invalidModelUri(uri, 'expected s3://bucket/prefix/, s3://bucket/key.tar.gz or a local path');
  }
  const local = /^file:\/\//i.test(trimmed) ? decodeURIComponent(new URL(trimmed).pathname) : trimmed;
  const abs = path.resolve(cwd, local);
  return isArchiveName(abs)
    ? { kind: 'local-archive', uri: abs, path: abs }
    : { kind: 'local-folder', uri: abs, path: abs };
}

/** `s3://bucket/key` for messages. */
export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
