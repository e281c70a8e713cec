/**
 * Versioned, atomic model folders: `model push` writes a version's files, then the manifest; the
 * loader reads exactly the manifest's files and checks them. Loads go through the throttling proxy
 * (so they take as long as from S3, and a push has time to land in the middle of one); the fake
 * engine checks which variant each file came from. Expected hashes are computed here from the
 * folders' bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { emulatorClient, startS3, trackUnhandledRejections, type TestS3 } from '../helpers/s3rver';
import { startThrottleProxy, type ThrottleProxy } from '../helpers/throttle-proxy';
import { pushModel } from '../../scripts/model-cli/push';
import { describeUri } from '../../scripts/model-cli/info';
import { loadModel, type EngineFactory, type LoadModelOptions } from '../../src/model/loading/load-model';
import { parseManifest, type ModelManifest } from '../../src/model/loading/manifest';

const TOKENIZER = path.join(__dirname, '../fixtures/bert-base-uncased/tokenizer.json');
const MiB = 1024 * 1024;
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const checkRejections = trackUnhandledRejections();

let s3: TestS3;
let proxy: ThrottleProxy;
let client: S3Client;
let work: string;
const folders: Record<'A' | 'B', string> = { A: '', B: '' };
const onnxBytes: Record<'A' | 'B', Buffer> = { A: Buffer.alloc(0), B: Buffer.alloc(0) };

interface Seen {
  onnx: string;
  tokenizer: string;
  config: string;
}

/** Reads each file's variant marker: the ONNX's first bytes, the tokenizer's and config's `_variant`. */
const variantEngine =
  (seen: Seen[]): EngineFactory =>
  async (src) => {
    const bytes = typeof src.model === 'string' ? await readFile(src.model) : Buffer.from(src.model);
    seen.push({
      onnx: bytes.subarray(0, 10).toString(),
      tokenizer: String((JSON.parse(src.tokenizerJson) as { _variant?: string })._variant),
      config: String(src.config?._variant),
    });
    return {
      description: { inputNames: ['input_ids'], outputNames: [], usesTokenTypeIds: false, maxPositionEmbeddings: 512 },
      answer: async () => [],
      answerMany: async () => [],
    };
  };

const opts = (seen: Seen[], over: Partial<LoadModelOptions> = {}): LoadModelOptions => ({
  s3: client,
  preferQuantized: true,
  read: { idleTimeoutMs: 5_000, totalTimeoutMs: 30_000, maxInMemoryBytes: 1 << 30, spillDir: work },
  createEngine: variantEngine(seen),
  ...over,
});

/** Variant A: int8 only (onnx/model_quantized.onnx). Variant B: fp32 only (onnx/model.onnx). */
async function makeVariant(name: 'A' | 'B'): Promise<string> {
  const dir = path.join(work, `variant-${name}`);
  await mkdir(path.join(dir, 'onnx'), { recursive: true });
  onnxBytes[name] = Buffer.concat([Buffer.from(`VARIANT-${name}:`), randomBytes(10 * MiB)]);
  await writeFile(path.join(dir, name === 'A' ? 'onnx/model_quantized.onnx' : 'onnx/model.onnx'), onnxBytes[name]);
  const tokenizer = JSON.parse(await readFile(TOKENIZER, 'utf8')) as Record<string, unknown>;
  await writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify({ ...tokenizer, _variant: `VARIANT-${name}:` }));
  await writeFile(
    path.join(dir, 'config.json'),
    JSON.stringify({ _name_or_path: `variant-${name}`, _variant: `VARIANT-${name}:` }),
  );
  return dir;
}

async function getManifest(prefix: string): Promise<ModelManifest> {
  const res = await s3.client.send(new GetObjectCommand({ Bucket: 'models', Key: `${prefix}model-manifest.json` }));
  return parseManifest(await res.Body!.transformToString(), prefix);
}

beforeAll(async () => {
  s3 = await startS3(['models']);
  proxy = await startThrottleProxy(s3.endpoint);
  client = emulatorClient(proxy.endpoint);
  work = await mkdtemp(path.join(os.tmpdir(), 'loading-manifest-'));
  folders.A = await makeVariant('A');
  folders.B = await makeVariant('B');
});

