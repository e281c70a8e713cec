/**
 * Reads a model's files from any source (an S3 folder, an S3 or local bundle, a local folder) into
 * memory or a private spill folder, and says what was read and how long it took.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { ModelLoadError } from './errors';
import { fromBundle, unpackModelBundle, unpackOptions } from './archive';
import { fetchLocalArchive, fetchLocalFolder } from './local-source';
import { isOptimizedName } from './model-files';
import { targetFor } from './read-targets';
import { fetchS3Folder, type S3FolderOptions } from './s3-folder';
import { readS3Object } from './s3-object';
import type { ModelSource } from './source-uri';
import type { FetchedFiles, ModelFiles } from './types';
import { SPILL_FOLDER_BASE, SpillFolder, removeStaleFolders } from '../../support/tmp-folders';

/** What fetching needs; the S3 client is injected (one per process, configured by the caller). */
export interface FetchOptions extends S3FolderOptions {
  s3?: S3Client;
}

/**
 * Reads a model's files from any supported source. Bodies that go to disk go to one private
 * folder per call (under `read.spillDir`), removed here on any failure; on success the caller
 * removes `tempDir`. Folders left by a killed process are removed first.
 */
export async function fetchModelFiles(source: ModelSource, options: FetchOptions): Promise<ModelFiles> {
  const started = performance.now();
  await removeStaleFolders(options.read.spillDir, SPILL_FOLDER_BASE);
  const spill = new SpillFolder(options.read.spillDir);
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  try {
    let files: FetchedFiles;
    switch (source.kind) {
      case 's3-folder':
        files = await fetchS3Folder({
          source,
          client: requireClient(options, source.uri),
          options,
          spill,
          stop,
          signal: controller.signal,
        });
        break;
      case 's3-archive': {
        const client = requireClient(options, source.uri);
        const read = await readS3Object(
          client,
          source.bucket,
          source.key,
          options.read,
          targetFor(options, spill, source.key, source.uri),
          undefined,
          {
            signal: controller.signal,
            openFile: options.openFile,
            onRequested: options.onModelRequested,
          },
        );
        const chunks =
          typeof read.data === 'string' ? createReadStream(read.data, { highWaterMark: 1 << 20 }) : slices(read.data);
        const bundle = await unpackModelBundle(chunks, source.uri, await unpackOptions(options, spill, source.uri));
        // The archive itself is no longer needed: free /tmp before the session is created.
        if (typeof read.data === 'string') await rm(read.data, { force: true });
        files = fromBundle(source.uri, bundle, read.bytes, read.etag);
        break;
      }
      case 'local-archive':
        files = await fetchLocalArchive(source, options, spill);
        break;
      case 'local-folder':
        files = await fetchLocalFolder(source.path, options);
        break;
    }
    return {
      ...files,
      optimized: isOptimizedName(files.modelObject),
      downloadMs: performance.now() - started,
      tempDir: await spill.path(),
    };
  } catch (err) {
    stop();
    await spill.remove();
    throw err;
  }
}

/** A buffer as 1 MiB chunks, for the tar parser. */
async function* slices(buffer: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < buffer.length; i += 1 << 20) yield buffer.subarray(i, i + (1 << 20));
}

function requireClient(options: FetchOptions, uri: string): S3Client {
  if (!options.s3) throw new ModelLoadError(`No S3 client was provided to read ${uri}`, uri);
  return options.s3;
}
