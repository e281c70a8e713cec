import { describe, expect, it } from '@jest/globals';
import { parseModelUri } from '../../src/model/loading/source-uri';
import { isQuantizedName, onnxCandidates, onnxRank, summarizeConfig } from '../../src/model/loading/model-files';
import { backoffDelay, validateBackoff } from '../../src/model/loading/backoff';
import { loadModelLoadingConfig, s3ClientConfig } from '../../src/model/loading/config';
import { toModelLoadError } from '../../src/model/loading/s3-errors';
import { modelName } from '../../src/model/loading/load-model';

describe('parseModelUri', () => {
  it('reads an S3 prefix as a folder, with or without the trailing slash', () => {
    expect(parseModelUri('s3://models/distilbert/')).toEqual({
      kind: 's3-folder',
      uri: 's3://models/distilbert/',
      bucket: 'models',
      prefix: 'distilbert/',
    });
    expect(parseModelUri('s3://models/a/b')).toMatchObject({
      kind: 's3-folder',
      prefix: 'a/b/',
      uri: 's3://models/a/b/',
    });
    expect(parseModelUri('s3://models')).toMatchObject({ kind: 's3-folder', prefix: '' });
  });
  it('reads .tar.gz / .tgz keys as archives', () => {
    expect(parseModelUri('s3://models/bundles/model.tar.gz')).toEqual({
      kind: 's3-archive',
      uri: 's3://models/bundles/model.tar.gz',
      bucket: 'models',
      key: 'bundles/model.tar.gz',
    });
    expect(parseModelUri('s3://models/m.TGZ')).toMatchObject({ kind: 's3-archive' });
  });
  it('resolves local paths and file:// URLs against cwd', () => {
    expect(parseModelUri('models/x', '/srv')).toEqual({
      kind: 'local-folder',
      uri: '/srv/models/x',
      path: '/srv/models/x',
    });
    expect(parseModelUri('file:///opt/m.tar.gz')).toEqual({
      kind: 'local-archive',
      uri: '/opt/m.tar.gz',
      path: '/opt/m.tar.gz',
    });
  });
  it('rejects other schemes, empty values and bad bucket names with the URI in the message', () => {
    expect(() => parseModelUri('https://example.com/m')).toThrow(
      expect.objectContaining({ name: 'InvalidModelUriError', reason: 'INVALID_URI' }),
    );
    expect(() => parseModelUri('  ')).toThrow(/empty/);
    expect(() => parseModelUri('s3://a b/x')).toThrow(
      'Invalid model URI "s3://a b/x": "a b" is not a valid bucket name',
    );
  });
});

describe('model files', () => {
  it('prefers the quantized export unless told otherwise', () => {
    expect(onnxCandidates(true)[0]).toBe('onnx/model_quantized.onnx');
    expect(onnxCandidates(false)[0]).toBe('onnx/model.onnx');
    const names = ['b/onnx/model.onnx', 'b/onnx/model_quantized.onnx', 'b/tokenizer.json'];
    const best = (preferQuantized: boolean) =>
      [...names].sort((a, b) => onnxRank(a, preferQuantized) - onnxRank(b, preferQuantized))[0];
    expect(best(true)).toBe('b/onnx/model_quantized.onnx');
    expect(best(false)).toBe('b/onnx/model.onnx');
    // Any other .onnx name ranks after every candidate (a bundle's only model is still found).
    expect(onnxRank('x/distil.onnx', true)).toBe(onnxCandidates(true).length);
    expect(isQuantizedName('onnx/model_quantized.onnx')).toBe(true);
    expect(isQuantizedName('onnx/model.onnx')).toBe(false);
  });
  it('reads the demo flag, name and positions from config.json defensively', () => {
    expect(
      summarizeConfig({ _generated: { demo: true }, max_position_embeddings: 128, _name_or_path: 'tiny' }),
    ).toEqual({ demo: true, name: 'tiny', maxPositionEmbeddings: 128 });
    expect(summarizeConfig({ _generated: 'yes' })).toEqual({
      demo: false,
      name: undefined,
      maxPositionEmbeddings: undefined,
    });
    expect(summarizeConfig(undefined).demo).toBe(false);
  });
  it('names a model after config or the last URI segment', () => {
    expect(modelName(parseModelUri('s3://bkt/models/distil/'), undefined)).toBe('distil');
    expect(modelName(parseModelUri('s3://bkt/k/bundle.tar.gz'), undefined)).toBe('bundle');
    expect(modelName(parseModelUri('s3://bkt/k/bundle.tar.gz'), 'named')).toBe('named');
  });
});

