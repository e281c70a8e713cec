import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { create as createTar } from 'tar';
import { parseModelUri } from '../../src/model/loading/source-uri';
import { PULL_MANIFEST } from '../../src/model/loading/hub-pull';
import { DEFAULT_PART_BYTES } from '../../src/model/loading/config';
import { installedOnnxRuntimeVersion } from '../../src/model/onnxruntime/version';
import { chooseVersionFiles, type VersionChoice } from './version-files';
import {
  MODEL_MANIFEST,
  VERSIONS_FOLDER,
  versionId,
  type ManifestFile,
  type ModelManifest,
} from '../../src/model/loading/manifest';

/** Progress of one upload: bytes sent so far out of total (undefined when streaming an archive). */
export interface TransferProgress {
  name: string;
  loaded: number;
  total: number | undefined;
}

export interface PushOptions {
  client: S3Client;
  onProgress?: (p: TransferProgress) => void;
  /** Multipart part size (S3 minimum 5 MiB). */
  partSize?: number;
  /**
   * Folder destinations only. `versioned` (default): files under `<prefix>versions/<version>/`, then
   * `<prefix>model-manifest.json` last (see src/model/loading/manifest.ts). `flat`: one object per
   * file directly under the prefix and no manifest, as before manifests; for tests that need fixed
   * keys, and for older loaders.
   */
  layout?: 'versioned' | 'flat';
  /** Versioned layout: how many versions to keep, the new one included (default 2). Older ones are deleted. */
  keepVersions?: number;
  /** Clock for the version id; injectable for tests. */
  now?: () => Date;
  /**
   * Versioned layout: which graphs the version holds (version-files.ts); default: the file the
   * project's default loader serves with this onnxruntime, and its standard file. `all: true`
   * uploads every file. Flat layouts and bundles take every file.
   */
  choice?: VersionChoice;
}

export interface PushedObject {
  key: string;
  bytes: number;
  etag: string | undefined;
  /** On the manifest (the last object of a versioned push): the version id it publishes. */
  version?: string;
}

/** Model files under `dir`, relative, posix separators; skips partial downloads and dotfiles. */
export async function listModelFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name.endsWith('.incomplete')) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) out.push(r);
    }
  }
  await walk('');
  return out.sort();
}

/** What the loader reading a version is assumed to be by default: this project's defaults and its onnxruntime. */
export function defaultVersionChoice(): VersionChoice {
  return { preferQuantized: true, preferOptimized: true, onnxruntimeVersion: installedOnnxRuntimeVersion() };
}

/** The files of `dir` a versioned push uploads (the manifest lists exactly these): version-files.ts. */
export async function versionFiles(dir: string, choice: VersionChoice = defaultVersionChoice()): Promise<string[]> {
  return chooseVersionFiles(await listModelFiles(dir), choice);
}

/**
 * Uploads a model folder to `s3://bucket/prefix/` as a new version (files, then the manifest, then
 * versions beyond `keepVersions` deleted), or packs it as one `s3://bucket/key.tar.gz` bundle,
 * streaming. Uses lib-storage's Upload: multipart above `partSize`, parts in parallel, a single
 * PutObject below.
 */
export async function pushModel(dir: string, uri: string, options: PushOptions): Promise<PushedObject[]> {
  const target = parseModelUri(uri);
  if (target.kind !== 's3-folder' && target.kind !== 's3-archive')
    throw new Error(`push needs an s3:// destination, got ${uri}`);
  const files = await listModelFiles(dir);
  if (files.length === 0) throw new Error(`Nothing to push: ${dir} holds no files`);
  const partSize = options.partSize ?? 8 * 1024 * 1024;
  const upload = async (key: string, body: NodeJS.ReadableStream, total: number | undefined): Promise<PushedObject> => {
    const up = new Upload({
      client: options.client,
      params: { Bucket: target.bucket, Key: key, Body: body as never },
      partSize,
      queueSize: 4,
      leavePartsOnError: false,
    });
    let loaded = 0;
    up.on('httpUploadProgress', (p) => {
      loaded = p.loaded ?? loaded;
      options.onProgress?.({ name: key, loaded, total: total ?? p.total });
    });
    const res = await up.done();
    return { key, bytes: total ?? loaded, etag: 'ETag' in res ? res.ETag : undefined };
  };
  if (target.kind === 's3-archive') {
    // tar's stream is a Minipass, which lib-storage does not recognise: hand it a Node Readable.
    const tarStream = createTar({ gzip: true, cwd: dir, portable: true }, files).pipe(new PassThrough());
    return [await upload(target.key, tarStream, undefined)];
  }
  const pushed: PushedObject[] = [];
  if (options.layout === 'flat') {
    // Sequential files, parallel parts: one big ONNX file dominates, and parts already overlap.
    for (const rel of files) {
      const full = path.join(dir, rel);
      pushed.push(await upload(target.prefix + rel, createReadStream(full), (await stat(full)).size));
    }
    return pushed;
  }
  const manifest = await buildManifest(
    dir,
    chooseVersionFiles(files, options.choice ?? defaultVersionChoice()),
    (options.now ?? (() => new Date()))(),
  );
  const root = target.prefix + manifest.folder;
  for (const file of manifest.files) {
    pushed.push(await upload(root + file.path, createReadStream(path.join(dir, file.path)), file.bytes));
  }
  // Last, and in one PUT: until this lands, readers see the previous manifest and its files.
  const body = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  const put = await options.client.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: target.prefix + MODEL_MANIFEST,
      Body: body,
      ContentType: 'application/json',
    }),
  );
  pushed.push({ key: target.prefix + MODEL_MANIFEST, bytes: body.length, etag: put.ETag, version: manifest.version });
  await pruneVersions(options.client, target.bucket, target.prefix, manifest.version, options.keepVersions ?? 2);
  return pushed;
}

