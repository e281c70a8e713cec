import type { QAEngine } from '../engine';
import type { ModelInfo, ModelProvider } from './types';

/**
 * A ModelProvider over an engine that is already created: always ready, never loads. For
 * embedding an engine built elsewhere (the bench's servers, the API tests).
 */
export function fixedModel(engine: QAEngine, info: ModelInfo | null = null): ModelProvider {
  return {
    get: async () => engine,
    info: () => info,
    state: () => 'ready',
    warmUp: async () => true,
    error: () => null,
  };
}
