/**
 * The local server on the tiny model, in its own process for the load test (so the RSS measured
 * is the server's, not jest's). Prints its URL as JSON on stdout; answers IPC "rss" messages with
 * its resident set size after a full GC (run with --expose-gc).
 */
import { createApi } from '../../../src/server/api';
import { apiConfig } from '../../../src/server/config';
import { listen } from '../../../src/local-server';
import { loadModel } from '../../../src/model/loading/load-model';
import { fixedModel } from '../../api/helpers/engines';

async function main(): Promise<void> {
  const dir = process.argv[2]!;
  const { engine, info } = await loadModel(dir, {
    preferQuantized: true,
    read: { idleTimeoutMs: 10_000, totalTimeoutMs: 60_000, maxInMemoryBytes: 1 << 30, spillDir: '/tmp' },
  });
  const api = createApi({
    config: apiConfig({ production: true, introspection: false, ide: false }),
    provider: fixedModel(engine, info),
    ideAssetsDir: null,
  });
  const running = await listen(api, { port: 0, host: '127.0.0.1' });
  process.on('message', (message) => {
    if (message !== 'rss') return;
    (globalThis as { gc?: () => void }).gc?.();
    process.send!({ rss: process.memoryUsage().rss });
  });
  process.on('disconnect', () => void running.close().then(() => process.exit(0)));
  process.stdout.write(`${JSON.stringify({ url: running.url })}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
