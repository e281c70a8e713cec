import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { backoffDelay, type BackoffOptions } from './backoff';
import { HubDownloadError } from './hub-errors';
import { CONFIG_FILE, FULL_ONNX, QUANTIZED_ONNX, TOKENIZER_FILE } from './model-files';

/** Codes of a connection that never got an answer: refused, no such host, timed out. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** True when `err` (from fetch) means the server could not be reached at all. */
function isUnreachable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } } | undefined;
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') return true;
  return UNREACHABLE_CODES.has(e?.code ?? '') || UNREACHABLE_CODES.has(e?.cause?.code ?? '');
}

/** What the Hub says about one file (from the HEAD of its resolve URL, as huggingface_hub reads it). */
export interface HubFileMetadata {
  /** Size in bytes: `X-Linked-Size` for LFS files, else Content-Length. */
  size: number;
  /** `X-Linked-Etag` (the LFS object's sha256) or ETag (a git blob sha1 for small files), unquoted. */
  etag: string;
  /** True when etag is a sha256 (LFS), false when it is a git blob sha1. */
  lfs: boolean;
  /** `X-Repo-Commit`: the commit the revision resolved to. */
  commit: string | undefined;
}

export interface PullProgress {
  name: string;
  loaded: number;
  total: number | undefined;
}

/** Waits between resumed attempts of one file: 200, 400, 800 ms... (a lost connection, not an outage). */
export const HUB_RETRY_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ initialMs: 200, maxMs: 5_000, factor: 2 });

export interface PullOptions {
  repo: string;
  revision?: string;
  /**
   * Which ONNX export to download: `int8` (default) onnx/model_quantized.onnx, what the loader
   * prefers (MODEL_QUANTIZED); `fp32` onnx/model.onnx; `all` both.
   */
  onnx?: OnnxVariant;
  dir: string;
  /** Hub base URL (`HF_ENDPOINT`), default https://huggingface.co. */
  endpoint?: string;
  /** Bearer token for gated/private repos (`HF_TOKEN`). */
  token?: string;
  /** Timeout of each metadata request and of connecting (ms). */
  timeoutMs?: number;
  /** Longest wait for the next bytes of a body before the attempt is abandoned (ms). */
  idleTimeoutMs?: number;
  /** Resumed attempts per file after a connection is lost. */
  retries?: number;
  onProgress?: (p: PullProgress) => void;
}

export interface PulledFile {
  path: string;
  bytes: number;
  etag: string;
  /** Already present and verified, nothing downloaded. */
  cached: boolean;
  /** Bytes fetched with a Range request to resume an earlier partial download. */
  resumedFrom: number;
}

export interface PullResult {
  dir: string;
  repo: string;
  revision: string;
  commit: string | undefined;
  files: PulledFile[];
}

/** Manifest written last: its presence means the folder is complete and verified. */
export const PULL_MANIFEST = '.hub-pull.json';

/** The ONNX exports `pull` can fetch: the int8 one, the fp32 one, or both. */
export type OnnxVariant = 'int8' | 'fp32' | 'all';

/** The ONNX files of each variant, in download order. */
export const ONNX_FILES: Record<OnnxVariant, readonly string[]> = {
  int8: [QUANTIZED_ONNX],
  fp32: [FULL_ONNX],
  all: [QUANTIZED_ONNX, FULL_ONNX],
};

/**
 * Where a repository may keep an ONNX file: under `onnx/` (Transformers.js / Xenova repositories),
 * else at the root, as `optimum-cli export onnx` writes it. The loader finds either (model-files.ts).
 */
export function onnxLocations(file: string): string[] {
  return file.startsWith('onnx/') ? [file, file.slice('onnx/'.length)] : [file];
}

/** Files a QA model needs from the repo; the optional ones are skipped when the repo lacks them. */
export function hubFileList(onnx: OnnxVariant = 'int8'): { required: string[]; optional: string[] } {
  return {
    required: [CONFIG_FILE, TOKENIZER_FILE, ...ONNX_FILES[onnx]],
    optional: ['tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'],
  };
}

/** `https://hub/<repo>/resolve/<revision>/<path>`, each segment encoded (revisions may hold '/'). */
export function resolveUrl(endpoint: string, repo: string, revision: string, file: string): string {
  const enc = (s: string) => s.split('/').map(encodeURIComponent).join('/');
  return `${endpoint.replace(/\/+$/, '')}/${enc(repo)}/resolve/${encodeURIComponent(revision)}/${enc(file)}`;
}

