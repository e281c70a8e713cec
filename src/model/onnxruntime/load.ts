/**
 * Loads onnxruntime-node on first use instead of at import time.
 *
 * Requiring onnxruntime-node dlopens its native library at once. In the Lambda artifact that
 * library is packed (see compressed-library.ts) and must be unpacked before the first require, and
 * unpacking should overlap the model download rather than precede it. So the Lambda entry
 * registers the unpacking with `prepareOnnxRuntime` as its very first step, the model download
 * starts right after, and the engine calls `loadOnnxRuntime()` only when it creates its session.
 * Everywhere else (npm start, tests, the bench) nothing is registered and this is a plain require.
 */
import type * as Ort from 'onnxruntime-node';
import { OnnxRuntimeUnavailableError } from '../errors';

export type OnnxRuntime = typeof Ort;

let preparation: (() => Promise<unknown>) | null = null;
/** The current run of the preparation; null after a failure, so the next load runs it again. */
let pending: Promise<unknown> | null = null;

/**
 * Registers a step that must finish before onnxruntime-node is required, and starts it now. If it
 * fails, `loadOnnxRuntime` rejects with its error, and the next call runs the step again (a later
 * model-load retry may succeed, e.g. once /tmp has room).
 */
export function prepareOnnxRuntime(step: () => Promise<unknown>): void {
  preparation = step;
  pending = start(step);
}

function start(step: () => Promise<unknown>): Promise<unknown> {
  const running = step();
  // Nobody may await it for a while (the model is still downloading); never leave it unobserved.
  running.catch(() => undefined);
  return running;
}

/**
 * onnxruntime-node, once the registered preparation (if any) has succeeded. `keepFailure`: a caller
 * that only gets ahead of the real load (the warm-up) leaves a failed preparation in place, so the
 * real load reports that same failure and the next load, not this one, runs the step again.
 */
export async function loadOnnxRuntime(options: { keepFailure?: boolean } = {}): Promise<OnnxRuntime> {
  if (preparation) {
    const running = (pending ??= start(preparation));
    try {
      await running;
    } catch (err) {
      if (!options.keepFailure && pending === running) pending = null;
      throw err;
    }
  }
  try {
    // A plain require, so that the binding registered by the preparation (in require.cache) is the
    // one onnxruntime-node gets; the Lambda bundle keeps onnxruntime-node external.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('onnxruntime-node') as OnnxRuntime;
  } catch (cause) {
    // E.g. "libonnxruntime.so.1: cannot open shared object file" from a package built without its
    // natives: a runtime problem, which the model loader must not report as a bad model.
    throw new OnnxRuntimeUnavailableError('onnxruntime-node', `cannot load: ${(cause as Error)?.message ?? cause}`, {
      cause,
    });
  }
}
