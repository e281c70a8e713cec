/**
 * The container's model provider, created and started as early as the Lambda entry can: its
 * first import of the application (src/lambda.mts), before Apollo, graphql and the API's modules
 * are evaluated. Importing this module evaluates only the loader and the S3 client it needs, and
 * Powertools' Logger and Metrics (the load's log lines and metrics).
 *
 * Why: a cold start is Node's start, the bundle's evaluation, the model download, the session and
 * the first answer. The download is mostly waiting on the network, the evaluation is CPU: started
 * first, the download's time to first byte and the bytes the kernel buffers overlap the rest.
 * `modelRequested` says when the model's GETs are in flight, so the entry evaluates the API then.
 *
 * src/handler.ts uses this provider, so there is one per container whichever entry imports it.
 */
import { createModelProvider } from './model/loading/provider';
import type { ModelProvider } from './model/loading/types';
import { readStage } from './server/config';
import { createLogger, loadLogger } from './server/logger';
import { ApiMetrics, loadMetrics } from './server/metrics';

let markRequested: () => void = () => undefined;

/** Resolves once the model file's GETs are in flight, or the load has ended (whichever first). */
export const modelRequested = new Promise<void>((resolve) => (markRequested = resolve));

/** The container's Logger: the model's load lines and every request's (src/server/logger.ts). */
export const logger = createLogger();
/** The container's metrics: each load attempt's here, each request's through the API (src/server/metrics.ts). */
export const metrics = new ApiMetrics({ stage: readStage() });

/** The model singleton (MODEL_URI; a missing one is reported as MODEL_UNAVAILABLE, as on Lambda it is a deployment error). */
export const provider: ModelProvider = createModelProvider({
  env: process.env,
  logger: loadLogger(logger),
  events: loadMetrics(metrics),
  onModelRequested: () => markRequested(),
});

/** The first load, started now; true when the model is ready, false when it failed (never rejects). */
export const ready: Promise<boolean> = provider.warmUp();
void ready.then(() => markRequested());
