/**
 * The optional per-instance response cache: Apollo's response-cache plugin over an in-memory LRU
 * bounded by the bytes it holds (API_RESPONSE_CACHE_BYTES; stores.ts). The schema's cache hints alone decide what is
 * cached; the model version is part of the key, so a cached answer always names the model that
 * computed it (docs/api.md, "HTTP caching"). Hits and misses are counted per instance and per request.
 */
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import responseCachePlugin from '@apollo/server-plugin-response-cache';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { ModelProvider } from '../../model/loading/types';
import type { ResponseCacheStats } from '../../api/context';
import type { RequestScope } from '../../api/request-scope';
import { cacheVersion } from './model-version';

interface CacheContext {
  readonly provider: ModelProvider;
  readonly scope: Pick<RequestScope, 'recorder'>;
}

function currentVersion(provider: ModelProvider): string | null {
  const info = provider.info();
  return info ? cacheVersion(info) : null;
}

/**
 * The two plugins of the response cache (Apollo's, then the one that counts), sharing `stats`,
 * over `cache` (stores.ts: bounded by the bytes of the serialized responses it keeps).
 */
export function responseCachePlugins<T extends CacheContext>(
  stats: ResponseCacheStats,
  cache: KeyValueCache<string>,
): ApolloServerPlugin<T>[] {
  // Which operations were looked up, and the model version their key was made with.
  const keyVersion = new WeakMap<GraphQLRequestContext<T>, string | null>();
  const apollo = responseCachePlugin<T>({
    cache,
    extraCacheKeyData: async (rc) => {
      const version = currentVersion(rc.contextValue.provider);
      keyVersion.set(rc, version);
      return { modelVersion: version };
    },
    shouldReadFromCache: async (rc) => keyVersion.get(rc) != null,
    // The model may have been (re)loaded while the operation ran: store only under the version
    // that computed the answer.
    shouldWriteToCache: async (rc) => {
      const version = keyVersion.get(rc);
      return version != null && version === currentVersion(rc.contextValue.provider);
    },
  });
  const counter: ApolloServerPlugin<T> = {
    async requestDidStart() {
      return {
        async willSendResponse(rc) {
          if (keyVersion.get(rc) == null) return; // not looked up
          const hit = rc.metrics.responseCacheHit === true;
          // A miss is a cacheable response the cache did not have: `health`, or an error, looked up
          // in vain, is not one (it could never have been there).
          const cacheable =
            rc.response.body.kind === 'single' &&
            !rc.response.body.singleResult.errors &&
            rc.overallCachePolicy.policyIfCacheable() !== null;
          if (!hit && !cacheable) return;
          if (hit) stats.hits += 1;
          else stats.misses += 1;
          rc.contextValue.scope.recorder.responseCacheLookup(hit);
        },
      };
    },
  };
  return [apollo, counter];
}