afterAll(async () => {
  client?.destroy();
  await proxy?.close();
  await s3?.close();
  await rm(work, { recursive: true, force: true });
  checkRejections();
});

describe('model push writes a version, then its manifest', () => {
  it('uploads the files under versions/<id>/ and the manifest last, listing sizes and SHA-256', async () => {
    // Through the proxy, unthrottled, so the order of the PUTs is on record.
    Object.assign(proxy.settings, { bytesPerSecond: 0, firstByteMs: 0 });
    const mark = proxy.log.length;
    try {
      await pushModel(folders.A, 's3://models/m/', { client, now: () => new Date('2026-12-01T10:20:30.456Z') });
    } finally {
      Object.assign(proxy.settings, { bytesPerSecond: 85e6, firstByteMs: 30 });
    }
    const manifest = await getManifest('m/');
    expect(manifest.version).toMatch(/^20261201T102030Z-[0-9a-f]{12}$/);
    expect(manifest).toMatchObject({
      format: 1,
      folder: `versions/${manifest.version}/`,
      source: folders.A,
      createdAt: '2026-12-01T10:20:30.456Z',
    });
    // Files over one 8 MiB part also list each part's SHA-256 (the ONNX file: 10 MiB, two parts).
    const partHashes = (bytes: Buffer) =>
      bytes.length > 8 * MiB
        ? { parts: { bytes: 8 * MiB, sha256: [sha(bytes.subarray(0, 8 * MiB)), sha(bytes.subarray(8 * MiB))] } }
        : {};
    const expected = await Promise.all(
      ['config.json', 'onnx/model_quantized.onnx', 'tokenizer.json'].map(async (p) => {
        const bytes = await readFile(path.join(folders.A, p));
        return { path: p, bytes: bytes.length, sha256: sha(bytes), ...partHashes(bytes) };
      }),
    );
    expect(expected[1]).toHaveProperty('parts');
    expect(manifest.files).toEqual(expected);
    const writes = proxy.log.slice(mark).filter((e) => e.method === 'PUT' || e.method === 'POST');
    expect(writes.at(-1)!.path).toBe('/models/m/model-manifest.json');
    expect(writes.filter((e) => e.path === '/models/m/model-manifest.json')).toHaveLength(1);
    expect(writes.slice(0, -1).every((e) => e.path.startsWith(`/models/m/versions/${manifest.version}/`))).toBe(true);
  });

  it('the loader reads the manifest, then exactly its files (no name probing), checked; info has the version', async () => {
    const seen: Seen[] = [];
    const mark = proxy.log.length;
    const { info } = await loadModel('s3://models/m/', opts(seen));
    const manifest = await getManifest('m/');
    expect(seen).toEqual([{ onnx: 'VARIANT-A:', tokenizer: 'VARIANT-A:', config: 'VARIANT-A:' }]);
    expect(info).toMatchObject({
      version: manifest.version,
      quantized: true,
      name: 'variant-A',
      bytes: manifest.files.reduce((n, f) => n + f.bytes, 0),
    });
    // The ONNX object's ETag, as S3 reports it.
    const head = await s3.client.send(
      new HeadObjectCommand({ Bucket: 'models', Key: `m/${manifest.folder}onnx/model_quantized.onnx` }),
    );
    expect(info.etag).toBe(head.ETag);
    expect(info.etag).toMatch(/^"[0-9a-f]{32}(-\d+)?"$/);
    const paths = new Set(
      proxy.log
        .slice(mark)
        .filter((e) => e.method === 'GET')
        .map((e) => e.path),
    );
    const root = `/models/m/versions/${manifest.version}/`;
    expect([...paths].sort()).toEqual(
      [
        '/models/m/model-manifest.json',
        `${root}config.json`,
        `${root}onnx/model_quantized.onnx`,
        `${root}tokenizer.json`,
      ].sort(),
    );
  });

  it('a part reset mid-body during a cold load is fetched again alone, and the model is byte-identical', async () => {
    const manifest = await getManifest('m/');
    const onnxPath = `/models/m/${manifest.folder}onnx/model_quantized.onnx`;
    const secondPart = `bytes=${8 * MiB}-${onnxBytes.A.length - 1}`;
    let resets = 0;
    proxy.faults((req) =>
      req.path === onnxPath && req.range === secondPart && resets++ === 0
        ? { kind: 'reset', afterBytes: 100_000 }
        : undefined,
    );
    const mark = proxy.log.length;
    let model: Buffer | undefined;
    try {
      await loadModel(
        's3://models/m/',
        opts([], {
          createEngine: async (src) => ((model = Buffer.from(src.model as Uint8Array)), variantEngine([])(src)),
        }),
      );
    } finally {
      proxy.faults(undefined);
    }
    expect(model!.equals(onnxBytes.A)).toBe(true);
    const gets = proxy.log.slice(mark).filter((e) => e.path === onnxPath);
    expect(gets.map((e) => `${e.range} ${e.fault ?? 'ok'}`).sort()).toEqual(
      [`bytes=0-${8 * MiB - 1} ok`, `${secondPart} ok`, `${secondPart} reset`].sort(),
    );
  });

  it('an fp32-only push over an int8 one loads the fp32 export with its own tokenizer (the old int8 file is not listed)', async () => {
    await pushModel(folders.B, 's3://models/m/', { client: s3.client });
    const seen: Seen[] = [];
    const { info } = await loadModel('s3://models/m/', opts(seen));
    expect(seen).toEqual([{ onnx: 'VARIANT-B:', tokenizer: 'VARIANT-B:', config: 'VARIANT-B:' }]);
    expect(info.quantized).toBe(false);
    expect(info.version).toBe((await getManifest('m/')).version);
  });

  it('keeps the newest two versions and deletes older ones; model info shows the version', async () => {
    await pushModel(folders.A, 's3://models/m/', { client: s3.client, now: () => new Date(Date.now() + 5_000) });
    const listing = await s3.client.send(new ListObjectsV2Command({ Bucket: 'models', Prefix: 'm/versions/' }));
    const versions = [...new Set((listing.Contents ?? []).map((o) => o.Key!.split('/')[2]))].sort().reverse();
    const manifest = await getManifest('m/');
    expect(versions).toHaveLength(2);
    expect(versions[0]).toBe(manifest.version);
    const info = await describeUri('s3://models/m/', s3.client);
    expect(info).toMatchObject({ version: manifest.version, versions, manifest: { source: folders.A } });
    expect(info.files.map((f) => f.path)).toEqual(manifest.files.map((f) => f.path));
  });

  it('a file whose bytes do not match the manifest fails the load with ModelChecksumError naming it', async () => {
    await pushModel(folders.A, 's3://models/tampered/', { client: s3.client });
    const manifest = await getManifest('tampered/');
    const key = `tampered/${manifest.folder}tokenizer.json`;
    const original = await readFile(path.join(folders.A, 'tokenizer.json'));
    // Same size, one byte changed: only the hash can tell.
    const changed = Buffer.from(original);
    changed[changed.length - 2] = changed[changed.length - 2]! ^ 1;
    await s3.client.send(new PutObjectCommand({ Bucket: 'models', Key: key, Body: changed }));
    await expect(loadModel('s3://models/tampered/', opts([]))).rejects.toMatchObject({
      name: 'ModelChecksumError',
      object: `s3://models/${key}`,
      message: `Checksum mismatch for s3://models/${key}: SHA-256 is ${sha(changed)}, the manifest lists ${sha(original)}`,
    });
  });

  it('a large file damaged at rest fails with ModelChecksumError naming its part; a manifest without per-part hashes still loads', async () => {
    await pushModel(folders.A, 's3://models/parts/', { client: s3.client });
    const manifest = await getManifest('parts/');
    const onnx = manifest.files.find((f) => f.path === 'onnx/model_quantized.onnx')!;
    expect(onnx.parts?.sha256).toHaveLength(2);
    const key = `parts/${manifest.folder}${onnx.path}`;
    const changed = Buffer.from(onnxBytes.A);
    changed[9 * MiB] = changed[9 * MiB]! ^ 1;
    await s3.client.send(new PutObjectCommand({ Bucket: 'models', Key: key, Body: changed }));
    await expect(loadModel('s3://models/parts/', opts([]))).rejects.toMatchObject({
      name: 'ModelChecksumError',
      object: `s3://models/${key}`,
      message: `Checksum mismatch for s3://models/${key}: bytes ${8 * MiB}-${onnxBytes.A.length - 1} have SHA-256 ${sha(changed.subarray(8 * MiB))}, the manifest lists ${onnx.parts!.sha256[1]}`,
    });
    // The same version as an older push wrote it (no per-part hashes), the file intact again.
    await s3.client.send(new PutObjectCommand({ Bucket: 'models', Key: key, Body: onnxBytes.A }));
    const older = { ...manifest, files: manifest.files.map(({ parts: _parts, ...f }) => f) };
    await s3.client.send(
      new PutObjectCommand({ Bucket: 'models', Key: 'parts/model-manifest.json', Body: JSON.stringify(older) }),
    );
    const seen: Seen[] = [];
    const { info } = await loadModel('s3://models/parts/', opts(seen));
    expect(seen).toEqual([{ onnx: 'VARIANT-A:', tokenizer: 'VARIANT-A:', config: 'VARIANT-A:' }]);
    expect(info.version).toBe(manifest.version);
  });

  it('a manifest that is not valid is an InvalidModelError naming it', async () => {
    await s3.client.send(
      new PutObjectCommand({
        Bucket: 'models',
        Key: 'badmanifest/model-manifest.json',
        Body: '{"format":1,"version":"x","folder":"../","source":"s","createdAt":"t","files":[]}',
      }),
    );
    await expect(loadModel('s3://models/badmanifest/', opts([]))).rejects.toThrow(
      'Invalid model s3://models/badmanifest/model-manifest.json: invalid manifest: folder "../" is not a relative folder ending in /',
    );
  });
});

