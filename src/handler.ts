/**
 * The Lambda entry point, for every front door (HTTP API, function URL, REST API, ALB). Everything
 * below runs once per container, at INIT: the config, the Apollo server and the engine provider
 * (the model is a singleton of the container). Each invocation is then an event → request core →
 * result mapping (src/server/lambda.ts, src/server/lambda-events.ts).
 *
 * The ESM entry of the deployment can `await ready` (or `warmUp()`) at top level so the model
 * loads during INIT instead of on the first request; a failed load never crashes INIT, it is
 * reported as MODEL_UNAVAILABLE and retried by later requests.
 */
import { loadApiConfig } from './server/config';
import { createApi } from './server/api';
import { createApiLambdaHandler } from './server/lambda';
// The provider (and the model load), the Logger and the metrics start in their own module, so the
// Lambda entry can start the load before this module's imports are evaluated (src/lambda.mts,
// src/lambda-model.ts); the model's load lines and metrics and every request's use the same ones.
import { logger, metrics, provider, ready as modelReady } from './lambda-model';

const config = loadApiConfig();
const api = createApi({ config, provider, logger, metrics });

export const handler = createApiLambdaHandler(api);

/**
 * Loads the model; resolves to true when it is ready, false when loading failed (never rejects;
 * the provider logs the failure and later requests retry the load).
 */
export const warmUp = (): Promise<boolean> => provider.warmUp();

/** The load started at import time; `await ready` in the ESM entry to finish it during INIT. */
export const ready: Promise<boolean> = modelReady;
