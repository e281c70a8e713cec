import type { S3Client } from '@aws-sdk/client-s3';
import { createModelS3Client, loadModelLoadingConfig, type ModelLoadingConfig } from './config';
import { loadModel, type EngineFactory } from './load-model';
import { ModelProvider, type LoadEvents, type LoadLogger } from './provider';
import { ModelUnavailableError } from './errors';

/** The model chosen when MODEL_URI is unset (default-source.ts makes one for `npm start`). */
export type DefaultModelSource = (context: {
  config: ModelLoadingConfig;
  logger?: LoadLogger;
}) => Promise<{ uri: string; demo: boolean; name?: string }>;

/** Shown when no model is configured and the default resolver is off (Lambda). */
export const NO_MODEL_URI =
  'No model configured: set MODEL_URI to s3://bucket/prefix/ (a Hugging Face style folder), ' +
  's3://bucket/model.tar.gz or a local folder';

export interface CreateModelProviderOptions {
  env?: Record<string, string | undefined>;
  config?: ModelLoadingConfig;
  logger?: LoadLogger;
  /** What becomes of each load attempt (metrics). */
  events?: LoadEvents;
  /**
   * Without MODEL_URI, where the model comes from: `npm start` passes default-source.ts's
   * (Hub cache → pull → demo model). Absent on Lambda, where a missing MODEL_URI is a deployment
   * error, so the Lambda bundle never reaches the Hub client.
   */
  defaultSource?: DefaultModelSource;
  /** Injected S3 client; default one built from the AWS environment and S3_FORCE_PATH_STYLE. */
  s3?: S3Client;
  createEngine?: EngineFactory;
  /** Called once per load when the model file's GETs are in flight (see src/lambda-model.ts). */
  onModelRequested?: () => void;
}

/**
 * The container's model singleton, configured from the environment. Call `warmUp()` at module
 * load (Lambda INIT) or server start; request handlers call `get()`.
 */
export function createModelProvider(options: CreateModelProviderOptions = {}): ModelProvider {
  const config = options.config ?? loadModelLoadingConfig(options.env);
  const logger = options.logger;
  let s3 = options.s3;
  const client = (): S3Client => (s3 ??= createModelS3Client(config));
  const defaultSource = options.defaultSource;
  if (!config.modelUri && !defaultSource) {
    return new ModelProvider(
      async () => {
        throw new ModelUnavailableError(NO_MODEL_URI);
      },
      {
        logger,
        events: options.events,
        describe: 'no model (MODEL_URI unset)',
        backoff: config.retry,
        maxWaitMs: config.maxWaitMs,
      },
    );
  }
  return new ModelProvider(
    async () => {
      const resolved = config.modelUri
        ? { uri: config.modelUri, demo: undefined, name: undefined }
        : await defaultSource!({ config, logger });
      return loadModel(resolved.uri, {
        s3: resolved.uri.startsWith('s3://') ? client() : undefined,
        preferQuantized: config.preferQuantized,
        preferOptimized: config.preferOptimized,
        read: config.s3,
        threads: config.threads,
        createEngine: options.createEngine,
        demo: resolved.demo || undefined,
        name: resolved.name,
        onModelRequested: options.onModelRequested,
      });
    },
    {
      logger,
      events: options.events,
      describe: config.modelUri ?? 'default model',
      backoff: config.retry,
      maxWaitMs: config.maxWaitMs,
    },
  );
}
