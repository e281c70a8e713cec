import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { MODEL_MANIFEST, VERSIONS_FOLDER, parseManifest, type ModelManifest } from '../../src/model/loading/manifest';
import { parseModelUri } from '../../src/model/loading/source-uri';
import { summarizeConfig } from '../../src/model/loading/model-files';
import { toModelLoadError } from '../../src/model/loading/s3-errors';
import { listModelFiles } from './push';

/** What a model URI holds: its files with sizes (and ETags in S3), and what config.json says. */
export interface UriInfo {
  uri: string;
  kind: string;
  /** The version the manifest publishes (an S3 folder pushed by `model push`). */
  version?: string;
  /** The manifest's source and time, when there is one. */
  manifest?: { source: string; createdAt: string; folder: string };
  /** Version folders present under the prefix, newest first (the published one and those kept). */
  versions?: string[];
  files: Array<{ path: string; bytes: number; etag?: string; sha256?: string }>;
  config?: ReturnType<typeof summarizeConfig> & { modelType?: string };
}

/** Lists a model source without loading it (ListObjectsV2 for S3 folders, HEAD for bundles). */
export async function describeUri(uri: string, client?: S3Client): Promise<UriInfo> {
  const source = parseModelUri(uri);
  if (source.kind === 'local-folder' || source.kind === 'local-archive') {
    if (source.kind === 'local-archive')
      return {
        uri: source.uri,
        kind: source.kind,
        files: [{ path: path.basename(source.path), bytes: (await stat(source.path)).size }],
      };
    const names = await listModelFiles(source.path);
    const files = await Promise.all(
      names.map(async (p) => ({ path: p, bytes: (await stat(path.join(source.path, p))).size })),
    );
    const config = await readFile(path.join(source.path, 'config.json'), 'utf8')
      .then(JSON.parse)
      .catch(() => undefined);
    return {
      uri: source.uri,
      kind: source.kind,
      files,
      config: config && { ...summarizeConfig(config), modelType: config.model_type },
    };
  }
  if (!client) throw new Error('an S3 client is needed for s3:// URIs');
  if (source.kind === 's3-archive') {
    const head = await client
      .send(new HeadObjectCommand({ Bucket: source.bucket, Key: source.key }))
      .catch((e: unknown) => {
        throw toModelLoadError(e, source.uri, source.bucket);
      });
    return {
      uri: source.uri,
      kind: source.kind,
      files: [{ path: source.key, bytes: head.ContentLength ?? 0, etag: head.ETag }],
    };
  }
  const files: UriInfo['files'] = [];
  let token: string | undefined;
  do {
    const page = await client
      .send(new ListObjectsV2Command({ Bucket: source.bucket, Prefix: source.prefix, ContinuationToken: token }))
      .catch((e: unknown) => {
        throw toModelLoadError(e, source.uri, source.bucket);
      });
    for (const o of page.Contents ?? [])
      files.push({ path: (o.Key ?? '').slice(source.prefix.length), bytes: o.Size ?? 0, etag: o.ETag });
    token = page.NextContinuationToken;
  } while (token);
  const manifest = await readManifest(client, source.bucket, source.prefix);
  if (!manifest) return { uri: source.uri, kind: source.kind, files };
  const versions = [
    ...new Set(
      files
        .filter((f) => f.path.startsWith(VERSIONS_FOLDER))
        .map((f) => f.path.slice(VERSIONS_FOLDER.length).split('/')[0]!),
    ),
  ]
    .sort()
    .reverse();
  return {
    uri: source.uri,
    kind: source.kind,
    version: manifest.version,
    manifest: { source: manifest.source, createdAt: manifest.createdAt, folder: manifest.folder },
    versions,
    // What a load reads: the manifest's files, not every object under the prefix.
    files: manifest.files.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.sha256 })),
  };
}

async function readManifest(client: S3Client, bucket: string, prefix: string): Promise<ModelManifest | undefined> {
  const uri = `s3://${bucket}/${prefix}${MODEL_MANIFEST}`;
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: prefix + MODEL_MANIFEST }));
    return parseManifest(await res.Body!.transformToString('utf8'), uri);
  } catch (err) {
    const mapped = toModelLoadError(err, uri, bucket);
    if (mapped.reason === 'OBJECT_NOT_FOUND') return undefined;
    throw mapped;
  }
}
