/**
 * Writes onnxruntime-node's linux library brotli-compressed into the Lambda bundle's natives
 * folder (dist/lambda/natives/linux-<arch>/), with the manifest the runtime checks
 * (src/model/onnxruntime/compressed-library.ts explains why, unpack.ts how it is used).
 *
 * Quality 7 with a 16 MiB window: within a few percent of quality 9's output in a fraction of its
 * build time, while quality 11's smaller output takes minutes to build; unpacking costs the same at
 * any quality (docs/decisions/2026-12-06-onnxruntime-library-compressed.md). The output is reused
 * while the library's SHA-256 is unchanged, so only a new onnxruntime-node version pays this again.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants } from 'node:zlib';
import {
  COMPRESSED_LIBRARY_FILE,
  LIBRARY_FILE,
  MANIFEST_FILE,
  manifestProblem,
  nativesFolderName,
  type CompressedLibraryManifest,
} from '../src/model/onnxruntime/compressed-library';

const compress = promisify(brotliCompress);

export interface CompressOptions {
  /** Where onnxruntime-node is installed (default: resolved from this script). */
  onnxruntimeDir?: string;
  /** Brotli quality, 0–11 (default 7, see above); tests use 1 for speed. */
  quality?: number;
}

export interface CompressResult {
  manifest: CompressedLibraryManifest;
  folder: string;
  /** True when an earlier output for the same library was kept. */
  reused: boolean;
  ms: number;
}

/** The installed onnxruntime-node folder. */
export function onnxruntimeNodeDir(): string {
  return path.dirname(require.resolve('onnxruntime-node/package.json'));
}

/** The library onnxruntime-node installs for linux and a Node architecture (x64 or arm64). */
export function linuxLibraryPath(nodeArch: string, onnxruntimeDir = onnxruntimeNodeDir()): string {
  return path.join(onnxruntimeDir, 'bin', 'napi-v6', 'linux', nodeArch, LIBRARY_FILE);
}

/**
 * Compresses the linux library of `nodeArch` into `<nativesDir>/linux-<nodeArch>/`. Files are
 * written under temporary names and renamed (jest workers may build at once), manifest last, so a
 * manifest always describes a complete .br file.
 */
export async function compressOnnxRuntimeLibrary(
  nodeArch: string,
  nativesDir: string,
  options: CompressOptions = {},
): Promise<CompressResult> {
  const started = Date.now();
  const onnxruntimeDir = options.onnxruntimeDir ?? onnxruntimeNodeDir();
  const source = linuxLibraryPath(nodeArch, onnxruntimeDir);
  if (!existsSync(source)) {
    throw new Error(`${source} is missing: is onnxruntime-node installed with its linux ${nodeArch} files?`);
  }
  const library = readFileSync(source);
  const sha256 = createHash('sha256').update(library).digest('hex');
  const version = (JSON.parse(readFileSync(path.join(onnxruntimeDir, 'package.json'), 'utf8')) as { version: string })
    .version;
  const folder = path.join(nativesDir, nativesFolderName('linux', nodeArch));
  const manifestPath = path.join(folder, MANIFEST_FILE);
  const compressedPath = path.join(folder, COMPRESSED_LIBRARY_FILE);

  const existing = readExisting(manifestPath);
  if (
    existing &&
    existing.sha256 === sha256 &&
    existing.onnxruntimeVersion === version &&
    sizeOf(compressedPath) === existing.compressedBytes
  ) {
    return { manifest: existing, folder, reused: true, ms: Date.now() - started };
  }

  const compressed = await compress(library, {
    params: {
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_GENERIC,
      [constants.BROTLI_PARAM_QUALITY]: options.quality ?? 7,
      [constants.BROTLI_PARAM_LGWIN]: 24,
      [constants.BROTLI_PARAM_SIZE_HINT]: library.length,
    },
  });
  const manifest: CompressedLibraryManifest = {
    format: 1,
    onnxruntimeVersion: version,
    platform: 'linux',
    arch: nodeArch,
    bytes: library.length,
    sha256,
    compressedBytes: compressed.length,
  };
  mkdirSync(folder, { recursive: true });
  writeAtomically(compressedPath, compressed);
  writeAtomically(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, folder, reused: false, ms: Date.now() - started };
}

function readExisting(file: string): CompressedLibraryManifest | null {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return manifestProblem(parsed) ? null : (parsed as CompressedLibraryManifest);
  } catch {
    return null;
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return -1;
  }
}

function writeAtomically(file: string, data: Buffer | string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}
