/**
 * Serves the IDE's HTML where Apollo serves its landing page: on GET requests from browsers
 * (Accept: text/html) to the GraphQL endpoint. Apollo's default landing page and the
 * Playground plugin load from CDNs and stay blank offline; this one is self-hosted.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { ideHtml } from './html';

export function ideLandingPagePlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  const html = ideHtml();
  return {
    async serverWillStart() {
      return {
        async renderLandingPage() {
          return { html };
        },
      };
    },
  };
}
