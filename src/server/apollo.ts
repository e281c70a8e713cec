/**
 * The Apollo Server configuration shared by the Lambda handler, the local server and tests.
 */
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { typeDefs } from '../generated/type-defs';
import { resolvers } from '../resolvers';
import type { ApiConfig } from './config';
import type { ApiContext } from '../api/context';
import { createFormatError } from '../api/errors';
import { schemaNamesOf } from '../api/value-free-messages';
import { ideLandingPagePlugin, ideOffLandingPagePlugin } from '../ide/landing-page';
import { noIntrospectionRule } from './no-introspection-rule';
import { defaultSink, requestLogPlugin, type LogSink } from './request-log';
import { partialSuccessPlugin } from './partial-success';
import { knownOperationTypesRule } from './operation-type-rule';
import { responseCachePlugins } from './cache/response-cache';
import { createCaches, type ApiCaches } from './cache/stores';
import { recordingCodes } from './sent-codes';
import type { ResponseCacheStats } from '../api/context';

export interface ApiServerOptions {
  config: ApiConfig;
  /** Extra plugins (tests use them to observe requests). */
  plugins?: ApolloServerPlugin<ApiContext>[];
  /** Where log lines go (request-log.ts); console by default. */
  logSink?: LogSink;
  /** The response cache's counters when it is on (config.responseCacheBytes > 0); null or absent: off. */
  responseCache?: ResponseCacheStats | null;
  /** The caches, bounded in bytes (cache/stores.ts); made from the config's sizes when absent. */
  caches?: ApiCaches;
}

export function createApolloServer(options: ApiServerOptions): ApolloServer<ApiContext> {
  const { config } = options;
  const { limits } = config;
  const caches = options.caches ?? createCaches(config);
  // graphql-armor's validation rules reject a query before it executes: 1,000 aliases or a
  // depth bomb costs one parse and a 400, never 1,000 resolver calls. Its "allow batched
  // requests: false" advice is deliberately not followed: batches are capped in http-body.ts.
  const armor = new ApolloArmor({
    maxAliases: { n: limits.maxAliases },
    // Introspection is the only recursive part of this schema (type → fields → type …), so it
    // must count: the classic depth bomb is an introspection query. GraphiQL's own
    // introspection query (21 by this rule's count) passes the default limit.
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: false },
    // Token counting is done by graphql-js's parser (parseOptions below): armor's maxTokens
    // plugin throws from a hook Apollo 5 treats as a server crash (HTTP 500).
    maxTokens: { enabled: false },
    maxDirectives: { n: 10 },
    costLimit: { maxCost: 5_000 },
    // "Did you mean" suggestions leak the schema only when introspection is off.
    blockFieldSuggestion: { enabled: !config.introspection },
  }).protect();

  return new ApolloServer<ApiContext>({
    typeDefs,
    resolvers,
    // Apollo's own refusal names its constructor option; ours names API_INTROSPECTION.
    introspection: true,
    // Never follow NODE_ENV: stack traces are shown only when masking is explicitly off.
    includeStacktraceInErrorResponses: !config.maskErrors,
    // Every error Apollo sends passes through here: its code is recorded for the request's log
    // line and metrics (sent-codes.ts).
    formatError: recordingCodes(
      createFormatError({ maskErrors: config.maskErrors, schemaNames: schemaNamesOf(typeDefs) }),
    ),
    allowBatchedHttpRequests: true,
    // GETs (and non-JSON POSTs) must carry a preflight-forcing header, so a cross-site form or
    // <img> cannot make a browser run an operation with the user's cookies.
    csrfPrevention: true,
    validationRules: [
      knownOperationTypesRule,
      ...(config.introspection ? [] : [noIntrospectionRule]),
      ...armor.validationRules,
    ],
    // The parser stops after maxTokens tokens: a huge document costs no more than a small one.
    parseOptions: { maxTokens: limits.maxTokens },
    // Parsed documents and persisted queries keep their whole text, comments included: both are
    // bounded by the bytes they hold, not Apollo's defaults (an AST's JSON, a string's length).
    documentStore: caches.documents,
    persistedQueries: caches.persistedQueries ? { cache: caches.persistedQueries } : false,
    plugins: [
      ...armor.plugins,
      requestLogPlugin<ApiContext>({
        logRequests: config.logRequests,
        logRequestText: config.logRequestText,
        sink: options.logSink ?? defaultSink,
      }),
      partialSuccessPlugin<ApiContext>(),
      config.ide ? ideLandingPagePlugin() : ideOffLandingPagePlugin(),
      // Cacheable responses (schema @cacheControl) are optionally kept in memory; their ETag is
      // the request core's (src/server/cache/etag.ts).
      ...(options.responseCache && caches.responses
        ? responseCachePlugins<ApiContext>(options.responseCache, caches.responses)
        : []),
      ...(options.plugins ?? []),
    ],
  });
}
