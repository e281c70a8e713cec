/**
 * The families' reference fixtures (test/fixtures/families, see its README): one tiny
 * extractive-QA model per tokenizer family, made outside the engine (PyTorch export, tokenizers
 * built from public data), with expected answers from a separate re-implementation of
 * transformers v4.53's QuestionAnsweringPipeline. Cases and comparison are those of reference-qa.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Precision, ReferenceCase, ReferenceResult } from './reference-qa';

export const FAMILIES_DIR = path.resolve(__dirname, '..', 'fixtures', 'families');

export interface FamilyFixture {
  /** The fixture folder's name. */
  name: 'roberta' | 'xlm-roberta' | 'deberta-v3';
  /** Tokenizer family, as the README's table names it. */
  tokenizer: string;
  /** config.json's model_type. */
  modelType: string;
}

export const FAMILIES: readonly FamilyFixture[] = [
  { name: 'roberta', tokenizer: 'byte-level BPE, RobertaProcessing', modelType: 'roberta' },
  { name: 'xlm-roberta', tokenizer: 'SentencePiece Unigram, <s> A </s></s> B </s>', modelType: 'xlm-roberta' },
  {
    name: 'deberta-v3',
    tokenizer: 'SentencePiece Unigram, [CLS] A [SEP] B [SEP] with token_type_ids',
    modelType: 'deberta-v2',
  },
];

export const PRECISION_FILES: Record<Precision, string> = {
  fp32: 'onnx/model.onnx',
  int8: 'onnx/model_quantized.onnx',
};

/** The model folder of a family, in its Hub layout (Xenova/Transformers.js style: onnx/). */
export function familyModelDir(family: FamilyFixture['name']): string {
  return path.join(FAMILIES_DIR, family, 'model');
}

export function familyCases(): ReferenceCase[] {
  return (JSON.parse(readFileSync(path.join(FAMILIES_DIR, 'cases.json'), 'utf8')) as { cases: ReferenceCase[] }).cases;
}

export function familyExpected(
  family: FamilyFixture['name'],
  precision: Precision,
): Map<string, ReferenceResult & { windows: number }> {
  const { results } = JSON.parse(
    readFileSync(path.join(FAMILIES_DIR, family, `expected-${precision}.json`), 'utf8'),
  ) as {
    results: Array<ReferenceResult & { windows: number }>;
  };
  return new Map(results.map((r) => [r.id, r]));
}

/** The engine's source for a family and precision: the files as a loader would hand them over. */
export function familySource(family: FamilyFixture['name'], precision: Precision) {
  const dir = familyModelDir(family);
  return {
    model: path.join(dir, PRECISION_FILES[precision]),
    tokenizerJson: readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'),
    config: JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>,
    intraOpNumThreads: 1,
  };
}
