/** Pure parts of versioned models and ranged reads: manifest checks, version ids, settings, names. */
import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { manifestProblem, parseManifest, versionId } from '../../src/model/loading/manifest';
import { loadModelLoadingConfig } from '../../src/model/loading/config';
import { totalFromContentRange } from '../../src/model/loading/byte-ranges';
import { ownerOf } from '../../src/support/tmp-folders';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const good = {
  format: 1,
  version: '20261201T102030Z-0123456789ab',
  folder: 'versions/20261201T102030Z-0123456789ab/',
  source: 'org/model@abc',
  createdAt: '2026-12-01T10:20:30.000Z',
  files: [{ path: 'onnx/model.onnx', bytes: 10, sha256: hex('x') }],
};

/** 2.5 MiB: three 1 MiB parts. */
const big = { path: 'onnx/model.onnx', bytes: 2.5 * (1 << 20), sha256: hex('big') };

describe('manifest', () => {
  it('accepts a well-formed manifest, with or without per-part hashes', () => {
    expect(manifestProblem(good)).toBeNull();
    const parts = { bytes: 1 << 20, sha256: [hex('a'), hex('b'), hex('c')] };
    expect(manifestProblem({ ...good, files: [{ ...big, parts }] })).toBeNull();
    expect(parseManifest(JSON.stringify(good), 's3://b/p/model-manifest.json').version).toBe(good.version);
  });

  it.each([
    ['not an object', [], 'not a JSON object'],
    ['another format', { ...good, format: 2 }, 'unknown format 2'],
    ['no version', { ...good, version: '' }, 'version missing'],
    [
      'a folder outside the prefix',
      { ...good, folder: '../other/' },
      'folder "../other/" is not a relative folder ending in /',
    ],
    [
      'an absolute folder',
      { ...good, folder: '/versions/x/' },
      'folder "/versions/x/" is not a relative folder ending in /',
    ],
    [
      'a path climbing out',
      { ...good, files: [{ ...good.files[0], path: 'onnx/../../x' }] },
      'file path "onnx/../../x" is not a relative path',
    ],
    ['a file twice', { ...good, files: [good.files[0], good.files[0]] }, 'onnx/model.onnx listed twice'],
    ['a bad size', { ...good, files: [{ ...good.files[0], bytes: -1 }] }, 'onnx/model.onnx: bytes is not a size'],
    [
      'a size over the ceiling',
      { ...good, files: [{ ...good.files[0], bytes: 1e15 }] },
      'onnx/model.onnx: 1000000000000000 bytes is over the ceiling of 17179869184',
    ],
    [
      'a bad hash',
      { ...good, files: [{ ...good.files[0], sha256: 'abc' }] },
      'onnx/model.onnx: sha256 is not a hex SHA-256',
    ],
    ['no files', { ...good, files: [] }, 'files missing'],
    [
      'per-part hashes that do not cover the file',
      { ...good, files: [{ ...big, parts: { bytes: 1 << 20, sha256: [hex('a')] } }] },
      'onnx/model.onnx: parts sha256 must list 3 hashes (one per 1048576 bytes)',
    ],
    [
      'parts too small',
      { ...good, files: [{ ...big, parts: { bytes: 1024, sha256: [hex('a')] } }] },
      'onnx/model.onnx: parts bytes must be an integer of at least 65536',
    ],
    [
      'a bad part hash',
      { ...good, files: [{ ...big, parts: { bytes: 2 << 20, sha256: [hex('a'), 'abc'] } }] },
      'onnx/model.onnx: parts sha256 lists a value that is not a hex SHA-256',
    ],
  ])('refuses %s', (_name, value, problem) => {
    expect(manifestProblem(value)).toBe(problem);
  });

  it('names the manifest object when it is not JSON', () => {
    expect(() => parseManifest('{', 's3://b/p/model-manifest.json')).toThrow(
      /^Invalid model s3:\/\/b\/p\/model-manifest\.json: the manifest is not valid JSON/,
    );
  });

  it('version ids sort by time and differ by content', () => {
    const a = versionId(good.files, new Date('2026-12-01T10:20:30.999Z'), hex);
    const b = versionId([{ ...good.files[0]!, bytes: 11 }], new Date('2026-12-01T10:20:30.999Z'), hex);
    const later = versionId(good.files, new Date('2026-12-01T10:20:31Z'), hex);
    expect(a).toMatch(/^20261201T102030Z-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect([later, a].sort()).toEqual([a, later]);
  });
});

describe('ranged-read settings and parsing', () => {
  it('reads MODEL_S3_PART_BYTES / _CONCURRENCY / _PART_ATTEMPTS with defaults, 0 meaning one stream', () => {
    expect(loadModelLoadingConfig({}).s3).toMatchObject({
      partBytes: 8 * 1024 * 1024,
      concurrency: 8,
      partAttempts: 3,
    });
    expect(loadModelLoadingConfig({ MODEL_S3_PART_BYTES: '0' }).s3.partBytes).toBe(Infinity);
    expect(
      loadModelLoadingConfig({
        MODEL_S3_PART_BYTES: '16777216',
        MODEL_S3_CONCURRENCY: '4',
        MODEL_S3_PART_ATTEMPTS: '1',
      }).s3,
    ).toMatchObject({
      partBytes: 16777216,
      concurrency: 4,
      partAttempts: 1,
    });
    expect(() => loadModelLoadingConfig({ MODEL_S3_CONCURRENCY: '0' })).toThrow(
      'MODEL_S3_CONCURRENCY must be an integer from 1 to 64, got "0"',
    );
    expect(() => loadModelLoadingConfig({ MODEL_S3_PART_BYTES: 'lots' })).toThrow(
      'MODEL_S3_PART_BYTES must be an integer >= 0 (0 reads each object as one stream), got "lots"',
    );
  });

  it('takes the total size from Content-Range', () => {
    expect(totalFromContentRange('bytes 0-8388607/70000000')).toBe(70000000);
    expect(totalFromContentRange('bytes */70000000')).toBeUndefined();
    expect(totalFromContentRange(undefined)).toBeUndefined();
  });

  it('reads the owner of a temporary folder from its name, and nothing else', () => {
    expect(ownerOf('qa-model-load-123-1764584000000-AbC123', 'qa-model-load')).toEqual({
      pid: 123,
      started: 1764584000000,
    });
    expect(ownerOf('qa-model-load-123-AbC123', 'qa-model-load')).toBeNull();
    expect(ownerOf('other-123-1764584000000-AbC123', 'qa-model-load')).toBeNull();
  });
});
