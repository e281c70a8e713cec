/**
 * /tmp hygiene of the loader: every spilled or partial file is gone after a failure, a retry or a
 * success; folders of a killed process are removed at the next start; a full disk is a coded
 * MODEL_UNAVAILABLE with the reason in the log. Each test gives the loader its own spill folder and
 * lists it afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { create as createTar } from 'tar';
import { startS3, sendS3Error, trackUnhandledRejections, type TestS3 } from '../helpers/s3rver';
import { pushModel } from '../../scripts/model-cli/push';
import { loadModel, type EngineFactory, type LoadModelOptions } from '../../src/model/loading/load-model';
import { createModelProvider } from '../../src/model/loading/provider';
import type { LoadLogger } from '../../src/model/loading/types';
import { ModelUnavailableError } from '../../src/model/loading/errors';
import {
  PROCESS_STARTED_MS,
  SPILL_FOLDER_BASE,
  createOwnedTempFolder,
  removeStaleFolders,
} from '../../src/support/tmp-folders';
import type { WritableFile } from '../../src/model/loading/part-sink';

const TOKENIZER = path.join(__dirname, '../fixtures/bert-base-uncased/tokenizer.json');
const MiB = 1024 * 1024;
const checkRejections = trackUnhandledRejections();

let s3: TestS3;
let work: string;
let modelDir: string;
const onnx = Buffer.concat([Buffer.from('ONNXQ'), randomBytes(3 * MiB)]);

const engine: EngineFactory = async () => ({
  description: { inputNames: ['input_ids'], outputNames: [], usesTokenTypeIds: false, maxPositionEmbeddings: 512 },
  answer: async () => [],
  answerMany: async () => [],
});

/** A fresh spill folder per test, and options that spill anything over 1 MiB. */
async function spillDir(name: string): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  return dir;
}
const opts = (spill: string, over: Partial<LoadModelOptions> = {}): LoadModelOptions => ({
  s3: s3.client,
  preferQuantized: true,
  read: { idleTimeoutMs: 2_000, totalTimeoutMs: 10_000, maxInMemoryBytes: MiB, spillDir: spill, partBytes: MiB },
  createEngine: engine,
  ...over,
});
/** Everything under a folder, recursively (relative paths). */
const contents = (dir: string): string[] =>
  existsSync(dir) ? (readdirSync(dir, { recursive: true }) as string[]).sort() : [];