describe('a push over a live prefix never produces a mixed load', () => {
  // With `layout: 'flat'` for these pushes (the pre-manifest upload) this same loop sees dozens of
  // mixed loads (e.g. A's ONNX and tokenizer with B's config.json): checked when it was written.
  it('cold-starts in a loop while versions A and B are pushed in turn', async () => {
    await pushModel(folders.A, 's3://models/live/', { client: s3.client });
    const seen: Seen[] = [];
    const failures: string[] = [];
    const pushes: Array<{ start: number; end: number }> = [];
    const loads: Array<{ start: number; end: number }> = [];
    let pushing = true;
    const pusher = (async () => {
      try {
        for (const v of ['B', 'A', 'B', 'A'] as const) {
          const start = performance.now();
          await pushModel(folders[v], 's3://models/live/', { client: s3.client });
          const end = performance.now();
          pushes.push({ start, end });
          // Each version is loaded at least once before the next push (however slow a busy machine
          // makes the loads; bounded), then about one load's time more, so that a load never sees
          // its version pruned.
          for (const until = end + 30_000; !loads.some((l) => l.start > end) && performance.now() < until;) {
            await new Promise((r) => setTimeout(r, 20));
          }
          await new Promise((r) => setTimeout(r, 400));
        }
      } finally {
        pushing = false;
      }
    })();
    const loader = async (): Promise<void> => {
      // Bounded: the pusher ends after four pushes; each load has its own deadline.
      while (pushing) {
        const start = performance.now();
        await loadModel('s3://models/live/', opts(seen)).catch(
          (e: Error) => void failures.push(`${e.name}: ${e.message}`),
        );
        loads.push({ start, end: performance.now() });
      }
    };
    await Promise.all([pusher, loader(), loader()]);
    const mixed = seen.filter((s) => s.onnx !== s.tokenizer || s.onnx !== s.config);
    expect(mixed).toEqual([]);
    expect(failures).toEqual([]);
    expect(seen.length).toBeGreaterThanOrEqual(6);
    // The race was really run: both versions were loaded, and loads overlapped pushes.
    expect(new Set(seen.map((s) => s.onnx))).toEqual(new Set(['VARIANT-A:', 'VARIANT-B:']));
    const overlapping = loads.filter((l) => pushes.some((p) => l.start < p.end && l.end > p.start));
    expect(overlapping.length).toBeGreaterThanOrEqual(2);
  });
});
