/**
 * The format of a compressed onnxruntime library, shared by the build (scripts/compress-natives.ts)
 * and the runtime (unpack.ts).
 *
 * Why it exists: onnxruntime-node's linux x64 library (`libonnxruntime.so.1`) is nearly the whole
 * Lambda artifact. The project holds its artifact to a budget of its own, well under Lambda's limits
 * (50 MB zipped for a direct upload, 250 MB unzipped): brotli shrinks the library about threefold, so
 * the artifact carries it compressed in
 * `<bundle>/natives/<platform>-<arch>/` and each container unpacks it once into /tmp during INIT,
 * while the model downloads (why, and what it costs: docs/decisions/2026-12-06-onnxruntime-library-compressed.md).
 */

/** The manifest's name inside `natives/<platform>-<arch>/`. */
export const MANIFEST_FILE = 'onnxruntime.json';

/** The library's file name, as onnxruntime-node's binding names it (DT_NEEDED). */
export const LIBRARY_FILE = 'libonnxruntime.so.1';

/** The compressed library's file name, next to the manifest. */
export const COMPRESSED_LIBRARY_FILE = `${LIBRARY_FILE}.br`;

/** onnxruntime-node's addon; its RUNPATH is `$ORIGIN`, so it must sit next to the library. */
export const BINDING_FILE = 'onnxruntime_binding.node';

/** Written by the build, read at INIT. */
export interface CompressedLibraryManifest {
  format: 1;
  /** The onnxruntime-node version the library came from; its binding must be the same version. */
  onnxruntimeVersion: string;
  platform: string;
  /** Node's process.arch: x64 or arm64. */
  arch: string;
  /** Size and SHA-256 of the uncompressed library (the unpacked file is checked against the size). */
  bytes: number;
  sha256: string;
  /** Size of the .br file. */
  compressedBytes: number;
}

/** The folder of one platform and architecture under a natives root. */
export function nativesFolderName(platform: string, arch: string): string {
  return `${platform}-${arch}`;
}

/**
 * Checks a parsed manifest's shape; returns the reason it is unusable, or null. Kept pure so both
 * the build's cache check and the runtime share one definition.
 */
export function manifestProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'not a JSON object';
  const m = value as Record<string, unknown>;
  if (m.format !== 1) return `unknown format ${JSON.stringify(m.format)}`;
  for (const key of ['onnxruntimeVersion', 'platform', 'arch', 'sha256'] as const) {
    if (typeof m[key] !== 'string' || m[key] === '') return `${key} missing`;
  }
  if (!/^[0-9a-f]{64}$/.test(m.sha256 as string)) return 'sha256 is not a hex SHA-256';
  for (const key of ['bytes', 'compressedBytes'] as const) {
    if (!Number.isSafeInteger(m[key]) || (m[key] as number) <= 0) return `${key} is not a positive integer`;
  }
  return null;
}
