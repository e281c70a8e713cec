import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One repo revision as the Hub would serve it. */
export interface HubRepo {
  repo: string;
  revision: string;
  commit: string;
  files: Record<string, Buffer>;
}

export interface HubServer {
  endpoint: string;
  /** Every request: method, url, range header. */
  log: Array<{ method: string; url: string; range: string | undefined }>;
  /** The next full GET of `file` sends `afterBytes` bytes and then cuts the connection. */
  cutNext(file: string, afterBytes: number): void;
  /** Serve wrong bytes for `file` (same size), to test checksum verification. */
  corrupt(file: string): void;
  /** Answer 401 for every path of `repo`, as huggingface.co does for an unknown or private repo without a token. */
  refuse(repo: string): void;
  close(): Promise<void>;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

/**
 * A local stand-in for huggingface.co: `/<repo>/resolve/<revision>/<path>` with the Hub's headers
 * (`X-Repo-Commit`, and for LFS files a 302 carrying `X-Linked-Size` / `X-Linked-Etag` to a CDN
 * path), Range requests (206/416), and faults on demand.
 */
export async function startHubServer(repos: HubRepo[]): Promise<HubServer> {
  const log: HubServer['log'] = [];
  const cuts = new Map<string, number>();
  const corrupted = new Set<string>();
  const refused = new Set<string>();
  const blobs = new Map<string, { data: Buffer; file: string }>();
  for (const r of repos) {
    for (const [file, data] of Object.entries(r.files)) blobs.set(sha256(data), { data, file });
  }
  const serveBytes = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    data: Buffer,
    file: string,
    extra: Record<string, string>,
  ) => {
    const range = req.headers.range;
    const body = corrupted.has(file) ? Buffer.alloc(data.length, 7) : data;
    if (range) {
      const m = /^bytes=(\d+)-(\d*)$/.exec(range);
      const start = Number(m?.[1] ?? 0);
      const end = m?.[2] ? Number(m[2]) : body.length - 1;
      if (!m || start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` });
        return res.end();
      }
      res.writeHead(206, {
        ...extra,
        'accept-ranges': 'bytes',
        'content-length': end - start + 1,
        'content-range': `bytes ${start}-${end}/${body.length}`,
      });
      return res.end(req.method === 'HEAD' ? undefined : body.subarray(start, end + 1));
    }
    res.writeHead(200, { ...extra, 'accept-ranges': 'bytes', 'content-length': body.length });
    if (req.method === 'HEAD') return res.end();
    const cut = cuts.get(file);
    if (cut !== undefined) {
      cuts.delete(file);
      res.write(body.subarray(0, cut), () => setTimeout(() => res.destroy(), 10));
      return;
    }
    res.end(body);
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    log.push({ method: req.method ?? '', url: url.pathname, range: req.headers.range });
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    if (cdn) {
      const blob = blobs.get(cdn[1]!);
      if (!blob) return void res.writeHead(404).end();
      return serveBytes(req, res, blob.data, blob.file, {
        etag: `"${cdn[1]}"`,
        'content-type': 'application/octet-stream',
      });
    }
    for (const repo of refused) {
      if (!url.pathname.startsWith(`/${repo}/`)) continue;
      res.writeHead(401, { 'x-error-code': 'RepoNotFound', 'x-error-message': 'Invalid username or password.' });
      return res.end('Repository not found');
    }
    for (const r of repos) {
      const prefix = `/${r.repo}/resolve/${r.revision}/`;
      if (!url.pathname.startsWith(prefix)) continue;
      const file = decodeURIComponent(url.pathname.slice(prefix.length));
      const data = r.files[file];
      if (!data) {
        res.writeHead(404, { 'x-error-code': 'EntryNotFound', 'x-error-message': 'Entry not found' });
        return res.end('Entry not found');
      }
      const common = { 'x-repo-commit': r.commit };
      // The .onnx files are LFS files: a 302 to a CDN URL, ETag = sha256.
      if (file.endsWith('.onnx')) {
        const sum = sha256(data);
        res.writeHead(302, {
          ...common,
          location: `http://${req.headers.host}/cdn/${sum}`,
          etag: `"${sum}"`,
          'x-linked-etag': `"${sum}"`,
          'x-linked-size': String(data.length),
          'content-length': 0,
        });
        return res.end();
      }
      return serveBytes(req, res, data, file, { ...common, etag: `"${gitSha1(data)}"`, 'content-type': 'text/plain' });
    }
    res.writeHead(404, { 'x-error-code': 'RepoNotFound' });
    res.end('Repository not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    log,
    cutNext: (file, afterBytes) => void cuts.set(file, afterBytes),
    corrupt: (file) => void corrupted.add(file),
    refuse: (repo) => void refused.add(repo),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
