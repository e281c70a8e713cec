/**
 * Peak RSS of a serving process: a fresh bundled child loads the model (local folder) and serves
 * 200 GraphQL requests, four at a time, of mixed lengths; its VmHWM (the kernel's high-water mark
 * of resident memory) is read from /proc at the end, and VmRSS is sampled during the run.
 */
import type { ServeReport } from '../child/serve';
import { procMemory, stopChild, type ChildBundle } from '../children';
import { ANSWER_QUERY, postGraphQL } from '../graphql-client';
import type { SizedInput } from '../inputs';
import type { Precision } from '../peer';

export interface MemoryRow {
  precision: Precision;
  requests: number;
  rssAfterLoadMb: number;
  peakRssMb: number;
  maxSampledRssMb: number;
  wallMs: number;
}

const REQUESTS = 200;
const CONCURRENCY = 4;

export async function runMemory(
  bundle: ChildBundle,
  modelDir: string,
  precision: Precision,
  inputs: readonly SizedInput[],
  threads: number,
  log: (m: string) => void,
): Promise<MemoryRow> {
  const { child, report } = await bundle.start({
    MODEL_URI: modelDir,
    MODEL_QUANTIZED: precision === 'int8' ? 'true' : 'false',
    BENCH_MODE: 'serve',
    MODEL_THREADS: String(threads),
  });
  const serve = report as ServeReport;
  try {
    if (serve.quantized !== (precision === 'int8'))
      throw new Error(`expected ${precision}, the child loaded the other model`);
    let maxSampled = 0;
    const sampler = setInterval(() => (maxSampled = Math.max(maxSampled, procMemory(child.pid!).rssMb)), 20);
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < REQUESTS; i = next++) {
        const input = inputs[i % inputs.length]!;
        await postGraphQL(serve.url, ANSWER_QUERY, { q: input.question, c: input.context });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const wallMs = performance.now() - t0;
    clearInterval(sampler);
    const { hwmMb } = procMemory(child.pid!);
    log(`  ${precision}: peak RSS ${Math.round(hwmMb)} MB, ${REQUESTS} requests in ${Math.round(wallMs)} ms`);
    return {
      precision,
      requests: REQUESTS,
      rssAfterLoadMb: serve.rssAfterLoadMb,
      peakRssMb: hwmMb,
      maxSampledRssMb: maxSampled,
      wallMs,
    };
  } finally {
    await stopChild(child);
  }
}
