/**
 * First import of the Lambda entry (src/lambda.mts): starts unpacking the artifact's compressed
 * onnxruntime library (src/model/onnxruntime/) before anything else, so that it runs while the
 * handler module starts the model download, and the engine waits for it only when it creates its
 * session. A side-effect module on purpose: ES modules evaluate in import order, so nothing can
 * require onnxruntime-node before this has registered the step.
 *
 * `natives/` sits next to the bundle (dist/lambda/natives/). Where it holds nothing for this
 * platform (serverless-offline on a Mac, or a build without it) onnxruntime-node loads as installed.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { recordInitTiming } from './support/init-timings';
import { writeJsonLine } from './support/json-log';
import { prepareOnnxRuntime } from './model/onnxruntime/load';
import { unpackCompressedOnnxRuntime } from './model/onnxruntime/unpack';

prepareOnnxRuntime(async () => {
  const started = performance.now();
  try {
    const result = await unpackCompressedOnnxRuntime({ nativesDir: path.join(__dirname, 'natives') });
    if (result.status !== 'not-compressed') {
      recordInitTiming('runtimeUnpackMs', performance.now() - started);
      // JSON like every other line (json-log.ts: no Powertools Logger in this first module).
      writeJsonLine('info', 'onnxruntime library ready', { ...result });
    }
  } catch (err) {
    writeJsonLine('error', 'onnxruntime library unavailable', { reason: (err as Error).message });
    throw err;
  }
});
