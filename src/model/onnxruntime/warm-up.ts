/**
 * onnxruntime's one-time start in a process, done while the model's bytes are still arriving.
 *
 * The first session a process creates pays costs no later session pays: loading the native library,
 * creating onnxruntime's environment (logging, allocators, kernel registries, the CPU's kernel
 * dispatch). Creating and releasing a session of a one-node graph pays them, with nothing of the
 * model: it holds no weights and no memory that outlives it, so the model's own session, created
 * afterwards, is the same as without it (the same options, the same graph, the same answers).
 *
 * What it does not remove: the first large session also touches fresh memory for the model's
 * parsed graph and weights (page faults), which only the model's own bytes can cause.
 */
import { loadOnnxRuntime } from './load';

/**
 * A complete ONNX model: IR version 7, opset 14, one Identity node from input `x` (float[1]) to
 * output `y`; written by the `onnx` Python library's helper (make_model / make_graph).
 */
const ONE_NODE_GRAPH = 'CAc6NwoQCgF4EgF5IghJZGVudGl0eRIBZ1oPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCBAoAEA4=';

/** The bytes of the one-node model, for tests that check it is a real, runnable graph. */
export function oneNodeGraph(): Uint8Array {
  return new Uint8Array(Buffer.from(ONE_NODE_GRAPH, 'base64'));
}

/**
 * Loads onnxruntime and creates and releases a session of the one-node graph. Resolves with the
 * milliseconds it took. Rejects if onnxruntime cannot load or the session fails: callers treat that
 * as no warm-up at all, since the model's own session then reports the real problem.
 */
export async function warmUpOnnxRuntime(): Promise<number> {
  const started = performance.now();
  const runtime = loadOnnxRuntime();
  const session = await runtime.InferenceSession.create(oneNodeGraph(), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  await session.release();
  return performance.now() - started;
}
