/**
 * The engine provider the API uses: the model loader's env-configured singleton
 * (src/model/loading/create-provider.ts; MODEL_URI and friends).
 *
 * On Lambda a missing MODEL_URI is a deployment error, reported as MODEL_UNAVAILABLE; locally
 * (`npm start`) the caller's default source applies (scripts/start.ts: the Hub cache, a Hub pull,
 * and as a last resort the generated demo model).
 */
import { createModelProvider, type DefaultModelSource } from '../model/loading/create-provider';
import type { LoadEvents, LoadLogger, ModelProvider } from '../model/loading/provider';
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
  /** Without MODEL_URI, where the model comes from (local server only: scripts/start.ts gives it). */
  defaultSource?: DefaultModelSource;
  /** Where each load attempt's metrics go (timings and model version, or a failure). */
  metrics?: MetricsRecorder | null;
}

export function createEngineProvider(options: EngineProviderOptions = {}): ModelProvider {
  return createModelProvider({
    env: options.env ?? process.env,
    logger: options.logger,
    events: options.metrics ? loadMetrics(options.metrics) : undefined,
    defaultSource: options.defaultSource,
  });
}

/** Each load attempt's metrics (timings and model version, or a failure), from the provider's events. */
export function loadMetrics(metrics: MetricsRecorder): LoadEvents {
  return {
    onLoaded: (info) => metrics.modelLoaded(info),
    onLoadFailed: () => metrics.modelLoadFailed(),
  };
}
