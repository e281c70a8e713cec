/**
 * The reference cases of test/fixtures/reference-qa (see its README): 120 questions answered by a
 * separate re-implementation of transformers v4.53's QuestionAnsweringPipeline on a tiny
 * DistilBERT exported by PyTorch, with fp32 and int8 expected answers. Expected values from
 * outside this project's code; compared as the README says.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { resolveOptions } from '../../src/model/options';
import { QATokenizer } from '../../src/model/tokenizer';
import type { QAInput, QAOptions } from '../../src/model/types';
import { planWindows } from '../../src/model/windows';
import type { ApiLimits } from '../../src/server/config';

export const REFERENCE_DIR = path.resolve(__dirname, '..', 'fixtures', 'reference-qa');
/** The model folder in the Hugging Face layout (tokenizer.json is a link to bert-base-uncased's, the same file). */
export const REFERENCE_MODEL_DIR = path.join(REFERENCE_DIR, 'model');

export interface ReferenceCase {
  id: string;
  question: string;
  context: string;
  top_k?: number;
  max_answer_len?: number;
  doc_stride?: number;
  max_seq_len?: number;
  handle_impossible_answer?: boolean;
  align_to_words?: boolean;
}
export interface ReferenceAnswer {
  text: string;
  score: number;
  start: number;
  end: number;
}
export interface ReferenceResult {
  id: string;
  answers: ReferenceAnswer[];
  flags?: string[];
}
export type Precision = 'fp32' | 'int8';

export function referenceCases(): ReferenceCase[] {
  return (JSON.parse(readFileSync(path.join(REFERENCE_DIR, 'cases.json'), 'utf8')) as { cases: ReferenceCase[] }).cases;
}

export function referenceExpected(precision: Precision): Map<string, ReferenceResult> {
  const { results } = JSON.parse(readFileSync(path.join(REFERENCE_DIR, `expected-${precision}.json`), 'utf8')) as {
    results: ReferenceResult[];
  };
  return new Map(results.map((r) => [r.id, r]));
}

/** The `answerMany` input of a case: the pipeline's parameter names mapped to the API's (absent = default). */
export function answerInput(c: ReferenceCase): Record<string, unknown> {
  const options = Object.fromEntries(
    Object.entries({
      maxAnswerLength: c.max_answer_len,
      docStride: c.doc_stride,
      maxSeqLength: c.max_seq_len,
      handleImpossibleAnswer: c.handle_impossible_answer,
      alignToWords: c.align_to_words,
    }).filter(([, v]) => v !== undefined),
  );
  // The pipeline's default top_k is 1 (the API's `answers` field defaults to 3; answerMany to 1).
  return {
    question: c.question,
    context: c.context,
    topK: c.top_k ?? 1,
    ...(Object.keys(options).length ? { options } : {}),
  };
}

/** The engine's input of a case (`QuestionAnswerer.answer`): the same mapping, topK among the options. */
export function engineInput(c: ReferenceCase): QAInput {
  const { question, context, topK, options } = answerInput(c) as {
    question: string;
    context: string;
    topK: number;
    options?: Partial<QAOptions>;
  };
  return { question, context, options: { ...options, topK } };
}

export const ANSWER_MANY_QUERY =
  'query M($inputs: [AnswerInput!]!) { answerMany(inputs: $inputs) { answers { text score start end } error { code message field } } }';

const SCORE_RTOL = 1e-4;
const close = (a: number, b: number): boolean => Math.abs(a - b) <= SCORE_RTOL * Math.max(Math.abs(a), Math.abs(b));

/**
 * Compares answers with the README's rule: text, start, end exactly; score within 1e-4 relative;
 * answers whose expected scores tie within 1e-4 may come in either order. In a case flagged
 * `near-tie-window-cut` (pass the result's `flags`), the other of two candidates within float noise
 * is acceptable: an answer of the same score, whatever its span. Returns null when they match, else
 * a one-line description of the first difference.
 */
export function compareAnswers(
  expected: ReferenceAnswer[],
  actual: ReferenceAnswer[],
  flags: readonly string[] = [],
): string | null {
  if (actual.length !== expected.length) return `${actual.length} answers, expected ${expected.length}`;
  const eitherCandidate = flags.includes('near-tie-window-cut');
  const used = new Set<number>();
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const sameSpan = (a: ReferenceAnswer) =>
      eitherCandidate || (a.text === e.text && a.start === e.start && a.end === e.end);
    // Candidates: the same rank, or another rank whose expected score ties with this one.
    const j = actual.findIndex(
      (a, k) =>
        !used.has(k) && (k === i || close(expected[k]!.score, e.score)) && sameSpan(a) && close(a.score, e.score),
    );
    if (j < 0) {
      const a = actual[i]!;
      return `#${i + 1}: got ${JSON.stringify(a.text)} [${a.start},${a.end}) ${a.score.toPrecision(6)}, expected ${JSON.stringify(e.text)} [${e.start},${e.end}) ${e.score.toPrecision(6)}`;
    }
    used.add(j);
  }
  return null;
}

/**
 * The cases grouped into as few `answerMany` requests as the API's limits allow: inputs per
 * request, characters of questions and contexts per request, and model windows per request (the
 * work budget; windows counted with the fixture's tokenizer and the engine's own arithmetic, and
 * the options' defaults as the engine resolves them for a 512-position model).
 */
export async function requestsWithinLimits<T extends ReferenceCase>(
  cases: readonly T[],
  limits: Pick<ApiLimits, 'maxInputs' | 'maxRequestTextLength' | 'maxRequestWindows'>,
): Promise<T[][]> {
  const tokenizer = QATokenizer.fromJson(readFileSync(path.join(REFERENCE_MODEL_DIR, 'tokenizer.json'), 'utf8'));
  const chunks: T[][] = [];
  let chars = 0;
  let windows = 0;
  for (const c of cases) {
    const options = resolveOptions(answerInput(c).options as Partial<QAOptions> | undefined, {
      maxPositions: 512,
      minSeqLength: tokenizer.layout.addedCount + 2,
    });
    const [q, x] = await Promise.all([tokenizer.encode(c.question), tokenizer.encode(c.context)]);
    const need = planWindows(q.ids.length, x.ids.length, tokenizer.layout, options).count;
    const size = c.question.length + c.context.length;
    const last = chunks[chunks.length - 1];
    if (
      !last ||
      last.length === limits.maxInputs ||
      chars + size > limits.maxRequestTextLength ||
      windows + need > limits.maxRequestWindows
    ) {
      chunks.push([c]);
      chars = size;
      windows = need;
    } else {
      last.push(c);
      chars += size;
      windows += need;
    }
  }
  return chunks;
}
