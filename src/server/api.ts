/**
 * One API instance: the Apollo server, the context factory and the IDE assets, built from a
 * config and an engine provider. The Lambda handler and the local server are thin adapters
 * over this, so both run exactly the same configuration.
 */
import type { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import type { ModelProvider } from '../model/loading/types';
import { IdeAssets, findIdeAssetsDir } from '../ide/assets';
import { createApolloServer } from './apollo';
import type { ApiConfig } from './config';
import type { ApiContext } from '../api/context';
import { createContext } from './context';
import type { Logger } from '@aws-lambda-powertools/logger';
import { createLogger, loggerSink } from './logger';
import { ApiMetrics, type MetricsRecorder } from './metrics';
import type { LogSink } from './request-log';
import type { RequestScope } from '../api/request-scope';
import type { ResponseCacheStats } from '../api/context';
import { createCaches, type ApiCaches } from './cache/stores';
import { optionalBool, str, type Env } from '../support/env';

export interface Api {
  readonly config: ApiConfig;
  readonly server: ApolloServer<ApiContext>;
  readonly provider: ModelProvider;
  /**
   * A fresh per-request context (one per HTTP request, shared by the operations of a batch);
   * `scope` carries the transport's request id, deadline and stop signal (a fresh one when absent).
   */
  createContext(scope?: RequestScope): Promise<ApiContext>;
  /** The Powertools Logger both transports write through (the Lambda adapter adds its context). */
  readonly logger: Logger;
  /** Where log lines go (`logger` unless a test or an embedder says otherwise). */
  readonly logSink: LogSink;
  /** Where each request's metrics go (EMF on stdout), or null for none. */
  readonly metrics: MetricsRecorder | null;
  /** The built IDE, or null when the IDE is off (or its bundle was not built). */
  readonly ideAssets: IdeAssets | null;
  /** The caches that keep memory between requests, each bounded in bytes (cache/stores.ts). */
  readonly caches: ApiCaches;
}

export interface CreateApiOptions {
  config: ApiConfig;
  provider: ModelProvider;
  plugins?: ApolloServerPlugin<ApiContext>[];
  /** Override where the IDE bundle is read from (default: findIdeAssetsDir()). */
  ideAssetsDir?: string | null;
  /** The Powertools Logger; a new one (POWERTOOLS_* settings) by default. */
  logger?: Logger;
  /** Where log lines go; through `logger` by default. */
  logSink?: LogSink;
  /**
   * Request metrics; by default EMF for the config's stage on Lambda (or wherever
   * POWERTOOLS_METRICS_DISABLED=false asks for them), none elsewhere; none when null.
   */
  metrics?: MetricsRecorder | null;
}

/**
 * EMF lines are for CloudWatch, which reads them from a Lambda function's stdout. Elsewhere (`npm
 * start`, the bench) they would be one JSON line per request in the terminal and a write per
 * request on the hot path, so they are off unless asked for.
 */
function defaultMetrics(stage: string, env: Env = process.env): MetricsRecorder | null {
  // AWS_LAMBDA_FUNCTION_NAME: set by Lambda's runtime, read for its presence only.
  const wanted =
    str(env, 'AWS_LAMBDA_FUNCTION_NAME') !== undefined || optionalBool(env, 'POWERTOOLS_METRICS_DISABLED') === false;
  return wanted ? new ApiMetrics({ stage }) : null;
}

export function createApi(options: CreateApiOptions): Api {
  const { config, provider } = options;
  const serverStartedAt = Date.now();
  let ideAssets: IdeAssets | null = null;
  if (config.ide) {
    const dir = options.ideAssetsDir === undefined ? findIdeAssetsDir() : options.ideAssetsDir;
    if (dir) ideAssets = IdeAssets.load(dir);
    else if (dir === undefined || options.ideAssetsDir === undefined)
      console.warn('API_IDE is on but the IDE bundle is missing: run `npm run build:ide`.');
  }
  const logger = options.logger ?? createLogger();
  const logSink = options.logSink ?? loggerSink(logger);
  const responseCache: ResponseCacheStats | null =
    config.responseCacheBytes > 0 ? { maxBytes: config.responseCacheBytes, hits: 0, misses: 0 } : null;
  const caches = createCaches(config);
  return {
    config,
    provider,
    ideAssets,
    logger,
    logSink,
    metrics: options.metrics === undefined ? defaultMetrics(config.stage) : options.metrics,
    caches,
    server: createApolloServer({ config, plugins: options.plugins, logSink, responseCache, caches }),
    createContext: async (scope) =>
      createContext({
        provider,
        limits: config.limits,
        serverStartedAt,
        scope,
        exposeModelSource: !config.production,
        responseCache,
        log: logSink,
      }),
  };
}
