/** Model loading: sources (S3 folder, S3 tar.gz, local), the per-container singleton, the Hub client. */
export * from './types';
export * from './errors';
export { parseModelUri, type ModelSource } from './source-uri';
export { loadModelLoadingConfig, createModelS3Client, s3ClientConfig, type ModelLoadingConfig, type S3ReadOptions } from './config';
export { loadModel, type LoadedModel, type LoadModelOptions, type EngineFactory } from './load-model';
export { ModelProvider, type ModelProviderOptions, type LoadLogger } from './provider';
export { createModelProvider, NO_MODEL_URI, type CreateModelProviderOptions } from './create-provider';
export { resolveDefaultModelSource, DEMO_WARNING, HubPullError, hubCacheDir, type ResolvedModelSource } from './default-source';
export { pullFromHub, HubDownloadError, type HubFailure, type PullOptions, type PullResult } from './hub-pull';
export { backoffDelay, type BackoffOptions } from './backoff';
