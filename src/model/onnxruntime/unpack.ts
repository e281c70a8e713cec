/**
 * Unpacks the Lambda artifact's compressed onnxruntime library into /tmp (compressed-library.ts
 * says why it is compressed) and makes onnxruntime-node load it from there without patching it:
 * the binding is copied next to the library (its RUNPATH is `$ORIGIN`) and entered in
 * `require.cache` under the packaged binding's path. The unpacking is all-or-nothing (a private
 * partial folder, size and SHA-256 checked, then renamed): docs/deploy.md, "Size: onnxruntime's
 * library ships compressed".
 */
import { createReadStream, createWriteStream, realpathSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { copyFile, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';
import { OnnxRuntimeUnavailableError } from '../errors';
import { createOwnedTempFolder, removeStaleFolders } from '../../support/tmp-folders';
import {
  BINDING_FILE,
  COMPRESSED_LIBRARY_FILE,
  LIBRARY_FILE,
  MANIFEST_FILE,
  manifestProblem,
  nativesFolderName,
  type CompressedLibraryManifest,
} from './compressed-library';
import { installedOnnxRuntimeVersion } from './version';

const CHUNK_BYTES = 1 << 20;

export interface UnpackOnnxRuntimeOptions {
  /** The folder holding `<platform>-<arch>/onnxruntime.json` (the bundle's `natives/`). */
  nativesDir: string;
  /** Where to unpack; default os.tmpdir(), which is /tmp on Lambda (its only writable place). */
  tmpDir?: string;
  /** Resolves onnxruntime-node; default: a require relative to this module. */
  resolveFrom?: string;
}

export type UnpackResult =
  /** No compressed library for this platform: onnxruntime-node loads its own, as installed. */
  | { status: 'not-compressed' }
  /** Unpacked now, or found complete from an earlier INIT of the same sandbox. */
  | { status: 'unpacked' | 'reused'; dir: string; bytes: number; ms: number };

/**
 * Makes onnxruntime-node load the compressed library of this platform, if the bundle has one.
 * Must finish before onnxruntime-node is first required (see load.ts). Rejects with
 * OnnxRuntimeUnavailableError naming the file at fault.
 */
export async function unpackCompressedOnnxRuntime(options: UnpackOnnxRuntimeOptions): Promise<UnpackResult> {
  const started = performance.now();
  const folder = path.join(options.nativesDir, nativesFolderName(process.platform, process.arch));
  const manifest = await readManifest(path.join(folder, MANIFEST_FILE));
  if (!manifest) return { status: 'not-compressed' };

  const requireHere = createRequire(options.resolveFrom ?? __filename);
  const packagedBinding = packagedBindingPath(requireHere);
  if (requireHere.cache[packagedBinding]) {
    throw new OnnxRuntimeUnavailableError(
      packagedBinding,
      'onnxruntime-node was loaded before its library was unpacked',
    );
  }
  const version = installedOnnxRuntimeVersion(requireHere);
  if (version !== manifest.onnxruntimeVersion) {
    throw new OnnxRuntimeUnavailableError(
      path.join(folder, MANIFEST_FILE),
      `the compressed library is from onnxruntime-node ${manifest.onnxruntimeVersion} but ${version} is installed; rebuild the package`,
    );
  }

  const tmpDir = options.tmpDir ?? tmpdir();
  const dir = path.join(
    tmpDir,
    `onnxruntime-${version}-${process.platform}-${process.arch}-${manifest.sha256.slice(0, 16)}`,
  );
  // Partial folders of a process killed mid-unpack (only ever ours: the name carries the owner).
  await removeStaleFolders(tmpDir, partialBase(dir));
  const reused = await isComplete(dir, manifest, packagedBinding);
  if (!reused) {
    // A folder that is there but incomplete was damaged after the fact (a /tmp cleaner on a
    // workstation): replace it rather than fail on every start until someone deletes it.
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    await unpackInto(dir, folder, manifest, packagedBinding);
  }

  const unpackedBinding = path.join(dir, BINDING_FILE);
  try {
    requireHere(unpackedBinding);
  } catch (cause) {
    throw new OnnxRuntimeUnavailableError(
      unpackedBinding,
      `the unpacked binding does not load: ${(cause as Error).message}`,
      { cause },
    );
  }
  requireHere.cache[packagedBinding] = requireHere.cache[unpackedBinding];
  return {
    status: reused ? 'reused' : 'unpacked',
    dir,
    bytes: manifest.bytes,
    ms: Math.round(performance.now() - started),
  };
}

/** The manifest, or null when there is none (a build without compressed natives, or local runs). */
async function readManifest(file: string): Promise<CompressedLibraryManifest | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new OnnxRuntimeUnavailableError(file, `cannot read the manifest: ${(cause as Error).message}`, { cause });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new OnnxRuntimeUnavailableError(file, 'the manifest is not JSON', { cause });
  }
  const problem = manifestProblem(parsed);
  if (problem) throw new OnnxRuntimeUnavailableError(file, `invalid manifest: ${problem}`);
  return parsed as CompressedLibraryManifest;
}

