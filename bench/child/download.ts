/**
 * A fresh process that downloads one model file once and reports how long the read took (its
 * imports excluded: they are module evaluation, not download). `DOWNLOAD_MODE` chooses the reader:
 * - `loader`: the loader's read path (readS3Object through the S3 client the loader's config
 *   builds, into memory, checked against the manifest's size and SHA-256), direct reads on;
 * - `loader-sdk`: the same with direct reads off (every part through the SDK's HTTP client);
 * - `version`: the loader's whole S3 read of the version (fetchModelFiles: manifest, tokenizer,
 *   config and the ONNX file);
 * - `minimal`, `minimal-sha`: bench/minimal-reader.ts, the same parts (the manifest's) and
 *   concurrency as the loader, `minimal-sha` hashing each part as the loader verifies it;
 * - `one-stream`: the minimal reader as one GET (what one connection gives);
 * - `ceiling`: the minimal reader into memory mapped before the clock starts (what Node's HTTP
 *   client moves, without fresh memory's page faults);
 * - `sockets`: the same ranges over raw sockets reading straight into mapped memory
 *   (minimal-reader.ts, socketRead): what Node's sockets move here;
 * - `sockets-fresh-sha`: raw sockets straight into fresh memory, each part hashed: the floor of a
 *   reader that writes each byte once where it stays and verifies it, with no HTTP client.
 * Reports `{ kind: 'download', mode, ms, cpuMs, bytes }` over IPC, then exits.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createModelS3Client, loadModelLoadingConfig } from '../../src/model/loading/config';
import { fetchModelFiles } from '../../src/model/loading/fetch-model-files';
import { readS3Object } from '../../src/model/loading/s3-object';
import { parseModelUri } from '../../src/model/loading/source-uri';
import { minimalRead, socketRead } from '../minimal-reader';

export type DownloadMode =
  | 'loader'
  | 'loader-sdk'
  | 'version'
  | 'minimal'
  | 'minimal-sha'
  | 'one-stream'
  | 'ceiling'
  | 'sockets'
  | 'sockets-fresh-sha';

export interface DownloadReport {
  kind: 'download';
  mode: DownloadMode;
  ms: number;
  /** CPU time of the process (user + system) during the read: what the read costs, less sensitive to other load than `ms`. */
  cpuMs: number;
  bytes: number;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function main(): Promise<DownloadReport> {
  const mode = required('DOWNLOAD_MODE') as DownloadMode;
  const bytes = Number(required('DOWNLOAD_BYTES'));
  const sha256 = required('DOWNLOAD_SHA256');
  // The manifest's per-part hashes (JSON), as the loader gets them.
  const parts = JSON.parse(required('DOWNLOAD_PARTS')) as { bytes: number; sha256: string[] };
  const config = loadModelLoadingConfig();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const cpuMs = (): number => {
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / 1000;
  };
  if (mode === 'loader' || mode === 'loader-sdk' || mode === 'version') {
    const client = createModelS3Client(config);
    if (mode === 'version') {
      const files = await fetchModelFiles(parseModelUri(required('MODEL_URI')), {
        s3: client,
        preferQuantized: true,
        read: config.s3,
      });
      return { kind: 'download', mode, ms: performance.now() - started, cpuMs: cpuMs(), bytes: files.bytes };
    }
    const read = await readS3Object(
      client,
      required('DOWNLOAD_BUCKET'),
      required('DOWNLOAD_KEY'),
      { ...config.s3, directReads: mode === 'loader' },
      { kind: 'buffer' },
      { bytes, sha256, parts },
    );
    return { kind: 'download', mode, ms: performance.now() - started, cpuMs: cpuMs(), bytes: read.bytes };
  }
  const { concurrency = 1 } = config.s3;
  if (mode === 'sockets' || mode === 'sockets-fresh-sha') {
    const fresh = mode === 'sockets-fresh-sha';
    const read = await socketRead({
      url: required('DOWNLOAD_URL'),
      bytes,
      partBytes: parts.bytes,
      concurrency,
      touched: !fresh,
      sha256: fresh,
    });
    const report: DownloadReport = { kind: 'download', mode, ms: read.ms, cpuMs: cpuMs(), bytes };
    // Checked after the clock: an instrument that read the wrong bytes measures nothing.
    if (createHash('sha256').update(read.body).digest('hex') !== sha256)
      throw new Error('raw sockets read other bytes');
    if (read.partSha256 && read.partSha256.join() !== parts.sha256.join())
      throw new Error('a part has another SHA-256');
    return report;
  }
  const one = mode === 'one-stream';
  const read = await minimalRead({
    url: required('DOWNLOAD_URL'),
    bytes,
    partBytes: one ? bytes : parts.bytes,
    concurrency: one ? 1 : concurrency,
    sha256: mode === 'minimal-sha',
    touched: mode === 'ceiling',
  });
  if (read.partSha256 && read.partSha256.join() !== parts.sha256.join()) throw new Error('a part has another SHA-256');
  return { kind: 'download', mode, ms: read.ms, cpuMs: cpuMs(), bytes };
}

main().then(
  (report) => process.send!(report, () => process.exit(0)),
  (err: unknown) =>
    process.send!({ kind: 'error', message: (err as Error)?.stack ?? String(err) }, () => process.exit(1)),
);
