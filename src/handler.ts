/**
 * The Lambda entry point (API Gateway HTTP API, payload v2). Everything below runs once per
 * container, at INIT: the config, the Apollo server and the engine provider (the model is a
 * singleton of the container). Each invocation is then just an event → Apollo → result mapping
 * (src/server/lambda.ts).
 *
 * The ESM entry of the deployment can `await ready` (or `warmUp()`) at top level so the model
 * loads during INIT instead of on the first request; a failed load never crashes INIT, it is
 * reported as MODEL_UNAVAILABLE and retried by later requests.
 */
import { loadApiConfig } from './server/config';
import { createApi } from './server/api';
import { createEngineProvider } from './server/engine-provider';
import { createApiLambdaHandler } from './server/lambda';
import { createLogger, loadLogger } from './server/logger';
import { ApiMetrics } from './server/metrics';

const config = loadApiConfig();
// One Logger and one metrics recorder for the container: the model's load lines and metrics (at
// INIT) and every request's go through the same ones.
const logger = createLogger();
const metrics = new ApiMetrics({ stage: config.stage });
const provider = createEngineProvider({ logger: loadLogger(logger), metrics });
const api = createApi({ config, provider, logger, metrics });

export const handler = createApiLambdaHandler(api);

/**
 * Loads the model; resolves to true when it is ready, false when loading failed (never rejects;
 * the provider logs the failure and later requests retry the load).
 */
export const warmUp = (): Promise<boolean> => provider.warmUp();

/** Starts loading at import time; `await ready` in the ESM entry to finish it during INIT. */
export const ready: Promise<boolean> = warmUp();