/** The path onnxruntime-node's binding.js requires its addon by (realpath, as Node resolves it). */
function packagedBindingPath(requireHere: NodeJS.Require): string {
  let main: string;
  try {
    main = requireHere.resolve('onnxruntime-node');
  } catch (cause) {
    throw new OnnxRuntimeUnavailableError('onnxruntime-node', 'the package is not installed', { cause });
  }
  const file = path.resolve(path.dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch, BINDING_FILE);
  try {
    return realpathSync(file);
  } catch (cause) {
    throw new OnnxRuntimeUnavailableError(file, 'the onnxruntime-node binding is missing from the package', { cause });
  }
}

/** `<dir>.partial`: the base name of the owned temporary folders unpacking into `dir`. */
function partialBase(dir: string): string {
  return `${path.basename(dir)}.partial`;
}

/**
 * True when `dir` can be loaded from: ours and not writable by others (its path is predictable,
 * so someone else could have made it), the library's size and SHA-256 those of the manifest, and
 * the binding byte for byte the packaged one (a truncated binding would be mapped and kill the
 * process with SIGBUS on first use, not fail to load). The hashing is paid only by a later INIT in
 * the same sandbox, which skips the unpacking it checks.
 */
async function isComplete(dir: string, manifest: CompressedLibraryManifest, packagedBinding: string): Promise<boolean> {
  try {
    const bindingFile = path.join(dir, BINDING_FILE);
    const [folder, library, binding, packaged] = await Promise.all([
      stat(dir),
      stat(path.join(dir, LIBRARY_FILE)),
      stat(bindingFile),
      stat(packagedBinding),
    ]);
    if (typeof process.getuid === 'function' && folder.uid !== process.getuid()) return false;
    if ((folder.mode & 0o022) !== 0) return false;
    if (library.size !== manifest.bytes || binding.size !== packaged.size) return false;
    const [librarySha, bindingSha, packagedSha] = await Promise.all([
      sha256Of(path.join(dir, LIBRARY_FILE)),
      sha256Of(bindingFile),
      sha256Of(packagedBinding),
    ]);
    return librarySha === manifest.sha256 && bindingSha === packagedSha;
  } catch {
    return false;
  }
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>)
    hash.update(chunk);
  return hash.digest('hex');
}

async function unpackInto(
  dir: string,
  folder: string,
  manifest: CompressedLibraryManifest,
  packagedBinding: string,
): Promise<void> {
  const compressed = path.join(folder, COMPRESSED_LIBRARY_FILE);
  let partial: string;
  try {
    // Fresh, private (0700) and named after this process, so a later start can tell it is stale.
    partial = await createOwnedTempFolder(path.dirname(dir), partialBase(dir));
  } catch (cause) {
    throw new OnnxRuntimeUnavailableError(dir, `cannot create a folder to unpack into: ${(cause as Error).message}`, {
      cause,
    });
  }
  try {
    const library = path.join(partial, LIBRARY_FILE);
    const hash = createHash('sha256');
    try {
      // Streamed, so ~44 MiB never sits in memory, and inflated on libuv's thread pool while the
      // model download proceeds on the main thread. 1 MiB chunks rather than the default 16 KiB:
      // each chunk is a round trip between the thread pool and the main thread, and small ones
      // made the unpacking several times slower.
      await pipeline(
        createReadStream(compressed, { highWaterMark: CHUNK_BYTES }),
        createBrotliDecompress({ chunkSize: CHUNK_BYTES }),
        // Hashed on the way to disk: the check costs no second read.
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(library, { mode: 0o755, highWaterMark: CHUNK_BYTES }),
      );
    } catch (cause) {
      throw new OnnxRuntimeUnavailableError(compressed, `cannot unpack into ${partial}: ${(cause as Error).message}`, {
        cause,
      });
    }
    const { size } = await stat(library);
    if (size !== manifest.bytes) {
      throw new OnnxRuntimeUnavailableError(compressed, `unpacked ${size} bytes, the manifest says ${manifest.bytes}`);
    }
    const sha256 = hash.digest('hex');
    if (sha256 !== manifest.sha256) {
      throw new OnnxRuntimeUnavailableError(
        compressed,
        `the unpacked library's SHA-256 is ${sha256}, the manifest says ${manifest.sha256}`,
      );
    }
    try {
      await copyFile(packagedBinding, path.join(partial, BINDING_FILE));
    } catch (cause) {
      throw new OnnxRuntimeUnavailableError(
        packagedBinding,
        `cannot copy the binding to ${partial}: ${(cause as Error).message}`,
        { cause },
      );
    }
    try {
      await rename(partial, dir);
    } catch (cause) {
      // Another thread of this process (serverless-offline runs handlers in workers) won the race.
      if (!(await isComplete(dir, manifest, packagedBinding))) {
        throw new OnnxRuntimeUnavailableError(
          dir,
          `cannot move the unpacked library into place: ${(cause as Error).message}`,
          { cause },
        );
      }
    }
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}
