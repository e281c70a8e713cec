/**
 * Child process of runtime-warm-up.test.ts: a fresh process (its first onnxruntime session is the
 * one a cold start pays, outside Jest's module registry) that loads the reference fixture's int8
 * model through the loader, with or without the loader's warm-up, and answers cases.
 *
 *   node --import tsx runtime-warm-up.child.ts <warmUp: 0|1> <caseCount> [s3://… URI]
 *
 * Without a URI it reads the fixture's folder; with one, the S3 endpoint comes from the environment
 * (AWS_ENDPOINT_URL_S3 and co., as loadModelLoadingConfig reads them). Prints one JSON line:
 * { runtimeWarmUpMs, tokenizerMs, results: [{ id, answers }] }.
 */
import { createModelS3Client, loadModelLoadingConfig } from '../../src/model/loading/config';
import { loadModel } from '../../src/model/loading/load-model';
import { engineInput, referenceCases, REFERENCE_MODEL_DIR } from '../helpers/reference-qa';

async function main(): Promise<void> {
  const [warm, count, uri] = process.argv.slice(2);
  const config = loadModelLoadingConfig({ ...process.env, MODEL_URI: uri ?? REFERENCE_MODEL_DIR });
  const loaded = await loadModel(config.modelUri!, {
    s3: uri ? createModelS3Client(config) : undefined,
    preferQuantized: true,
    read: config.s3,
    threads: 1,
    warmUp: warm === '1',
  });
  const results = [];
  for (const c of referenceCases().slice(0, Number(count))) {
    results.push({ id: c.id, answers: await loaded.engine.answer(engineInput(c)) });
  }
  const { tokenizerMs } = loaded.info.timings;
  console.log(JSON.stringify({ runtimeWarmUpMs: loaded.runtimeWarmUpMs ?? null, tokenizerMs, results }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
