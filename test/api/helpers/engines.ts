/**
 * Engines and providers for API tests: the real engine on the tiny generated model, a counting
 * wrapper (to prove batching), and small fakes for the error paths the real model cannot
 * produce on demand (a model that is unavailable, or that fails).
 */
import type { AnswerManyOptions, QAEngine } from '../../../src/model/engine';
import type { Answer, ModelDescription, QAInput } from '../../../src/model/types';
import type { EngineState, ModelInfo, ModelProvider } from '../../../src/model/loading/types';
import { ModelUnavailableError } from '../../../src/model/loading/errors';
import { loadModel } from '../../../src/model/loading/load-model';
import { ensureTestModel } from '../../../scripts/model-generator';

/** Wraps an engine and records every answerMany call (the number of inputs of each). */
export class CountingEngine implements QAEngine {
  readonly calls: number[] = [];
  constructor(readonly inner: QAEngine) {}
  get description(): ModelDescription {
    return this.inner.description;
  }
  answer(input: QAInput): Promise<Answer[]> {
    return this.inner.answer(input);
  }
  get windowsRun(): number | undefined {
    return this.inner.windowsRun;
  }
  answerMany(inputs: readonly QAInput[], options?: AnswerManyOptions): Promise<Array<Answer[] | Error>> {
    this.calls.push(inputs.length);
    return this.inner.answerMany(inputs, options);
  }
  reset(): void {
    this.calls.length = 0;
  }
}

/** The provider of an engine already created: the one the bench serves with too. */
export { fixedModel } from '../../../src/model/loading/fixed-model';

/** A provider whose model never loads (S3 down, no model configured). */
export class UnavailableProvider implements ModelProvider {
  async get(): Promise<QAEngine> {
    throw new ModelUnavailableError('Model unavailable: s3://bucket/model/ could not be read (AccessDenied)');
  }
  info(): null {
    return null;
  }
  state(): EngineState {
    return 'failed';
  }
  async warmUp(): Promise<boolean> {
    return false;
  }
  error(): Error | null {
    return null;
  }
}

/** An engine whose model crashes: the message contains things that must never reach clients. */
export class FailingEngine implements QAEngine {
  readonly description: ModelDescription = {
    inputNames: ['input_ids', 'attention_mask'],
    outputNames: ['start_logits', 'end_logits'],
    usesTokenTypeIds: false,
    maxPositionEmbeddings: 512,
  };
  async answer(): Promise<Answer[]> {
    throw new Error('onnxruntime: /opt/secret/model.onnx failed at node 42');
  }
  async answerMany(): Promise<Array<Answer[] | Error>> {
    throw new Error('onnxruntime: /opt/secret/model.onnx failed at node 42');
  }
}

export interface TinyModel {
  dir: string;
  engine: QAEngine;
  info: ModelInfo;
}

/** The real engine on the tiny generated DistilBERT (random weights; fast, deterministic). */
export async function loadTinyModel(): Promise<TinyModel> {
  const dir = await ensureTestModel({ size: 'tiny', variant: 'distilbert' });
  const { engine, info } = await loadModel(dir, {
    preferQuantized: true,
    read: { idleTimeoutMs: 10_000, totalTimeoutMs: 60_000, maxInMemoryBytes: 1 << 30, spillDir: '/tmp' },
  });
  return { dir, engine, info };
}

/** Distinct, answerable inputs. */
export function sampleInputs(n: number): Array<{ question: string; context: string }> {
  const cities = ['Paris', 'Rome', 'Berlin', 'Madrid', 'Vienna', 'Lisbon', 'Oslo', 'Prague', 'Dublin', 'Athens'];
  return Array.from({ length: n }, (_, i) => ({
    question: `Where is landmark number ${i}?`,
    context: `Landmark number ${i} stands in ${cities[i % cities.length]}, a city visited by ${1000 + i} people a day.`,
  }));
}
