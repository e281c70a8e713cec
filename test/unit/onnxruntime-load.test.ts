/**
 * src/model/onnxruntime/load.ts: onnxruntime-node is required when first asked for, and one that
 * cannot load is RUNTIME_UNAVAILABLE; the model loader reports a runtime failure as such, not as a
 * bad model.
 */
import * as path from 'node:path';
import { describe, expect, jest, test } from '@jest/globals';
import { ensureTestModel } from '../../scripts/model-generator';
import { OnnxRuntimeUnavailableError } from '../../src/model/errors';
import { loadModel } from '../../src/model/loading/load-model';

type LoadModule = typeof import('../../src/model/onnxruntime/load');

describe('loadOnnxRuntime', () => {
  test('is onnxruntime-node itself', () => {
    let mod: LoadModule | undefined;
    jest.isolateModules(() => {
      mod = require('../../src/model/onnxruntime/load') as LoadModule;
    });
    const ort = mod!.loadOnnxRuntime();
    expect(typeof ort.InferenceSession.create).toBe('function');
    expect(typeof ort.Tensor).toBe('function');
  });

  test("an onnxruntime-node that cannot load (its library missing) is RUNTIME_UNAVAILABLE with the loader's message", () => {
    let mod: LoadModule | undefined;
    jest.isolateModules(() => {
      jest.doMock('onnxruntime-node', () => {
        throw new Error('libonnxruntime.so.1: cannot open shared object file: No such file or directory');
      });
      mod = require('../../src/model/onnxruntime/load') as LoadModule;
    });
    let thrown: unknown;
    try {
      mod!.loadOnnxRuntime();
    } catch (err) {
      thrown = err;
    }
    // By name: isolateModules gave load.ts its own copy of the errors module.
    expect(thrown).toMatchObject({
      name: 'OnnxRuntimeUnavailableError',
      reason: 'RUNTIME_UNAVAILABLE',
      object: 'onnxruntime-node',
      message: expect.stringContaining('cannot load: libonnxruntime.so.1: cannot open shared object file'),
    });
    jest.dontMock('onnxruntime-node');
  });
});

describe('loadModel with an onnxruntime that cannot be made ready', () => {
  test('reports RUNTIME_UNAVAILABLE naming the runtime file, not INVALID_MODEL blaming the model', async () => {
    const dir = await ensureTestModel({ size: 'tiny', variant: 'distilbert' });
    const failure = new OnnxRuntimeUnavailableError(
      'onnxruntime-node',
      'cannot load: libonnxruntime.so.1: cannot open shared object file',
    );
    const load = loadModel(path.resolve(dir), {
      preferQuantized: true,
      read: { idleTimeoutMs: 1000, totalTimeoutMs: 5000, maxInMemoryBytes: 1e9, spillDir: '/tmp' },
      createEngine: () => Promise.reject(failure),
    });
    await expect(load).rejects.toBe(failure);
    await expect(load).rejects.toMatchObject({ reason: 'RUNTIME_UNAVAILABLE', object: failure.object });
  });
});
