/**
 * src/model/onnxruntime/load.ts: onnxruntime-node is required only once the registered preparation
 * (the Lambda artifact's unpacking) has succeeded; a failed preparation fails the load and is run
 * again by the next one. And the model loader reports a runtime failure as such, not as a bad model.
 */
import * as path from 'node:path';
import { describe, expect, jest, test } from '@jest/globals';
import { ensureTestModel } from '../../scripts/model-generator';
import { OnnxRuntimeUnavailableError } from '../../src/model/errors';
import { loadModel } from '../../src/model/loading/load-model';

type LoadModule = typeof import('../../src/model/onnxruntime/load');

/** A fresh copy of load.ts: its registration is module state. */
function freshLoadModule(): LoadModule {
  let mod: LoadModule | undefined;
  jest.isolateModules(() => {
    mod = require('../../src/model/onnxruntime/load') as LoadModule;
  });
  return mod!;
}

describe('loadOnnxRuntime', () => {
  test('without a registered preparation it is onnxruntime-node itself', async () => {
    const { loadOnnxRuntime } = freshLoadModule();
    const ort = await loadOnnxRuntime();
    expect(typeof ort.InferenceSession.create).toBe('function');
    expect(typeof ort.Tensor).toBe('function');
  });

  test('the preparation starts at registration, runs once for concurrent loads, and is awaited first', async () => {
    const { prepareOnnxRuntime, loadOnnxRuntime } = freshLoadModule();
    const order: string[] = [];
    let finish!: () => void;
    const step = jest.fn(() => new Promise<void>((resolve) => (finish = () => (order.push('prepared'), resolve()))));
    prepareOnnxRuntime(step);
    expect(step).toHaveBeenCalledTimes(1);
    const loads = [loadOnnxRuntime(), loadOnnxRuntime()].map((p) => p.then(() => order.push('loaded')));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]);
    finish();
    await Promise.all(loads);
    expect(order).toEqual(['prepared', 'loaded', 'loaded']);
    expect(step).toHaveBeenCalledTimes(1);
    await loadOnnxRuntime();
    expect(step).toHaveBeenCalledTimes(1);
  });

  test('a failed preparation rejects the load with its error, and the next load runs it again', async () => {
    const { prepareOnnxRuntime, loadOnnxRuntime } = freshLoadModule();
    const failure = new OnnxRuntimeUnavailableError('/tmp/x', 'no space left on device');
    const step = jest.fn<() => Promise<void>>().mockRejectedValueOnce(failure).mockResolvedValue(undefined);
    prepareOnnxRuntime(step);
    await expect(loadOnnxRuntime()).rejects.toBe(failure);
    const ort = await loadOnnxRuntime();
    expect(typeof ort.InferenceSession.create).toBe('function');
    expect(step).toHaveBeenCalledTimes(2);
  });

  test('a load that keeps the failure (the warm-up) leaves it for the next load to report: one run of the step per load', async () => {
    const { prepareOnnxRuntime, loadOnnxRuntime } = freshLoadModule();
    const failure = new OnnxRuntimeUnavailableError('/tmp/x', 'no space left on device');
    const step = jest.fn<() => Promise<void>>().mockRejectedValueOnce(failure).mockResolvedValue(undefined);
    prepareOnnxRuntime(step);
    await expect(loadOnnxRuntime({ keepFailure: true })).rejects.toBe(failure);
    await expect(loadOnnxRuntime()).rejects.toBe(failure);
    expect(step).toHaveBeenCalledTimes(1);
    const ort = await loadOnnxRuntime({ keepFailure: true });
    expect(typeof ort.InferenceSession.create).toBe('function');
    expect(step).toHaveBeenCalledTimes(2);
  });

  test("an onnxruntime-node that cannot load (its library missing) is RUNTIME_UNAVAILABLE with the loader's message", async () => {
    let mod: LoadModule | undefined;
    jest.isolateModules(() => {
      jest.doMock('onnxruntime-node', () => {
        throw new Error('libonnxruntime.so.1: cannot open shared object file: No such file or directory');
      });
      mod = require('../../src/model/onnxruntime/load') as LoadModule;
    });
    const load = mod!.loadOnnxRuntime();
    // By name: isolateModules gave load.ts its own copy of the errors module.
    await expect(load).rejects.toMatchObject({
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
      '/var/task/dist/lambda/natives/linux-x64/libonnxruntime.so.1.br',
      'cannot unpack',
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
