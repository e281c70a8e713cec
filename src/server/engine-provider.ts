/**
 * The engine provider the API uses, built from the model-loading configuration (MODEL_URI and
 * friends, read by src/model/loading/config.ts).
 *
 * Interim wiring: the loader's own env → provider factory (with its default-model resolver) is
 * not in the tree yet, so this builds a ModelProvider over `loadModel(MODEL_URI)`. Without a
 * MODEL_URI the provider reports MODEL_UNAVAILABLE with instructions instead of crashing.
 */
import { createModelS3Client, loadModelLoadingConfig } from '../model/loading/config';
import { loadModel } from '../model/loading/load-model';
import { ModelProvider, type LoadLogger } from '../model/loading/provider';
import { ModelUnavailableError } from '../model/loading/types';

export const NO_MODEL_HELP =
  'No model configured. Set MODEL_URI to a Hugging Face style folder (tokenizer.json, config.json, ' +
  'onnx/model_quantized.onnx or onnx/model.onnx) or to s3://bucket/prefix/ or s3://bucket/model.tar.gz. ' +
  'For a local demo model (random weights, meaningless answers): ' +
  '`npx tsx scripts/generate-test-model.ts` and point MODEL_URI at the folder it prints.';

export function createEngineProvider(env: NodeJS.ProcessEnv = process.env, logger?: LoadLogger): ModelProvider {
  const config = loadModelLoadingConfig(env);
  const uri = config.modelUri;
  if (!uri) {
    return new ModelProvider(async () => {
      throw new ModelUnavailableError(NO_MODEL_HELP);
    }, { logger, describe: 'no model (MODEL_URI unset)', backoff: config.retry });
  }
  const s3 = uri.startsWith('s3://') ? createModelS3Client(config) : undefined;
  return new ModelProvider(
    () => loadModel(uri, { s3, preferQuantized: config.preferQuantized, read: config.s3 }),
    { logger, describe: uri, backoff: config.retry },
  );
}
