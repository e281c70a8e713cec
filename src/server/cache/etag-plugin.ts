/**
 * Puts the model version into what makes a cacheable response valid: every response Apollo's
 * cache control marks cacheable (`Cache-Control: max-age=N, public`) gets `ETag: W/"qa-<hash of
 * the model version>"`. A CDN or browser revalidating after max-age sends it back in
 * `If-None-Match`; while the model is the same the request core answers 304 (request-core.ts),
 * and once the model changes the tag differs, so old answers are never served past max-age.
 *
 * It reads the operation's cache policy, not the header: Apollo's cache-control plugin writes the
 * header in the same hook, and hooks of one stage run concurrently.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { EngineProvider } from '../../model/loading/types';
import { cacheVersion, modelEtag } from './model-version';

export function modelEtagPlugin<T extends { readonly provider: EngineProvider }>(): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue, overallCachePolicy }) {
          if (response.body.kind !== 'single' || response.body.singleResult.errors) return;
          if (overallCachePolicy.policyIfCacheable()?.scope !== 'PUBLIC') return;
          const info = contextValue.provider.info();
          // Cacheable answers exist only once the model is loaded; without a version, no tag.
          if (info) response.http.headers.set('etag', modelEtag(cacheVersion(info)));
        },
      };
    },
  };
}
