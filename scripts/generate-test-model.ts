/**
 * CLI for the deterministic test-model generator (scripts/model-generator).
 *
 *   npx tsx scripts/generate-test-model.ts --size full --variant distilbert --out test-models/full
 *   npm run models:generate -- --variant pointer --start-token-ids 2054 --end-token-ids 2003
 *
 * Without --out the model goes to the shared cache (<repo>/test-models/<key>/), exactly where
 * `ensureTestModel` looks, and the folder is printed.
 */
import { parseArgs } from 'node:util';
import * as path from 'node:path';
import { ensureTestModel, generateTestModel, TestModelSpec } from './model-generator';

const USAGE = `Usage: generate-test-model [--size tiny|full] [--variant distilbert|bert|pointer] [--seed N]
                           [--out DIR] [--fp32-only]
                           [--start-token-ids ID,ID...] [--end-token-ids ID,ID...] [--high-logit X]`;

function idList(value: string | undefined, flag: string): number[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n)) throw new TypeError(`${flag}: not an integer token id: ${s}`);
      return n;
    });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: 'tiny' },
      variant: { type: 'string', default: 'distilbert' },
      seed: { type: 'string' },
      out: { type: 'string' },
      'fp32-only': { type: 'boolean', default: false },
      'start-token-ids': { type: 'string' },
      'end-token-ids': { type: 'string' },
      'high-logit': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const spec: TestModelSpec = {
    size: values.size as TestModelSpec['size'],
    variant: values.variant as TestModelSpec['variant'],
    seed: values.seed === undefined ? undefined : Number(values.seed),
    fp32Only: values['fp32-only'],
    startTokenIds: idList(values['start-token-ids'], '--start-token-ids'),
    endTokenIds: idList(values['end-token-ids'], '--end-token-ids'),
    highLogit: values['high-logit'] === undefined ? undefined : Number(values['high-logit']),
  };
  const t0 = performance.now();
  if (values.out) {
    const r = await generateTestModel(path.resolve(values.out), spec);
    const mb = (b: number | null): string => (b === null ? '-' : `${(b / 1e6).toFixed(1)} MB`);
    console.log(
      `${r.dir}\n  model.onnx ${mb(r.bytes.fp32)}, model_quantized.onnx ${mb(r.bytes.int8)}, ${r.ms.toFixed(0)} ms`,
    );
  } else {
    const dir = await ensureTestModel(spec);
    console.log(`${dir}\n  ${(performance.now() - t0).toFixed(0)} ms (generated, or reused from the cache)`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  console.error(USAGE);
  process.exit(1);
});