/** A pid that is certainly not running: a child that has exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid!;

beforeAll(async () => {
  s3 = await startS3(['models']);
  work = await mkdtemp(path.join(os.tmpdir(), 'loading-tmp-'));
  modelDir = path.join(work, 'model');
  await mkdir(path.join(modelDir, 'onnx'), { recursive: true });
  await writeFile(path.join(modelDir, 'onnx/model_quantized.onnx'), onnx);
  await copyFile(TOKENIZER, path.join(modelDir, 'tokenizer.json'));
  await pushModel(modelDir, 's3://models/m/', { client: s3.client });
  await pushModel(modelDir, 's3://models/flat/', { client: s3.client, layout: 'flat' });
});

afterAll(async () => {
  s3.intercept(undefined);
  await s3?.close();
  await rm(work, { recursive: true, force: true });
  checkRejections();
});

describe('stale folders', () => {
  it('removes folders of dead processes and of an earlier process with our pid, keeps ours and others', async () => {
    const dir = await spillDir('stale');
    const dead = `${SPILL_FOLDER_BASE}-${deadPid()}-${PROCESS_STARTED_MS}-abc123`;
    const earlierSelf = `${SPILL_FOLDER_BASE}-${process.pid}-${PROCESS_STARTED_MS - 60_000}-def456`;
    const parent = `${SPILL_FOLDER_BASE}-${process.ppid}-${PROCESS_STARTED_MS}-ghi789`;
    for (const name of [dead, earlierSelf, parent, 'unrelated-folder'])
      await mkdir(path.join(dir, name, 'onnx'), { recursive: true });
    const ours = path.basename(await createOwnedTempFolder(dir, SPILL_FOLDER_BASE));
    expect((await removeStaleFolders(dir, SPILL_FOLDER_BASE)).sort()).toEqual([dead, earlierSelf].sort());
    expect(readdirSync(dir).sort()).toEqual([ours, parent, 'unrelated-folder'].sort());
  });

  it('a load removes a killed process’s spill folder before it starts', async () => {
    const dir = await spillDir('stale-load');
    const dead = path.join(dir, `${SPILL_FOLDER_BASE}-${deadPid()}-${PROCESS_STARTED_MS}-zzz999`);
    await mkdir(dead);
    await writeFile(path.join(dead, '1-model_quantized.onnx'), randomBytes(1000));
    await loadModel('s3://models/m/', opts(dir));
    expect(contents(dir)).toEqual([]);
  });
});

describe('every failure path leaves nothing behind', () => {
  it('success: the spilled model is there for the engine, then gone', async () => {
    const dir = await spillDir('success');
    let during: string[] = [];
    await loadModel(
      's3://models/m/',
      opts(dir, { createEngine: async (src) => ((during = contents(dir)), engine(src)) }),
    );
    expect(during).toHaveLength(2); // the load's folder and the spilled ONNX in it
    expect(during[1]).toMatch(new RegExp(`^${SPILL_FOLDER_BASE}-${process.pid}-\\d+-\\w{6}/1-model_quantized\\.onnx$`));
    expect(contents(dir)).toEqual([]);
  });

  it('the tokenizer fails after the model was spilled: the spilled model is removed', async () => {
    const dir = await spillDir('tokenizer-fails');
    let atFailure: string[] = [];
    s3.intercept((req, res) => {
      if (!req.url?.startsWith('/models/flat/tokenizer.json')) return false;
      // Answer once the model has been written to disk, so the failure comes after the spill.
      const started = Date.now();
      const poll = setInterval(() => {
        const now = contents(dir);
        if (now.some((f) => f.endsWith('model_quantized.onnx')) || Date.now() - started > 3_000) {
          clearInterval(poll);
          setTimeout(() => {
            atFailure = contents(dir);
            sendS3Error(res, 403, 'AccessDenied', 'Access Denied');
          }, 200);
        }
      }, 10);
      return true;
    });
    try {
      await expect(loadModel('s3://models/flat/', opts(dir))).rejects.toMatchObject({ name: 'ModelAccessDeniedError' });
    } finally {
      s3.intercept(undefined);
    }
    expect(atFailure.some((f) => f.endsWith('model_quantized.onnx'))).toBe(true);
    expect(contents(dir)).toEqual([]);
  });

  it('engine creation fails (corrupt model): removed; and three failed attempts through the provider leave nothing', async () => {
    const dir = await spillDir('engine-fails');
    const failing: EngineFactory = async () => {
      throw new Error('Load model from buffer failed: Protobuf parsing failed.');
    };
    const provider = createModelProvider({
      load: () => loadModel('s3://models/m/', opts(dir, { createEngine: failing })),
      backoff: { initialMs: 0, maxMs: 0, factor: 1 },
    });
    for (let i = 0; i < 3; i++) {
      await expect(provider.get()).rejects.toBeInstanceOf(ModelUnavailableError);
      expect(contents(dir)).toEqual([]);
    }
  });

  it('a part cut short on every attempt: the partial spill file is removed', async () => {
    const dir = await spillDir('truncated');
    const { ETag } = await s3.client.send(
      new HeadObjectCommand({ Bucket: 'models', Key: 'flat/onnx/model_quantized.onnx' }),
    );
    s3.intercept((req, res) => {
      if (
        req.method !== 'GET' ||
        !req.url?.includes('/onnx/model_quantized.onnx') ||
        !String(req.headers.range).startsWith(`bytes=${2 * MiB}-`)
      )
        return false;
      res.writeHead(206, {
        'content-length': String(MiB),
        'content-range': `bytes ${2 * MiB}-${3 * MiB - 1}/${onnx.length}`,
        etag: ETag!,
      });
      res.write(onnx.subarray(2 * MiB, 2 * MiB + 1000), () => res.destroy());
      return true;
    });
    try {
      await expect(loadModel('s3://models/flat/', opts(dir))).rejects.toMatchObject({
        name: 'TruncatedModelObjectError',
      });
    } finally {
      s3.intercept(undefined);
    }
    expect(contents(dir)).toEqual([]);
  });

  it('an archive entry that loses to a better-ranked one is removed at once', async () => {
    const dir = await spillDir('archive');
    const bundleDir = path.join(work, 'bundle');
    await mkdir(path.join(bundleDir, 'onnx'), { recursive: true });
    await writeFile(path.join(bundleDir, 'model.onnx'), randomBytes(2 * MiB)); // ranked last, comes first
    await writeFile(path.join(bundleDir, 'onnx/model_quantized.onnx'), onnx);
    await copyFile(TOKENIZER, path.join(bundleDir, 'tokenizer.json'));
    const archive = path.join(work, 'bundle.tar.gz');
    await createTar({ gzip: true, cwd: bundleDir, file: archive }, [
      'model.onnx',
      'onnx/model_quantized.onnx',
      'tokenizer.json',
    ]);
    let during: string[] = [];
    let model: Buffer | undefined;
    await loadModel(
      archive,
      opts(dir, {
        createEngine: async (src) => {
          during = contents(dir);
          model = await readFile(src.model as string);
          return engine(src);
        },
      }),
    );
    expect(model!.equals(onnx)).toBe(true);
    expect(during.filter((f) => f.endsWith('.onnx'))).toEqual([expect.stringMatching(/model_quantized\.onnx$/)]);
    expect(contents(dir)).toEqual([]);
  });
});

describe('a full disk', () => {
  it('ENOSPC while spilling is MODEL_UNAVAILABLE with the reason in the log, and leaves nothing', async () => {
    const dir = await spillDir('enospc');
    const logged: Array<{ message: string; extra?: Record<string, unknown> }> = [];
    const logger: LoadLogger = {
      info: () => undefined,
      warn: () => undefined,
      error: (message, extra) => void logged.push({ message, extra }),
    };
    const openFile = async (p: string): Promise<WritableFile> => {
      const real = await open(p, 'w', 0o600);
      let writes = 0;
      return {
        write: async (buffer, offset, length, position) => {
          if (++writes === 2)
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
              code: 'ENOSPC',
              errno: -28,
              syscall: 'write',
            });
          return real.write(buffer, offset, length, position);
        },
        close: () => real.close(),
      };
    };
    const provider = createModelProvider({ load: () => loadModel('s3://models/m/', opts(dir, { openFile })), logger });
    const err = (await provider.get().catch((e: unknown) => e)) as ModelUnavailableError;
    expect(err).toBeInstanceOf(ModelUnavailableError);
    expect(err.code).toBe('MODEL_UNAVAILABLE');
    expect(err.cause).toMatchObject({ name: 'ModelLocalStorageError', reason: 'LOCAL_STORAGE', code: 'ENOSPC' });
    expect(logged).toHaveLength(1);
    expect(logged[0]!.message).toBe('model load failed');
    expect(String(logged[0]!.extra?.reason)).toMatch(
      new RegExp(
        `^Cannot write ${dir}/${SPILL_FOLDER_BASE}-\\d+-\\d+-\\w{6}/1-model_quantized\\.onnx while loading s3://models/m/versions/[^/]+/onnx/model_quantized\\.onnx: no space left on the device \\(ENOSPC\\)$`,
      ),
    );
    expect(contents(dir)).toEqual([]);
  });
});
