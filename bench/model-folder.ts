/** The full-size random-weight DistilBERTs the benchmark runs on, made on first use (~1 min each). */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { MODEL_FILE, QUANTIZED_MODEL_FILE, TEST_MODELS_DIR, ensureTestModel } from '../scripts/model-generator';
import { REPO_ROOT } from '../scripts/model-generator/hf-files';
import { ortFormatName } from '../src/model/loading/model-files';
import { installedOnnxRuntimeVersion } from '../src/model/onnxruntime/version';
import { QATokenizer } from '../src/model/tokenizer';
import { optimizeModel } from '../scripts/model-cli/optimize';
import type { Precision } from './peer';

export interface ModelFolder {
  dir: string;
  tokenizerJson: string;
  config: Record<string, unknown>;
  tokenizer: QATokenizer;
  onnx(precision: Precision): string;
}

export async function fullModel(log: (m: string) => void): Promise<ModelFolder> {
  const t0 = performance.now();
  const dir = await ensureTestModel({ size: 'full', variant: 'distilbert' });
  log(`model folder ${path.relative(process.cwd(), dir)} (${Math.round(performance.now() - t0)} ms)`);
  return fullModelFrom(dir);
}

/** The files of a generated model folder, read once. */
export async function fullModelFrom(dir: string): Promise<ModelFolder> {
  const tokenizerJson = await readFile(path.join(dir, 'tokenizer.json'), 'utf8');
  const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  return {
    dir,
    tokenizerJson,
    config,
    tokenizer: QATokenizer.fromJson(tokenizerJson),
    onnx: (precision) => path.join(dir, precision === 'int8' ? QUANTIZED_MODEL_FILE : MODEL_FILE),
  };
}

const PYTORCH_DIR = path.join(__dirname, 'pytorch-export');
const QUANTIZE_SCRIPT = path.join(REPO_ROOT, 'test', 'fixtures', 'families', 'make', 'quantize.py');
const WORDPIECE_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'bert-base-uncased');
const WORDPIECE_FILES = ['tokenizer.json', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json'];
/** Debian's Python, which has python3-torch and python3-onnx (a pyenv `python3` may not). */
const DEBIAN_PYTHON = '/usr/bin/python3';

/**
 * A full-size DistilBERT exported by PyTorch and quantized as onnxruntime's `quantize_dynamic` does
 * (bench/pytorch-export/), with the bert-base-uncased WordPiece tokenizer: made once (about a
 * minute) into test-models/ under a name keyed by both scripts' contents, then reused.
 */
export async function pytorchModel(log: (m: string) => void): Promise<ModelFolder> {
  const exportScript = path.join(PYTORCH_DIR, 'export_distilbert.py');
  const key = createHash('sha256')
    .update(readFileSync(exportScript))
    .update(readFileSync(QUANTIZE_SCRIPT))
    .digest('hex')
    .slice(0, 12);
  const dir = path.join(TEST_MODELS_DIR, `pytorch-distilbert-full-${key}`);
  if (!existsSync(path.join(dir, QUANTIZED_MODEL_FILE))) {
    const t0 = performance.now();
    log(`exporting the PyTorch DistilBERT into ${path.relative(process.cwd(), dir)} (about a minute)`);
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    for (const name of WORDPIECE_FILES) copyFileSync(path.join(WORDPIECE_DIR, name), path.join(tmp, name));
    const vocabSize = readFileSync(path.join(WORDPIECE_DIR, 'vocab.txt'), 'utf8').trimEnd().split('\n').length;
    const run = (args: string[]) => execFileSync(DEBIAN_PYTHON, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    run([exportScript, tmp, String(vocabSize)]);
    run([QUANTIZE_SCRIPT, path.join(tmp, MODEL_FILE), path.join(tmp, QUANTIZED_MODEL_FILE)]);
    // Only int8 is benchmarked; the fp32 file would only lengthen every `model push`.
    rmSync(path.join(tmp, MODEL_FILE));
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    log(`exported in ${Math.round((performance.now() - t0) / 1000)} s`);
  }
  return fullModelFrom(dir);
}

/**
 * The folder as the deploy guide publishes it: the int8 file and the non-graph files, plus what
 * `model optimize` writes beside it (the ORT file of the installed onnxruntime, which the loader then
 * serves, and `.optimized.onnx`). Made once into test-models/ (hard links to the source's files; the
 * check run by `optimize` takes seconds), keyed by the source folder and the onnxruntime version.
 */
export async function optimizedModel(source: ModelFolder, log: (m: string) => void): Promise<ModelFolder> {
  const version = installedOnnxRuntimeVersion();
  const dir = `${source.dir}-optimized-${version}`;
  if (!existsSync(path.join(dir, ortFormatName(QUANTIZED_MODEL_FILE, version)))) {
    const t0 = performance.now();
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(path.join(tmp, 'onnx'), { recursive: true });
    const link = (rel: string) => {
      try {
        linkSync(path.join(source.dir, rel), path.join(tmp, rel));
      } catch {
        copyFileSync(path.join(source.dir, rel), path.join(tmp, rel));
      }
    };
    for (const name of readdirSync(source.dir, { withFileTypes: true })) if (name.isFile()) link(name.name);
    link(QUANTIZED_MODEL_FILE);
    await optimizeModel(tmp);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    log(`model optimize ${path.relative(process.cwd(), dir)} (${Math.round(performance.now() - t0)} ms)`);
  }
  return fullModelFrom(dir);
}
