/**
 * The API's frontend client (Apollo Client), for browsers and Node alike. `createBatchingClient`
 * sends the queries of one tick as ONE HTTP POST (BatchHttpLink), which the API answers with one
 * engine call; `createPersistedClient` sends automatic persisted queries as GET, cacheable by a CDN.
 * Both send `apollo-require-preflight`, which Apollo's CSRF prevention requires on GET and which
 * makes browsers preflight cross-origin calls. docs/api.md, "Calling it from a web app", has more.
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
  const http = new HttpLink({
    uri: options.uri,
    fetch: options.fetch,
    headers: { ...CSRF_HEADER, ...options.headers },
  });
  const persisted: ApolloLink = new PersistedQueryLink({ sha256, useGETForHashedQueries: true });
  return new ApolloClient({ link: persisted.concat(http), cache: cache() });
}
