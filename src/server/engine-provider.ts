/**
 * The engine provider the API uses: the model loader's env-configured singleton
 * (src/model/loading/create-provider.ts; MODEL_URI and friends).
 *
 * On Lambda a missing MODEL_URI is a deployment error, reported as MODEL_UNAVAILABLE; locally
 * (`npm start`) the loader's default resolver applies: the Hub cache, a Hub pull, and as a last
 * resort the generated demo model, which the caller provides (`demoModel`).
 */
import { createModelProvider } from '../model/loading/create-provider';
import type { LoadLogger, ModelProvider } from '../model/loading/provider';
import type { ModelInfo } from '../model/loading/types';
import type { MetricsRecorder } from './metrics';

/** What `npm start` prints when no model could be loaded. */
export const NO_MODEL_HELP = [
  'To get a model, do one of:',
  '  • MODEL_URI=/path/to/folder npm start   (a Hugging Face style folder: tokenizer.json, config.json,',
  '                                           onnx/model_quantized.onnx or onnx/model.onnx)',
  '  • MODEL_URI=s3://bucket/prefix/ npm start   (or s3://bucket/model.tar.gz; AWS credentials from the environment)',
  '  • npm run model -- pull                 (downloads the default DistilBERT-SQuAD from the Hugging Face Hub',
  '                                           into .cache/models, used by `npm start` without MODEL_URI)',
  '  • npm run models:generate               (a random-weight demo model, meaningless answers; then',
  '                                           MODEL_URI=<the folder it prints> npm start)',
].join('\n');

export interface EngineProviderOptions {
  env?: NodeJS.ProcessEnv;
  logger?: LoadLogger;
  /** Fall back to the default model without MODEL_URI (local server only). */
  useDefaultModel?: boolean;
  /** With `useDefaultModel`: the demo model's folder when the Hub cannot be reached (scripts/start.ts gives it). */
  demoModel?: () => Promise<string>;
  /** Where each load attempt's metrics go (timings and model version, or a failure). */
  metrics?: MetricsRecorder | null;
}

export function createEngineProvider(options: EngineProviderOptions = {}): ModelProvider {
  let provider: ModelProvider | null = null;
  const logger = options.metrics
    ? observeLoads(options.logger, options.metrics, () => provider?.info() ?? null)
    : options.logger;
  provider = createModelProvider({
    env: options.env ?? process.env,
    logger,
    useDefaultModel: options.useDefaultModel ?? false,
    resolve: options.demoModel ? { demoModel: options.demoModel } : undefined,
  });
  return provider;
}

/** The messages ModelProvider logs when a load attempt ends (src/model/loading/provider.ts). */
export const MODEL_LOADED_MESSAGE = 'model loaded';
export const MODEL_LOAD_FAILED_MESSAGE = 'model load failed';

/**
 * A LoadLogger that also records each load attempt's metrics. The provider logs exactly once per
 * attempt, when it ends, so its log calls are where the attempt's outcome is known; the timings and
 * version are read from `info()` (set before the provider logs success).
 */
export function observeLoads(
  logger: LoadLogger | undefined,
  metrics: MetricsRecorder,
  info: () => ModelInfo | null,
): LoadLogger {
  return {
    info(message, extra) {
      logger?.info(message, extra);
      const loaded = message === MODEL_LOADED_MESSAGE ? info() : null;
      if (loaded) metrics.modelLoaded(loaded);
    },
    warn(message, extra) {
      logger?.warn(message, extra);
    },
    error(message, extra) {
      logger?.error(message, extra);
      if (message === MODEL_LOAD_FAILED_MESSAGE) metrics.modelLoadFailed();
    },
  };
}
