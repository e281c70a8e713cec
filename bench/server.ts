/** The local server (src/local-server.ts) in this process, serving one already-created engine. */
import { createApi } from '../src/server/api';
import { apiConfig } from '../src/server/config';
import { listen, type RunningServer } from '../src/local-server';
import type { QAEngine } from '../src/model/engine';
import { fixedModel } from '../src/model/loading/fixed-model';

/** Same Apollo configuration as `npm start` (production limits), IDE off, on a free loopback port. */
export function serveEngine(engine: QAEngine): Promise<RunningServer> {
  const api = createApi({
    config: apiConfig({ ide: false }),
    provider: fixedModel(engine),
    ideAssetsDir: null,
  });
  return listen(api, { port: 0, host: '127.0.0.1' });
}
