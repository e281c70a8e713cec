import type { S3Client } from '@aws-sdk/client-s3';
import { createModelS3Client, type ModelLoadingConfig } from './config';
import { loadModel, type EngineFactory, type LoadedModel } from './load-model';
import { ModelUnavailableError } from './errors';
import type { LoadLogger } from './types';

/** The model chosen when MODEL_URI is unset (hub-source.ts makes one for `npm start`). */
export type DefaultModelSource = (context: {
  config: ModelLoadingConfig;
  logger?: LoadLogger;
}) => Promise<{ uri: string; demo: boolean; name?: string }>;

/** Shown when no model is configured and the default resolver is off (Lambda). */
export const NO_MODEL_URI =
  'No model configured: set MODEL_URI to s3://bucket/prefix/ (a Hugging Face style folder), ' +
  's3://bucket/model.tar.gz or a local folder';

/** What reading the configured model needs besides its configuration. */
export interface ConfiguredSourceOptions {
  /**
   * Without MODEL_URI, where the model comes from: `npm start` passes hub-source.ts's
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

/** The configured model's load, and how messages name it. */
export interface ConfiguredSource {
  load: () => Promise<LoadedModel>;
  describe: string;
}

/**
 * The model the configuration names: MODEL_URI, else `defaultSource`'s choice, else a load that
 * fails with NO_MODEL_URI. The S3 client is created on the first S3 read.
 */
export function configuredSource(
  config: ModelLoadingConfig,
  options: ConfiguredSourceOptions & { logger?: LoadLogger },
): ConfiguredSource {
  const { logger, defaultSource } = options;
  let s3 = options.s3;
  const client = (): S3Client => (s3 ??= createModelS3Client(config));
  if (!config.modelUri && !defaultSource) {
    return {
      load: async () => {
        throw new ModelUnavailableError(NO_MODEL_URI);
      },
      describe: 'no model (MODEL_URI unset)',
    };
  }
  return {
    load: async () => {
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
    describe: config.modelUri ?? 'default model',
  };
}
