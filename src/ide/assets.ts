/**
 * The built IDE files (scripts/build-ide.ts), served gzipped by the API on Lambda and locally.
 * Files are read once and kept in memory with their gzip form, so a request costs no I/O.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import fresh from 'fresh';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { invalid, str, type Env } from '../support/env';

export interface IdeAsset {
  contentType: string;
  gzipped: Buffer;
  etag: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.svg': 'image/svg+xml',
  // The demo page (src/demo/demo.html).
  '.html': 'text/html; charset=utf-8',
};

/** The output folder of scripts/build-ide.ts, relative to the repository root. */
export const IDE_BUILD_DIR = path.join('dist', 'ide');

/**
 * Where the built files are: IDE_ASSETS_DIR if set, else `ide/` next to the running bundle
 * (the Lambda package), else dist/ide of the repository (tests, npm start).
 */
export function findIdeAssetsDir(env: Env = process.env): string | null {
  const configured = str(env, 'IDE_ASSETS_DIR');
  // A folder named on purpose that holds no build is a mistake to say, not a default to fall back to.
  if (configured !== undefined && !hasBuild(configured)) {
    throw invalid(
      'IDE_ASSETS_DIR',
      'a folder holding the built IDE (app.js or app.js.gz, from `npm run build:ide`)',
      configured,
    );
  }
  const candidates = [
    configured,
    path.join(__dirname, 'ide'),
    path.resolve(__dirname, '..', '..', IDE_BUILD_DIR),
  ].filter((dir): dir is string => typeof dir === 'string' && dir !== '');
  return candidates.find(hasBuild) ?? null;
}

/** The Lambda package carries only the precompressed files (`app.js.gz`), to stay small. */
function hasBuild(dir: string): boolean {
  return existsSync(path.join(dir, 'app.js')) || existsSync(path.join(dir, 'app.js.gz'));
}

/**
 * A hash of the file's bytes, so a new build always gets a new tag. Weak: the gzipped and the
 * inflated responses are the same file in two content codings, which only a weak tag may share.
 */
function contentEtag(gzipped: Buffer): string {
  return `W/"${createHash('sha256').update(gzipped).digest('base64url').slice(0, 32)}"`;
}

export class IdeAssets {
  private constructor(private readonly files: ReadonlyMap<string, IdeAsset>) {}

  /**
   * Loads every file of `dir`; a precompressed `name.gz` from the build is used when present, and
   * is enough on its own (the Lambda package ships only the `.gz` files).
   */
  static load(dir: string): IdeAssets {
    const files = new Map<string, IdeAsset>();
    const entries = readdirSync(dir);
    const names = new Set([
      ...entries.filter((n) => !n.endsWith('.gz')),
      ...entries.filter((n) => n.endsWith('.gz')).map((n) => n.slice(0, -3)),
    ]);
    for (const name of names) {
      const ext = path.extname(name);
      const contentType = CONTENT_TYPES[ext];
      if (!contentType) continue;
      const gzPath = path.join(dir, `${name}.gz`);
      const gzipped = existsSync(gzPath)
        ? readFileSync(gzPath)
        : gzipSync(readFileSync(path.join(dir, name)), { level: 9 });
      files.set(name, { contentType, gzipped, etag: contentEtag(gzipped) });
    }
    return new IdeAssets(files);
  }

  get(name: string): IdeAsset | undefined {
    return this.files.get(name);
  }

  get size(): number {
    return this.files.size;
  }
}

/** The asset a request path asks for: the last segment of a path ending in `/ide/<file>`. */
export function ideAssetName(requestPath: string): string | null {
  const match = /\/ide\/([A-Za-z0-9._-]+)$/.exec(requestPath);
  return match ? match[1]! : null;
}

export interface StaticResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * The response for one asset. Browsers always accept gzip; a client that does not gets the
 * file inflated (rare, and correct rather than fast).
 */
export function ideAssetResponse(
  asset: IdeAsset | undefined,
  request: { acceptEncoding?: string; ifNoneMatch?: string },
): StaticResponse {
  if (!asset) {
    return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: Buffer.from('Not found\n') };
  }
  const common = {
    'content-type': asset.contentType,
    etag: asset.etag,
    // The file names are not content-hashed, so let browsers cache but always revalidate.
    'cache-control': 'no-cache',
    vary: 'accept-encoding',
  };
  // `fresh` (jshttp) compares If-None-Match as RFC 9110 says: a list, weak comparison, `*`.
  if (request.ifNoneMatch && fresh({ 'if-none-match': request.ifNoneMatch }, { etag: asset.etag })) {
    return { status: 304, headers: common, body: Buffer.alloc(0) };
  }
  if (/\bgzip\b/i.test(request.acceptEncoding ?? '')) {
    return { status: 200, headers: { ...common, 'content-encoding': 'gzip' }, body: asset.gzipped };
  }
  return { status: 200, headers: common, body: gunzipSync(asset.gzipped) };
}