/**
 * SHA-256 and size of a file, and of each `partBytes` part when it has more than one, streamed
 * (a model file is not read into memory).
 */
async function hashFile(file: string, partBytes: number): Promise<Omit<ManifestFile, 'path'>> {
  const whole = createHash('sha256');
  const parts: string[] = [];
  let part = createHash('sha256');
  let inPart = 0;
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    whole.update(chunk);
    bytes += chunk.length;
    // Bounded: each pass consumes at least one byte of the chunk.
    for (let at = 0; at < chunk.length;) {
      const take = Math.min(chunk.length - at, partBytes - inPart);
      part.update(chunk.subarray(at, at + take));
      at += take;
      inPart += take;
      if (inPart === partBytes) {
        parts.push(part.digest('hex'));
        part = createHash('sha256');
        inPart = 0;
      }
    }
  }
  if (inPart > 0) parts.push(part.digest('hex'));
  const sha256 = whole.digest('hex');
  return parts.length > 1 ? { bytes, sha256, parts: { bytes: partBytes, sha256: parts } } : { bytes, sha256 };
}

/** Where the folder came from: `<repo>@<commit>` if `model pull` fetched it, else its absolute path. */
async function describeSource(dir: string): Promise<string> {
  try {
    const pulled = JSON.parse(await readFile(path.join(dir, PULL_MANIFEST), 'utf8')) as {
      repo?: string;
      commit?: string;
      revision?: string;
    };
    if (pulled.repo) return `${pulled.repo}@${pulled.commit ?? pulled.revision ?? 'unknown'}`;
  } catch {
    // Not pulled from the Hub by this tool.
  }
  return path.resolve(dir);
}

/**
 * The manifest of `files` under `dir` (hashes computed now, from the bytes that will be uploaded),
 * with per-part hashes in the loader's default part size (ranged reads verify each part alone).
 */
export async function buildManifest(
  dir: string,
  files: string[],
  at: Date,
  partBytes: number = DEFAULT_PART_BYTES,
): Promise<ModelManifest> {
  const listed: ManifestFile[] = [];
  for (const rel of files) listed.push({ path: rel, ...(await hashFile(path.join(dir, rel), partBytes)) });
  const version = versionId(listed, at, (text) => createHash('sha256').update(text).digest('hex'));
  return {
    format: 1,
    version,
    folder: `${VERSIONS_FOLDER}${version}/`,
    source: await describeSource(dir),
    createdAt: at.toISOString(),
    files: listed,
  };
}

/**
 * Deletes `versions/*` folders other than the newest `keep` (by version id, which sorts by time).
 * The previous one is kept by default: a cold start that read the old manifest just before the
 * switch may still be downloading its files.
 */
async function pruneVersions(
  client: S3Client,
  bucket: string,
  prefix: string,
  current: string,
  keep: number,
): Promise<void> {
  const base = prefix + VERSIONS_FOLDER;
  const versions = new Set<string>();
  const keys: string[] = [];
  let token: string | undefined;
  // Bounded by the listing: each page advances the continuation token or ends the loop.
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: base, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      const key = o.Key ?? '';
      const version = key.slice(base.length).split('/')[0];
      if (!version) continue;
      versions.add(version);
      keys.push(key);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  versions.add(current);
  const kept = new Set([...versions].sort().reverse().slice(0, Math.max(1, keep)));
  kept.add(current);
  const doomed = keys.filter((k) => !kept.has(k.slice(base.length).split('/')[0]!));
  for (let i = 0; i < doomed.length; i += 1000) {
    await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: doomed.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
  }
}
