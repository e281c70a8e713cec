/**
 * What a cached value costs in memory, in bytes, for the caches that bound themselves by it
 * (stores.ts). The unit is the heap V8 keeps, not characters and not the value's JSON:
 *
 * - A string whose characters are all Latin-1 (U+0000–U+00FF) is a one-byte string, one byte per
 *   character; any other character makes it a two-byte string (UTF-16), two per character. So a
 *   CJK query costs twice its length; counting characters undercounts it by half.
 * - A parsed document (graphql-js DocumentNode) keeps the whole query text (`loc.source.body`),
 *   comments included, which no token limit counts; its JSON leaves that text out (Location's
 *   toJSON is `{ start, end }`), and also each node's Location object and the lexer's Tokens, which
 *   the document keeps as a linked list (`loc.startToken`). AST_BYTES_PER_JSON_BYTE turns the JSON
 *   length into what the nodes take; test/unit/memory-size.test.ts checks the estimate is not below
 *   the heap documents of several shapes really take.
 */
import type { DocumentNode } from 'graphql';

/** Heap bytes of a parsed document's nodes, locations and tokens per byte of its JSON (see above). */
export const AST_BYTES_PER_JSON_BYTE = 5;

/**
 * What a document keeps besides its nodes and its text's characters, whatever its size: the
 * Source object, string headers, the comment tokens JSON does not show. A round upper bound.
 */
const DOCUMENT_BASE_BYTES = 256;

// eslint-disable-next-line no-control-regex -- the Latin-1 range starts at U+0000 on purpose
const BEYOND_LATIN1 = /[^\u0000-\u00ff]/;

/** The bytes V8 keeps for the characters of `text` (one-byte or two-byte string). */
export function stringBytes(text: string): number {
  return BEYOND_LATIN1.test(text) ? text.length * 2 : text.length;
}

/** A parsed document's bytes: its source text (comments included) and its nodes. */
export function documentBytes(document: DocumentNode): number {
  const source = document.loc?.source.body ?? '';
  return (
    DOCUMENT_BASE_BYTES + stringBytes(source) + AST_BYTES_PER_JSON_BYTE * Buffer.byteLength(JSON.stringify(document))
  );
}
