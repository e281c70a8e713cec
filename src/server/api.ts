/**
 * One API instance: the Apollo server, the context factory and the IDE assets, built from a
 * config and an engine provider. The Lambda handler and the local server are thin adapters
 * over this, so both run exactly the same configuration.
 */
import type { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import type { EngineProvider } from '../model/loading/types';
import { IdeAssets, findIdeAssetsDir } from '../ide/assets';
import { createApolloServer } from './apollo';
import type { ApiConfig } from './config';
import { createContext, type ApiContext } from './context';
import { consoleSink, type LogSink } from './request-log';
import type { RequestScope } from './request-scope';
import type { ResponseCacheStats } from './cache/response-cache';

export interface Api {
  readonly config: ApiConfig;
  readonly server: ApolloServer<ApiContext>;
  readonly provider: EngineProvider;
  /**
   * A fresh per-request context (one per HTTP request, shared by the operations of a batch);
   * `scope` carries the transport's request id, deadline and stop signal (a fresh one when absent).
   */
  createContext(scope?: RequestScope): Promise<ApiContext>;
  /** Where log lines go (console unless a test or an embedder says otherwise). */
  readonly logSink: LogSink;
  /** The built IDE, or null when the IDE is off (or its bundle was not built). */
  readonly ideAssets: IdeAssets | null;
}

export interface CreateApiOptions {
  config: ApiConfig;
  provider: EngineProvider;
  plugins?: ApolloServerPlugin<ApiContext>[];
  /** Override where the IDE bundle is read from (default: findIdeAssetsDir()). */
  ideAssetsDir?: string | null;
  /** Where log lines go; console by default. */
  logSink?: LogSink;
}

export function createApi(options: CreateApiOptions): Api {
  const { config, provider } = options;
  const serverStartedAt = Date.now();
  let ideAssets: IdeAssets | null = null;
  if (config.ide) {
    const dir = options.ideAssetsDir === undefined ? findIdeAssetsDir() : options.ideAssetsDir;
    if (dir) ideAssets = IdeAssets.load(dir);
    else if (dir === undefined || options.ideAssetsDir === undefined) console.warn('API_IDE is on but the IDE bundle is missing: run `npm run build:ide`.');
  }
  const logSink = options.logSink ?? consoleSink;
  const responseCache: ResponseCacheStats | null = config.responseCacheBytes > 0 ? { maxBytes: config.responseCacheBytes, hits: 0, misses: 0 } : null;
  return {
    config,
    provider,
    ideAssets,
    logSink,
    server: createApolloServer({ config, plugins: options.plugins, logSink, responseCache }),
    createContext: async (scope) =>
      createContext({ provider, limits: config.limits, serverStartedAt, scope, exposeModelSource: !config.production, responseCache }),
  };
}
