/**
 * The Lambda entry (ESM): `await ready` at top level makes the model load during INIT.
 *
 * Order matters, and each step says why:
 * 1. './lambda-model' starts the model download, having evaluated only the loader and the S3 client
 *    (onnxruntime's native library loads later, once the GETs are in flight: model/onnxruntime/);
 * 2. the entry yields until the model's GETs are in flight (or 250 ms at most, should S3 be slow
 *    to answer the manifest): the download then proceeds on its own while
 * 3. the API (Apollo, graphql, the resolvers) is evaluated, through a dynamic import that esbuild
 *    keeps lazy inside the one-file bundle;
 * 4. INIT waits for the model, within Lambda's 10 s INIT (src/support/init-budget.ts): past its
 *    budget INIT ends and the load goes on into the first invocation.
 */
import { performance } from 'node:perf_hooks';
import { recordInitTiming } from './support/init-timings';
import { readyWithinInit } from './support/init-budget';
import { modelRequested, ready } from './lambda-model';

await Promise.race([modelRequested, new Promise((resolve) => setTimeout(resolve, 250).unref())]);
const evaluating = performance.now();
const { handler } = await import('./handler');
recordInitTiming('apiEvaluationMs', performance.now() - evaluating);
await readyWithinInit(ready);

export { handler };
