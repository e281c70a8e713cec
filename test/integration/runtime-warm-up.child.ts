/**
 * Child process of runtime-warm-up.test.ts: a fresh process (its first onnxruntime session is the
 * one a cold start pays, outside Jest's module registry) that loads the reference fixture's int8
 * model through the loader, with or without onnxruntime's warm-up, and answers cases.
 *
 *   node --import tsx runtime-warm-up.child.ts <warmUp: 0|1> <caseCount>
 *
 * Prints one JSON line: { runtimeWarmUpMs, results: [{ id, answers }] }.
 */
import { loadModel } from '../../src/model/loading/load-model';
import { engineInput, referenceCases, REFERENCE_MODEL_DIR } from '../helpers/reference-qa';

async function main(): Promise<void> {
  const [warm, count] = process.argv.slice(2);
  const loaded = await loadModel(REFERENCE_MODEL_DIR, {
    preferQuantized: true,
    read: { idleTimeoutMs: 10_000, totalTimeoutMs: 60_000, maxInMemoryBytes: 1e9, spillDir: '/tmp' },
    threads: 1,
    warmUpRuntime: warm === '1',
  });
  const results = [];
  for (const c of referenceCases().slice(0, Number(count))) {
    results.push({ id: c.id, answers: await loaded.engine.answer(engineInput(c)) });
  }
  console.log(JSON.stringify({ runtimeWarmUpMs: loaded.runtimeWarmUpMs, results }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