/** Strips the weak marker and quotes, as huggingface_hub's `_normalize_etag` does. */
export function normalizeEtag(etag: string | null): string | undefined {
  if (!etag) return undefined;
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

/** Parses the metadata headers of a resolve response (the 302 for LFS files, the 200 otherwise). */
export function parseHubMetadata(headers: Headers, url: string): HubFileMetadata {
  const linkedEtag = normalizeEtag(headers.get('x-linked-etag'));
  const etag = linkedEtag ?? normalizeEtag(headers.get('etag'));
  const sizeHeader = headers.get('x-linked-size') ?? headers.get('content-length');
  const size = sizeHeader === null ? NaN : Number(sizeHeader);
  if (!etag || !Number.isFinite(size)) {
    throw new HubDownloadError(`The Hub sent no ETag or size for ${url}; cannot verify the download`, url, {
      kind: 'INTEGRITY',
    });
  }
  return { size, etag, lfs: /^[0-9a-f]{64}$/i.test(etag), commit: headers.get('x-repo-commit') ?? undefined };
}

/** sha256 for LFS files; git's blob sha1 (`blob <size>\0<content>`) for small files, which is their ETag. */
export async function fileDigest(file: string, meta: Pick<HubFileMetadata, 'lfs' | 'size'>): Promise<string> {
  const hash = createHash(meta.lfs ? 'sha256' : 'sha1');
  if (!meta.lfs) hash.update(`blob ${meta.size}\0`);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function fetchWithTimeout(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    // fetch rejects only without an HTTP answer; a reset or a TLS failure is not "unreachable".
    throw new HubDownloadError(`Cannot reach the Hub at ${url}: ${cause?.code ?? (err as Error).message}`, url, {
      cause: err,
      kind: isUnreachable(err) ? 'UNREACHABLE' : 'DOWNLOAD_FAILED',
    });
  }
}

/** HEAD of the resolve URL without following the redirect: the 302 carries the LFS metadata. */
export async function fetchHubMetadata(
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<HubFileMetadata | null> {
  const res = await fetchWithTimeout(
    url,
    { method: 'HEAD', redirect: 'manual', headers: { ...headers, 'accept-encoding': 'identity' } },
    timeoutMs,
  );
  if (res.status === 404) return null;
  if (res.status === 401 || res.status === 403) {
    throw new HubDownloadError(
      `The Hub refused ${url} (HTTP ${res.status}): no such repository, or a gated or private one (set HF_TOKEN)?`,
      url,
      { kind: 'REFUSED' },
    );
  }
  if (res.status >= 400) throw new HubDownloadError(`The Hub answered HTTP ${res.status} for ${url}`, url);
  return parseHubMetadata(res.headers, url);
}

/**
 * Downloads a Hugging Face repo's ONNX model and tokenizer into `dir`, like `huggingface_hub`'s
 * `hf_hub_download`: metadata from a HEAD of `/<repo>/resolve/<revision>/<path>`, the body into
 * `<file>.incomplete`, resumed with a Range request after a lost connection (within this call or a
 * later one), then checked against the Hub's size and sha256 (LFS) or git sha1 before renaming.
 * Files already present and matching are not downloaded again.
 */
export async function pullFromHub(options: PullOptions): Promise<PullResult> {
  const revision = options.revision ?? 'main';
  const endpoint = options.endpoint ?? 'https://huggingface.co';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const headers: Record<string, string> = { 'user-agent': 'serverless-qa-graphql/model-cli' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const { required, optional } = hubFileList(options.onnx ?? 'int8');
  await mkdir(options.dir, { recursive: true });
  const files: PulledFile[] = [];
  let commit: string | undefined;
  for (const wanted of [...required, ...optional]) {
    let found: { file: string; url: string; meta: HubFileMetadata } | undefined;
    const tried: string[] = [];
    for (const file of onnxLocations(wanted)) {
      const url = resolveUrl(endpoint, options.repo, revision, file);
      tried.push(url);
      const meta = await fetchHubMetadata(url, headers, timeoutMs);
      if (meta) {
        found = { file, url, meta };
        break;
      }
    }
    if (!found) {
      if (optional.includes(wanted)) continue;
      const names = onnxLocations(wanted).join(' or ');
      throw new HubDownloadError(`${names} not found in ${options.repo}@${revision} (${tried.join(', ')})`, tried[0]!, {
        kind: 'NOT_FOUND',
      });
    }
    const { file, url, meta } = found;
    commit ??= meta.commit;
    files.push(await downloadFile(url, path.join(options.dir, file), file, meta, headers, options));
  }
  await writeFile(
    path.join(options.dir, PULL_MANIFEST),
    JSON.stringify(
      { repo: options.repo, revision, commit, endpoint, files, pulledAt: new Date().toISOString() },
      null,
      2,
    ),
  );
  return { dir: options.dir, repo: options.repo, revision, commit, files };
}

async function sizeOf(file: string): Promise<number> {
  return (await stat(file).catch(() => undefined))?.size ?? -1;
}

async function downloadFile(
  url: string,
  dest: string,
  name: string,
  meta: HubFileMetadata,
  headers: Record<string, string>,
  options: PullOptions,
): Promise<PulledFile> {
  await mkdir(path.dirname(dest), { recursive: true });
  if ((await sizeOf(dest)) === meta.size && (await fileDigest(dest, meta)) === meta.etag) {
    options.onProgress?.({ name, loaded: meta.size, total: meta.size });
    return { path: name, bytes: meta.size, etag: meta.etag, cached: true, resumedFrom: 0 };
  }
  const partial = `${dest}.incomplete`;
  const retries = options.retries ?? 3;
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  let resumedFrom = 0;
  for (let attempt = 0; ; attempt++) {
    let have = Math.max(0, await sizeOf(partial));
    if (have > meta.size) {
      await rm(partial, { force: true });
      have = 0;
    }
    if (have > 0 && resumedFrom === 0) resumedFrom = have;
    try {
      if (have < meta.size) await fetchInto(url, partial, have, meta.size, name, headers, idleTimeoutMs, options);
      break;
    } catch (err) {
      // Keep the partial file: the next attempt (or the next run) resumes from it.
      if (attempt >= retries) {
        throw new HubDownloadError(
          `Download of ${url} failed after ${attempt + 1} attempts: ${(err as Error).message}`,
          url,
          {
            cause: err,
            kind: isUnreachable(err) ? 'UNREACHABLE' : err instanceof HubDownloadError ? err.kind : 'DOWNLOAD_FAILED',
          },
        );
      }
      await new Promise((r) => setTimeout(r, backoffDelay(attempt + 1, HUB_RETRY_BACKOFF)));
    }
  }
  const got = await sizeOf(partial);
  if (got !== meta.size) {
    await rm(partial, { force: true });
    throw new HubDownloadError(`Size mismatch for ${url}: got ${got} bytes, the Hub says ${meta.size}`, url, {
      kind: 'INTEGRITY',
    });
  }
  const digest = await fileDigest(partial, meta);
  if (digest !== meta.etag) {
    await rm(partial, { force: true });
    throw new HubDownloadError(
      `Checksum mismatch for ${url}: ${meta.lfs ? 'sha256' : 'git sha1'} ${digest}, the Hub says ${meta.etag}`,
      url,
      { kind: 'INTEGRITY' },
    );
  }
  await rename(partial, dest);
  return { path: name, bytes: meta.size, etag: meta.etag, cached: false, resumedFrom };
}

async function fetchInto(
  url: string,
  partial: string,
  have: number,
  total: number,
  name: string,
  headers: Record<string, string>,
  idleTimeoutMs: number,
  options: PullOptions,
): Promise<void> {
  const controller = new AbortController();
  // A TimeoutError, like AbortSignal.timeout's: a stalled body counts as an unreachable Hub.
  const stalled = () => controller.abort(new DOMException(`no data for ${idleTimeoutMs} ms`, 'TimeoutError'));
  let idle = setTimeout(stalled, idleTimeoutMs);
  const rearm = () => {
    clearTimeout(idle);
    idle = setTimeout(stalled, idleTimeoutMs);
  };
  try {
    const res = await fetch(url, {
      headers: { ...headers, 'accept-encoding': 'identity', ...(have > 0 ? { range: `bytes=${have}-` } : {}) },
      signal: controller.signal,
    });
    if (res.status === 416) return; // nothing left to send: the size check decides
    if (!res.ok || !res.body) throw new HubDownloadError(`HTTP ${res.status} for ${url}`, url);
    // A 200 to a Range request means the server ignored it: start over.
    const append = have > 0 && res.status === 206;
    let loaded = append ? have : 0;
    const out = createWriteStream(partial, { flags: append ? 'a' : 'w' });
    const closed = new Promise<void>((resolve, reject) => {
      out.on('close', resolve);
      out.on('error', reject);
    });
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        rearm();
        loaded += chunk.length;
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', r));
        options.onProgress?.({ name, loaded, total });
      }
    } finally {
      out.end();
      await closed;
    }
  } finally {
    clearTimeout(idle);
  }
}
