/**
 * Serves the IDE's HTML where Apollo serves its landing page: on GET requests from browsers
 * (Accept: text/html) to the GraphQL endpoint. Apollo's default landing page and the
 * Playground plugin load from CDNs and stay blank offline; this one is self-hosted.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { ideHtml } from './html';

export function ideLandingPagePlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return landingPagePlugin(ideHtml());
}

/** Apollo's landing-page hook, serving `html`. */
function landingPagePlugin<TContext extends object>(html: string): ApolloServerPlugin<TContext> {
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

/**
 * Where the IDE is off (API_IDE, off in production): a browser opening the endpoint learns why and
 * how to call the API, instead of Apollo's CSRF refusal of a GET without a preflight header. A
 * static page: no script, nothing from the request, nothing about the deployment.
 */
export const IDE_OFF_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>GraphQL API</title></head>
<body>
<h1>This is a GraphQL API</h1>
<p>Its IDE is off here (<code>API_IDE</code> is off, as in production). Send GraphQL as an HTTP POST
with a JSON body, for example:</p>
<pre>curl -X POST &lt;this URL&gt; -H 'content-type: application/json' \\
  -d '{"query": "{ health { ready } }"}'</pre>
</body>
</html>
`;

export function ideOffLandingPagePlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return landingPagePlugin(IDE_OFF_HTML);
}
