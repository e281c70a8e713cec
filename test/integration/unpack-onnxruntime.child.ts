/**
 * Child process of unpack-onnxruntime.test.ts: outside Jest's module registry, so require.cache and
 * dlopen behave as in the Lambda runtime.
 *
 *   node --import tsx unpack-onnxruntime.child.ts <nativesDir> <tmpDir> <model.onnx>
 *
 * Prints one JSON line: the unpacking's result (or its error), logits of one run, and which
 * libonnxruntime.so.1 this process mapped.
 */
import { readFileSync } from 'node:fs';
import { loadOnnxRuntime, prepareOnnxRuntime } from '../../src/model/onnxruntime/load';
import { unpackCompressedOnnxRuntime, type UnpackResult } from '../../src/model/onnxruntime/unpack';

async function main(): Promise<void> {
  const [nativesDir, tmpDir, modelPath] = process.argv.slice(2);
  let result: UnpackResult | undefined;
  prepareOnnxRuntime(async () => {
    result = await unpackCompressedOnnxRuntime({ nativesDir: nativesDir!, tmpDir });
  });
  let ort;
  try {
    ort = await loadOnnxRuntime();
  } catch (err) {
    const e = err as Error & { reason?: string; object?: string };
    console.log(JSON.stringify({ error: { name: e.name, message: e.message, reason: e.reason, object: e.object } }));
    return;
  }
  const session = await ort.InferenceSession.create(modelPath!, { intraOpNumThreads: 1 });
  const ids = [101, 2054, 2003, 102, 1996, 3437, 102];
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  for (const name of session.inputNames) {
    const data = BigInt64Array.from(ids, (id, i) =>
      name === 'input_ids' ? BigInt(id) : name === 'attention_mask' ? 1n : BigInt(i > 3 ? 1 : 0),
    );
    feeds[name] = new ort.Tensor('int64', data, [1, ids.length]);
  }
  const out = await session.run(feeds);
  const mapped = readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .map((line) => line.slice(line.indexOf('/')))
    .filter((file) => file.endsWith('/libonnxruntime.so.1'));
  console.log(
    JSON.stringify({
      result,
      start: Array.from(out.start_logits!.data as Float32Array),
      libraries: [...new Set(mapped)],
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
