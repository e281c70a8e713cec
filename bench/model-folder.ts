/** The full-size random-weight DistilBERT the benchmark runs on, generated on first use (~1 min). */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { MODEL_FILE, QUANTIZED_MODEL_FILE, ensureTestModel } from '../scripts/model-generator';
import { QATokenizer } from '../src/model/tokenizer';
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
