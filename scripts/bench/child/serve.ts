/**
 * A fresh process for the cold-start and memory rows, bundled with esbuild like the Lambda code
 * (see ../children.ts). It loads the model through the production loader (src/model/loading),
 * then, by BENCH_MODE:
 *   cold   answers one question, reports where the time went, exits;
 *   serve  starts the local server on a free port and reports its URL; the parent sends the
 *          requests and reads this process's peak RSS from /proc.
 * Talks to the parent over the fork IPC channel.
 */
import { performance } from 'node:perf_hooks';
// Taken before anything else in the bundle's main runs: node start-up plus evaluating the bundle.
const bootMs = performance.now();

import { createModelS3Client, loadModelLoadingConfig } from '../../../src/model/loading/config';
import { loadModel } from '../../../src/model/loading/load-model';
import { createApi } from '../../../src/server/api';
import { apiConfig } from '../../../src/server/config';
import { listen } from '../../../src/local-server';
import { fixedProvider } from '../server';

export interface ColdReport {
  kind: 'cold';
  bootMs: number;
  downloadMs: number;
  sessionCreateMs: number;
  tokenizerMs: number;
  /** loadModel's own total, which includes what the parts above do not (imports done lazily). */
  loadTotalMs: number;
  firstRunMs: number;
  /** performance.now() when the first answer was ready: ms since this process started. */
  doneMs: number;
  quantized: boolean;
  rssMb: number;
}

export interface ServeReport {
  kind: 'serve';
  url: string;
  rssAfterLoadMb: number;
  quantized: boolean;
}

function send(message: ColdReport | ServeReport | { kind: 'error'; message: string }): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

async function main(): Promise<void> {
  const mode = process.env.BENCH_MODE;
  const config = loadModelLoadingConfig(process.env);
  const uri = config.modelUri;
  if (!uri) throw new Error('MODEL_URI is required');
  const s3 = uri.startsWith('s3://') ? createModelS3Client(config) : undefined;
  const loaded = await loadModel(uri, {
    s3,
    preferQuantized: config.preferQuantized,
    read: config.s3,
    // The thread count under test comes as MODEL_THREADS, as in production.
    threads: config.threads,
  });
  const t = loaded.info.timings;
  if (mode === 'cold') {
    const r0 = performance.now();
    await loaded.engine.answer({ question: process.env.BENCH_QUESTION!, context: process.env.BENCH_CONTEXT! });
    const doneMs = performance.now();
    await send({
      kind: 'cold',
      bootMs,
      downloadMs: t.downloadMs,
      sessionCreateMs: t.sessionCreateMs,
      tokenizerMs: t.tokenizerMs,
      loadTotalMs: t.totalMs,
      firstRunMs: doneMs - r0,
      doneMs,
      quantized: loaded.info.quantized,
      rssMb: process.memoryUsage.rss() / 2 ** 20,
    });
    process.exit(0);
  }
  const api = createApi({ config: apiConfig({ ide: false }), provider: fixedProvider(loaded.engine), ideAssetsDir: null });
  const running = await listen(api, { port: 0, host: '127.0.0.1' });
  await send({ kind: 'serve', url: running.url, rssAfterLoadMb: process.memoryUsage.rss() / 2 ** 20, quantized: loaded.info.quantized });
  // The parent ends us with a message (or by disconnecting); never outlive it.
  process.on('message', () => void running.close().then(() => process.exit(0)));
  process.on('disconnect', () => process.exit(0));
}

main().catch(async (error: unknown) => {
  await send({ kind: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
