/** What a pushed version holds (scripts/model-cli/version-files.ts; docs/decisions/2026-12-06-what-a-version-holds.md). */
import { describe, expect, it } from '@jest/globals';
import { chooseVersionFiles, unoptimizedNotice } from '../../scripts/model-cli/version-files';
import { onnxCandidates } from '../../src/model/loading/model-files';

/** A folder after `model pull --all` and `model optimize` with onnxruntime 1.30.0. */
const FOLDER = [
  'config.json',
  'onnx/model.onnx',
  'onnx/model.onnxruntime-1.30.0.ort',
  'onnx/model.optimized.json',
  'onnx/model.optimized.onnx',
  'onnx/model_quantized.onnx',
  'onnx/model_quantized.onnxruntime-1.30.0.ort',
  'onnx/model_quantized.optimized.json',
  'onnx/model_quantized.optimized.onnx',
  'special_tokens_map.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'vocab.txt',
];
const SMALL = [
  'config.json',
  'onnx/model.optimized.json',
  'onnx/model_quantized.optimized.json',
  'special_tokens_map.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'vocab.txt',
];
const sorted = (files: string[]) => [...files].sort();

describe('what a pushed version holds', () => {
  it('int8, optimized, this onnxruntime: its ORT-format file and the standard int8 file, and every non-graph file', () => {
    const chosen = chooseVersionFiles(FOLDER, {
      preferQuantized: true,
      preferOptimized: true,
      onnxruntimeVersion: '1.30.0',
    });
    expect(sorted(chosen)).toEqual(
      sorted([...SMALL, 'onnx/model_quantized.onnxruntime-1.30.0.ort', 'onnx/model_quantized.onnx']),
    );
  });

  it('a loader on another onnxruntime finds the standard file in that version (the fallback)', () => {
    const chosen = chooseVersionFiles(FOLDER, {
      preferQuantized: true,
      preferOptimized: true,
      onnxruntimeVersion: '1.30.0',
    });
    const served = (version: string) => onnxCandidates(true, true, version).find((c) => chosen.includes(c));
    expect(served('1.30.0')).toBe('onnx/model_quantized.onnxruntime-1.30.0.ort');
    expect(served('1.31.0')).toBe('onnx/model_quantized.onnx');
  });

  it('without an ORT-format file for this onnxruntime: the optimized graph and its standard file', () => {
    const chosen = chooseVersionFiles(FOLDER, {
      preferQuantized: true,
      preferOptimized: true,
      onnxruntimeVersion: '1.31.0',
    });
    expect(sorted(chosen)).toEqual(
      sorted([...SMALL, 'onnx/model_quantized.optimized.onnx', 'onnx/model_quantized.onnx']),
    );
  });

  it('fp32, not optimized: the standard fp32 file only', () => {
    const chosen = chooseVersionFiles(FOLDER, {
      preferQuantized: false,
      preferOptimized: false,
      onnxruntimeVersion: '1.30.0',
    });
    expect(sorted(chosen)).toEqual(sorted([...SMALL, 'onnx/model.onnx']));
  });

  it('a folder with only the other precision pushes that one (the loader falls back to it)', () => {
    const fp32Only = ['config.json', 'onnx/model.onnx', 'tokenizer.json'];
    expect(
      chooseVersionFiles(fp32Only, { preferQuantized: true, preferOptimized: true, onnxruntimeVersion: '1.30.0' }),
    ).toEqual(fp32Only);
  });

  it('a model at the folder root, and `all`, and a folder without any graph the loader reads, keep what they have', () => {
    const root = [
      'config.json',
      'model_quantized.onnx',
      'model_quantized.optimized.onnx',
      'model.onnx',
      'tokenizer.json',
    ];
    expect(
      chooseVersionFiles(root, { preferQuantized: true, preferOptimized: true, onnxruntimeVersion: '1.30.0' }),
    ).toEqual(['config.json', 'model_quantized.onnx', 'model_quantized.optimized.onnx', 'tokenizer.json']);
    const choice = { preferQuantized: true, preferOptimized: true, onnxruntimeVersion: '1.30.0' };
    expect(chooseVersionFiles(FOLDER, { ...choice, all: true })).toEqual(FOLDER);
    const odd = ['tokenizer.json', 'weights/encoder.onnx'];
    expect(chooseVersionFiles(odd, choice)).toEqual(odd);
  });
});

describe('the note push prints when a version would serve a standard file', () => {
  const choice = { preferQuantized: true, preferOptimized: true, onnxruntimeVersion: '1.30.0' };
  const pulled = ['config.json', 'onnx/model_quantized.onnx', 'tokenizer.json'];

  it('names the standard file served and the optimize command for that folder', () => {
    const notice = unoptimizedNotice('models/squad', pulled, choice);
    expect(notice).toContain('serves onnx/model_quantized.onnx, the standard file');
    expect(notice).toContain('`npm run model -- optimize models/squad`');
  });

  it('is silent when an optimized graph is served, or the loader is told to serve the standard file', () => {
    expect(unoptimizedNotice('d', FOLDER, choice)).toBeNull();
    // An ORT file of another onnxruntime is no candidate, but the .optimized.onnx is.
    expect(
      unoptimizedNotice('d', [...pulled, 'onnx/model_quantized.optimized.onnx'], {
        ...choice,
        onnxruntimeVersion: '1.31.0',
      }),
    ).toBeNull();
    expect(unoptimizedNotice('d', pulled, { ...choice, preferOptimized: false })).toBeNull();
    // Nothing the loader would serve: push keeps every file and the load names the candidates.
    expect(unoptimizedNotice('d', ['config.json', 'weights.bin'], choice)).toBeNull();
  });

  it('speaks up when the only optimized graph is an ORT file of another onnxruntime', () => {
    const notice = unoptimizedNotice('d', [...pulled, 'onnx/model_quantized.onnxruntime-1.29.0.ort'], choice);
    expect(notice).toContain('serves onnx/model_quantized.onnx');
  });
});
