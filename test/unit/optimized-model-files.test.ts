/** Where `model optimize`'s file ranks among the ONNX candidates, and which sessions skip re-optimization. */
import { describe, expect, it } from '@jest/globals';
import { loadModelLoadingConfig } from '../../src/model/loading/config';
import {
  isOptimizedName,
  isQuantizedName,
  onnxCandidates,
  onnxRank,
  optimizedName,
  ortFormatName,
} from '../../src/model/loading/model-files';
import { sessionOptions } from '../../src/model/onnx-model';

describe('optimized ONNX files', () => {
  it('are named beside the file they were made from, and keep its precision', () => {
    expect(optimizedName('onnx/model_quantized.onnx')).toBe('onnx/model_quantized.optimized.onnx');
    expect(optimizedName('model.onnx')).toBe('model.optimized.onnx');
    expect(isQuantizedName(optimizedName('onnx/model_quantized.onnx'))).toBe(true);
    expect(isQuantizedName(optimizedName('onnx/model.onnx'))).toBe(false);
    expect(isOptimizedName('s3://b/p/versions/v/onnx/model_quantized.optimized.onnx')).toBe(true);
    // optimum's ORTOptimizer output is a standard graph that still needs the runtime's optimizer.
    expect(isOptimizedName('onnx/model_optimized.onnx')).toBe(false);
  });

  it('come just before their standard file when preferred, never before the other precision', () => {
    expect(onnxCandidates(true, true).slice(0, 4)).toEqual([
      'onnx/model_quantized.optimized.onnx',
      'onnx/model_quantized.onnx',
      'onnx/model.optimized.onnx',
      'onnx/model.onnx',
    ]);
    expect(onnxCandidates(false, true)[0]).toBe('onnx/model.optimized.onnx');
    // Not preferred: the optimized files are not candidates at all (the standard file is served).
    expect(onnxCandidates(true, false)).not.toContain('onnx/model_quantized.optimized.onnx');
    const names = ['b/onnx/model.onnx', 'b/onnx/model_quantized.onnx', 'b/onnx/model_quantized.optimized.onnx'];
    const best = (q: boolean, o: boolean) => [...names].sort((a, b) => onnxRank(a, q, o) - onnxRank(b, q, o))[0];
    expect(best(true, true)).toBe('b/onnx/model_quantized.optimized.onnx');
    expect(best(true, false)).toBe('b/onnx/model_quantized.onnx');
    expect(best(false, true)).toBe('b/onnx/model.onnx');
  });

  it("ORT-format files: only the running onnxruntime's, first among a standard file's siblings", () => {
    expect(ortFormatName('onnx/model_quantized.onnx', '1.30.0')).toBe('onnx/model_quantized.onnxruntime-1.30.0.ort');
    expect(isOptimizedName('onnx/model_quantized.onnxruntime-1.30.0.ort')).toBe(true);
    expect(isQuantizedName('onnx/model.onnxruntime-1.30.0.ort')).toBe(false);
    expect(onnxCandidates(true, true, '1.30.0').slice(0, 4)).toEqual([
      'onnx/model_quantized.onnxruntime-1.30.0.ort',
      'onnx/model_quantized.optimized.onnx',
      'onnx/model_quantized.onnx',
      'onnx/model.onnxruntime-1.30.0.ort',
    ]);
    // Another version's file is no candidate at all; nor is any without preferOptimized.
    expect(onnxCandidates(true, true, '1.31.0')).not.toContain('onnx/model_quantized.onnxruntime-1.30.0.ort');
    expect(onnxCandidates(true, false, '1.30.0').some((c) => c.endsWith('.ort'))).toBe(false);
    const names = [
      'b/onnx/model_quantized.onnx',
      'b/onnx/model_quantized.optimized.onnx',
      'b/onnx/model_quantized.onnxruntime-1.29.0.ort',
    ];
    const best = (v: string) => [...names].sort((a, b) => onnxRank(a, true, true, v) - onnxRank(b, true, true, v))[0];
    expect(best('1.29.0')).toBe('b/onnx/model_quantized.onnxruntime-1.29.0.ort');
    expect(best('1.30.0')).toBe('b/onnx/model_quantized.optimized.onnx');
  });

  it('are preferred by default; MODEL_OPTIMIZED=false serves the standard file', () => {
    expect(loadModelLoadingConfig({}).preferOptimized).toBe(true);
    expect(loadModelLoadingConfig({ MODEL_OPTIMIZED: 'false' }).preferOptimized).toBe(false);
  });

  it('get sessions without graph optimization; standard files keep the full level', () => {
    expect(sessionOptions(1).graphOptimizationLevel).toBe('all');
    expect(sessionOptions(1, true).graphOptimizationLevel).toBe('disabled');
  });
});
