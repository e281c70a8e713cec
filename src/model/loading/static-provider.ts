import type { QAEngine } from '../engine';
import type { EngineProvider, EngineState, ModelInfo } from './types';

/**
 * An EngineProvider over an engine that is already created: always ready, never loads. For
 * embedding an engine built elsewhere (the bench's servers, the API tests).
 */
export class StaticProvider implements EngineProvider {
  constructor(
    readonly engine: QAEngine,
    private readonly modelInfo: ModelInfo | null = null,
  ) {}
  async get(): Promise<QAEngine> {
    return this.engine;
  }
  info(): ModelInfo | null {
    return this.modelInfo;
  }
  state(): EngineState {
    return 'ready';
  }
}
