/**
 * Loads onnxruntime-node on first use instead of at import time.
 *
 * Requiring onnxruntime-node maps its native library and runs its initialisers at once, on the
 * event loop. The Lambda entry starts the model download before anything loads it (src/lambda.mts),
 * so the loader's warm-up (warm-up.ts) and the engine call `loadOnnxRuntime()` only once the
 * model's GETs are in flight, and the bytes queue in the sockets meanwhile.
 */
import type * as Ort from 'onnxruntime-node';
import { OnnxRuntimeUnavailableError } from '../errors';

export type OnnxRuntime = typeof Ort;

/** onnxruntime-node; throws OnnxRuntimeUnavailableError when its native files do not load. */
export function loadOnnxRuntime(): OnnxRuntime {
  try {
    // A plain require at the call: the Lambda bundle keeps onnxruntime-node external.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('onnxruntime-node') as OnnxRuntime;
  } catch (cause) {
    // E.g. "libonnxruntime.so.1: cannot open shared object file" from a package built without its
    // library: a runtime problem, which the model loader must not report as a bad model.
    throw new OnnxRuntimeUnavailableError('onnxruntime-node', `cannot load: ${(cause as Error)?.message ?? cause}`, {
      cause,
    });
  }
}
