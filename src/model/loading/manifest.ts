/**
 * The model manifest: what makes an S3 model folder versioned and atomic.
 *
 * `model push` uploads every file of a model under `<prefix>versions/<version>/`, a folder no
 * other push writes to, and then writes `<prefix>model-manifest.json` last. A PUT replaces an
 * object atomically, so a reader sees either the old manifest or the new one, and each lists only
 * files of its own version, with their sizes and SHA-256. A cold start during a push therefore
 * loads the old model or the new one, never one export's ONNX with another's tokenizer.json.
 *
 * Folders without a manifest (a Hugging Face layout uploaded by other means, or an older push)
 * are still read the old way.
 */
import { InvalidModelError } from './errors';
import { MAX_MODEL_FILE_BYTES } from './size-limits';

/** The manifest's key under the model prefix. */
export const MODEL_MANIFEST = 'model-manifest.json';
/** Where a version's files live under the prefix. */
export const VERSIONS_FOLDER = 'versions/';

/** One file of a version. */
export interface ManifestFile {
  /** Path inside the model folder, posix separators, e.g. `onnx/model_quantized.onnx`. */
  path: string;
  bytes: number;
  /** Hex SHA-256 of the content. */
  sha256: string;
  /**
   * SHA-256 of each `bytes`-long part (the last one shorter), for files larger than one part: the
   * loader reads these parts as its ranged GETs and verifies each as it lands, so a damaged part is
   * read again alone and nothing waits for the parts before it. Absent in older manifests (the
   * whole-file SHA-256 is checked then).
   */
  parts?: ManifestParts;
}

export interface ManifestParts {
  bytes: number;
  sha256: string[];
}

/** `<prefix>model-manifest.json`. */
export interface ModelManifest {
  format: 1;
  /** Sortable and unique: `<UTC time>-<12 hex of the files' hash>`. */
  version: string;
  /** Where the files are, relative to the prefix: `versions/<version>/`. */
  folder: string;
  /** Where the model came from: `<hub repo>@<commit>` when pulled from the Hub, else the pushed folder. */
  source: string;
  /** ISO-8601 time of the push. */
  createdAt: string;
  files: ManifestFile[];
}

const HEX64 = /^[0-9a-f]{64}$/;
// A relative posix path without `.`/`..` segments or a leading slash: it is appended to an S3 prefix.
const SAFE_PATH = /^(?!\/)(?!.*(^|\/)\.{1,2}(\/|$))[^\\\0]+$/;

/**
 * A version id: the UTC time (so versions sort by age) and a hash of the file list (so two pushes
 * in the same second differ unless they are the same model).
 */
export function versionId(files: ManifestFile[], at: Date, contentHash: (text: string) => string): string {
  const time = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const listing = files.map((f) => `${f.path}\t${f.bytes}\t${f.sha256}`).join('\n');
  return `${time}-${contentHash(listing).slice(0, 12)}`;
}

/** Parses and checks a manifest's text; `object` names it in errors. */
export function parseManifest(text: string, object: string): ModelManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InvalidModelError(object, `the manifest is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const problem = manifestProblem(value);
  if (problem) throw new InvalidModelError(object, `invalid manifest: ${problem}`);
  return value as ModelManifest;
}

/** Why a parsed value is not a usable manifest, or null. */
export function manifestProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const m = value as Record<string, unknown>;
  if (m.format !== 1) return `unknown format ${JSON.stringify(m.format)}`;
  for (const key of ['version', 'source', 'createdAt'] as const) {
    if (typeof m[key] !== 'string' || m[key] === '') return `${key} missing`;
  }
  if (typeof m.folder !== 'string' || !m.folder.endsWith('/') || !SAFE_PATH.test(m.folder)) {
    return `folder ${JSON.stringify(m.folder)} is not a relative folder ending in /`;
  }
  if (!Array.isArray(m.files) || m.files.length === 0) return 'files missing';
  const seen = new Set<string>();
  for (const f of m.files as unknown[]) {
    const file = f as Record<string, unknown>;
    if (typeof file?.path !== 'string' || !SAFE_PATH.test(file.path))
      return `file path ${JSON.stringify(file?.path)} is not a relative path`;
    if (seen.has(file.path)) return `${file.path} listed twice`;
    seen.add(file.path);
    if (!Number.isSafeInteger(file.bytes) || (file.bytes as number) < 0) return `${file.path}: bytes is not a size`;
    // Checked here, before a read plans its parts from it; the object's real size is checked on its first answer.
    if ((file.bytes as number) > MAX_MODEL_FILE_BYTES)
      return `${file.path}: ${file.bytes as number} bytes is over the ceiling of ${MAX_MODEL_FILE_BYTES}`;
    if (typeof file.sha256 !== 'string' || !HEX64.test(file.sha256)) return `${file.path}: sha256 is not a hex SHA-256`;
    if (file.parts !== undefined) {
      const problem = partsProblem(file.parts, file.bytes as number);
      if (problem) return `${file.path}: parts ${problem}`;
    }
  }
  return null;
}

/** The smallest part a manifest may list: bounds the number of parts (and GETs) per file. */
export const MIN_MANIFEST_PART_BYTES = 64 * 1024;

/** Why `parts` cannot describe a file of `fileBytes`, or null. */
function partsProblem(value: unknown, fileBytes: number): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not an object';
  const parts = value as Record<string, unknown>;
  if (!Number.isSafeInteger(parts.bytes) || (parts.bytes as number) < MIN_MANIFEST_PART_BYTES)
    return `bytes must be an integer of at least ${MIN_MANIFEST_PART_BYTES}`;
  const count = Math.ceil(fileBytes / (parts.bytes as number));
  if (!Array.isArray(parts.sha256) || parts.sha256.length !== count)
    return `sha256 must list ${count} hashes (one per ${parts.bytes as number} bytes)`;
  if (!parts.sha256.every((h) => typeof h === 'string' && HEX64.test(h)))
    return 'sha256 lists a value that is not a hex SHA-256';
  return null;
}
