import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { create as createTar } from 'tar';
import { parseModelUri } from '../../src/model/loading/source-uri';

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
}

export interface PushedObject {
  key: string;
  bytes: number;
  etag: string | undefined;
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

/**
 * Uploads a model folder to `s3://bucket/prefix/` (one object per file), or packs it as one
 * `s3://bucket/key.tar.gz` bundle, streaming. Uses lib-storage's Upload: multipart above
 * `partSize`, parts in parallel, a single PutObject below.
 */
export async function pushModel(dir: string, uri: string, options: PushOptions): Promise<PushedObject[]> {
  const target = parseModelUri(uri);
  if (target.kind !== 's3-folder' && target.kind !== 's3-archive') throw new Error(`push needs an s3:// destination, got ${uri}`);
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
  // Sequential files, parallel parts: one big ONNX file dominates, and parts already overlap.
  for (const rel of files) {
    const full = path.join(dir, rel);
    const size = (await stat(full)).size;
    pushed.push(await upload(target.prefix + rel, createReadStream(full), size));
  }
  return pushed;
}
