/**
 * The API's frontend client: Apollo Client over the links this API is built for. Runs in browsers
 * (the demo page, bundled by scripts/build-ide.ts) and in Node (the tests), with no Node-only or
 * DOM-only import.
 *
 * - `createBatchingClient`: BatchHttpLink. Queries issued in the same tick (say, one per question
 *   a page shows) go out as ONE HTTP POST with a JSON array body, which the API runs as one
 *   engine call (every answer of one HTTP request shares one DataLoader). Each query still gets
 *   its own result and its own errors.
 * - `createPersistedClient`: automatic persisted queries sent as GET (Apollo Server's own APQ): the
 *   URL carries only the query's SHA-256, so a CDN can cache it. The first use of a query is a
 *   hash miss (PERSISTED_QUERY_NOT_FOUND), which the link answers by POSTing the full query once.
 *
 * Both send `apollo-require-preflight`: Apollo's CSRF prevention refuses a GET without it (a
 * cross-site <img> or form cannot set a custom header), and it makes browsers preflight
 * cross-origin calls, which is what CORS (API_CORS_ORIGINS) then allows.
 */
import { ApolloClient, HttpLink, InMemoryCache, type ApolloLink } from '@apollo/client';
import { BatchHttpLink } from '@apollo/client/link/batch-http';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import CORS_POLICY from '../support/cors.json';

export interface QaClientOptions {
  /** The GraphQL endpoint, e.g. https://api.example.com/graphql. */
  uri: string;
  /** A fetch to use instead of the global one (tests count requests with it). */
  fetch?: typeof fetch;
  /** Extra headers, e.g. `authorization` when the API has a JWT authorizer. */
  headers?: Record<string, string>;
}

export interface BatchingClientOptions extends QaClientOptions {
  /** How long the link waits for more queries before sending a batch (ms). Default 10. */
  batchInterval?: number;
  /**
   * Most queries per HTTP request. Default 10: the API's API_MAX_BATCH_OPERATIONS default; a
   * larger batch would be refused whole.
   */
  batchMax?: number;
}

/** The header Apollo Server's CSRF prevention asks of GETs (any value); CORS allows it (src/support/cors.json). */
export const CSRF_HEADER: Readonly<Record<string, string>> = { [CORS_POLICY.csrfHeader]: 'true' };

function cache(): InMemoryCache {
  // Answers have no id: they are stored under the query that fetched them.
  return new InMemoryCache();
}

export function createBatchingClient(options: BatchingClientOptions): ApolloClient {
  const link = new BatchHttpLink({
    uri: options.uri,
    fetch: options.fetch,
    headers: { ...CSRF_HEADER, ...options.headers },
    batchInterval: options.batchInterval ?? 10,
    batchMax: options.batchMax ?? 10,
  });
  return new ApolloClient({ link, cache: cache() });
}

/** SHA-256 of the query text, hex, with Web Crypto (browsers' secure contexts, Node ≥ 18). */
async function sha256(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function createPersistedClient(options: QaClientOptions): ApolloClient {
  const http = new HttpLink({ uri: options.uri, fetch: options.fetch, headers: { ...CSRF_HEADER, ...options.headers } });
  const persisted: ApolloLink = new PersistedQueryLink({ sha256, useGETForHashedQueries: true });
  return new ApolloClient({ link: persisted.concat(http), cache: cache() });
}
