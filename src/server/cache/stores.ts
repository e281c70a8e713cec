/**
 * The three caches that keep memory after a request, each bounded by the bytes it really holds
 * (memory-size.ts), all Apollo's InMemoryLRUCache (lru-cache) with its own size options rather
 * than another LRU:
 *
 * - parsed documents (Apollo's `documentStore`), keyed by the query's hash;
 * - persisted queries (APQ: a query registered under its hash, then sent by hash alone);
 * - responses (the response-cache plugin's serialized answers, response-cache.ts).
 *
 * `maxSize` bounds the sum; `maxEntrySize` keeps any one value to 1/MAX_ENTRY_SHARE of it, so a
 * large query (a long comment, inline contexts) is used but not kept, and one request never
 * empties a cache of what others use. A value over it is simply not stored: its document is parsed
 * again next time, and a persisted query over it is not registered (its client gets
 * PERSISTED_QUERY_NOT_FOUND and sends the query in full, as the protocol provides).
 */
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import type { DocumentNode } from 'graphql';
import { documentBytes, stringBytes } from './memory-size';

/** The most a single value may take of its cache: 1/MAX_ENTRY_SHARE. */
export const MAX_ENTRY_SHARE = 64;

/** The caches of one API instance; null when its size is 0 (off). */
export interface ApiCaches {
  readonly documents: InMemoryLRUCache<DocumentNode> | null;
  readonly persistedQueries: InMemoryLRUCache<string> | null;
  readonly responses: InMemoryLRUCache<string> | null;
}

export interface CacheSizes {
  documentCacheBytes: number;
  persistedQueryCacheBytes: number;
  responseCacheBytes: number;
}

function boundedCache<V extends NonNullable<unknown>>(
  maxBytes: number,
  size: (value: V) => number,
): InMemoryLRUCache<V> | null {
  if (maxBytes <= 0) return null;
  return new InMemoryLRUCache<V>({
    maxSize: maxBytes,
    maxEntrySize: Math.max(1, Math.floor(maxBytes / MAX_ENTRY_SHARE)),
    // The key is kept too (a hash, with Apollo's prefix). lru-cache refuses a size below 1.
    sizeCalculation: (value: V, key: string) => Math.max(1, size(value) + stringBytes(key)),
  });
}

export function createCaches(sizes: CacheSizes): ApiCaches {
  return {
    documents: boundedCache<DocumentNode>(sizes.documentCacheBytes, documentBytes),
    persistedQueries: boundedCache<string>(sizes.persistedQueryCacheBytes, stringBytes),
    responses: boundedCache<string>(sizes.responseCacheBytes, stringBytes),
  };
}