describe('backoff', () => {
  it('doubles from initialMs and caps at maxMs', () => {
    const o = { initialMs: 100, maxMs: 1000, factor: 2 };
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, o))).toEqual([0, 100, 200, 400, 800, 1000, 1000]);
  });
  it('rejects nonsense with exact messages', () => {
    expect(() => validateBackoff({ initialMs: -1, maxMs: 1, factor: 2 })).toThrow(
      'backoff initialMs must be a number >= 0, got -1',
    );
    expect(() => validateBackoff({ initialMs: 10, maxMs: 5, factor: 2 })).toThrow(
      'backoff maxMs must be >= initialMs (10), got 5',
    );
    expect(() => validateBackoff({ initialMs: 1, maxMs: 5, factor: 0.5 })).toThrow(
      'backoff factor must be >= 1, got 0.5',
    );
  });
});

describe('config', () => {
  it('has defaults and reads the switches', () => {
    const c = loadModelLoadingConfig({}, '/app');
    expect(c).toMatchObject({ modelUri: undefined, preferQuantized: true, cacheDir: '/app/.cache/models' });
    expect(c.hub).toEqual({
      endpoint: 'https://huggingface.co',
      repo: 'Xenova/distilbert-base-cased-distilled-squad',
      revision: 'main',
      timeoutMs: 3000,
    });
    expect(c.s3.forcePathStyle).toBe(false);
    const e = loadModelLoadingConfig({
      MODEL_URI: 's3://b/p/',
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
      MODEL_QUANTIZED: 'false',
      HF_ENDPOINT: 'http://hub/',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '2048',
    });
    expect(e).toMatchObject({ modelUri: 's3://b/p/', preferQuantized: false, hub: { endpoint: 'http://hub' } });
    expect(e.s3.maxInMemoryBytes).toBe(512 * 1024 * 1024);
    expect(s3ClientConfig(e)).toMatchObject({
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    expect(s3ClientConfig(c)).not.toHaveProperty('requestChecksumCalculation');
  });
  it('names the variable when a value is invalid', () => {
    expect(() => loadModelLoadingConfig({ S3_FORCE_PATH_STYLE: 'maybe' })).toThrow(
      'S3_FORCE_PATH_STYLE must be true or false (also 1/0, yes/no, on/off, y/n, t/f; any case), got "maybe"',
    );
    expect(() => loadModelLoadingConfig({ MODEL_RETRY_INITIAL_MS: 'x' })).toThrow(
      'MODEL_RETRY_INITIAL_MS must be an integer >= 0, got "x"',
    );
  });
});

describe('toModelLoadError', () => {
  const o = 's3://b/k';
  it('maps S3 error names and statuses to named errors that name the object', () => {
    expect(toModelLoadError({ name: 'NoSuchKey' }, o, 'b')).toMatchObject({
      name: 'ModelObjectNotFoundError',
      object: o,
      reason: 'OBJECT_NOT_FOUND',
    });
    expect(toModelLoadError({ name: 'NoSuchBucket' }, o, 'b').message).toBe(
      'Bucket "b" does not exist (reading s3://b/k)',
    );
    expect(toModelLoadError({ name: 'AccessDenied' }, o, 'b').reason).toBe('ACCESS_DENIED');
    expect(toModelLoadError({ name: 'Unknown', $metadata: { httpStatusCode: 403 } }, o, 'b').reason).toBe(
      'ACCESS_DENIED',
    );
    expect(toModelLoadError({ name: 'Error', code: 'ECONNREFUSED' }, o, 'b').reason).toBe('UNREACHABLE');
    expect(
      toModelLoadError({ name: 'InternalError', message: 'boom', $metadata: { httpStatusCode: 500 } }, o, 'b').message,
    ).toBe('Error reading s3://b/k: InternalError (HTTP 500): boom');
  });
});
