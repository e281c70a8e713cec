/**
 * How a request waits for the model: until it is loaded, the load fails, the provider's wait bound
 * passes (MODEL_MAX_WAIT_MS), or the request stops. A request whose deadline passes while it is
 * still waiting for the model did not fail by its size: it gets MODEL_UNAVAILABLE (503 with
 * Retry-After), not DEADLINE_EXCEEDED, whose message tells the client to send less.
 */
import type { QAEngine } from '../model/engine';
import { ModelUnavailableError } from '../model/loading/errors';
import type { ModelProvider } from '../model/loading/types';
import { ErrorCode, apiCodeOf } from '../api/errors';
import { untilAborted } from '../api/request-scope';

export async function waitForModel(provider: ModelProvider, signal: AbortSignal | undefined): Promise<QAEngine> {
  try {
    return await untilAborted(provider.get(), signal);
  } catch (error) {
    if (signal?.aborted && error === signal.reason && apiCodeOf(error) === ErrorCode.DEADLINE_EXCEEDED) {
      throw new ModelUnavailableError('Model unavailable: still loading when the request reached its deadline', {
        cause: error,
      });
    }
    throw error;
  }
}
