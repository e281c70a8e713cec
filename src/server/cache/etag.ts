/**
 * HTTP validators of GraphQL responses (RFC 9110, sections 8.8 and 13), decided from the response
 * as it is sent, so that an ETag can only ever name the bytes it came with:
 *
 * - Only a GET (or HEAD) response gets one, and only GET and HEAD are answered 304: the response
 *   to a POST is not a representation of its URL, and no cache reuses it for a later request, so
 *   an `If-None-Match` on a POST is ignored (the operation runs and is answered in full).
 * - Only a response Apollo's cache-control plugin marked `public` with a max-age gets one. The
 *   plugin writes that only when no operation of the request has an error (an operation with
 *   errors writes `no-store`, whatever the order of a batch's operations), so a response with an
 *   error never has an ETag and is never answered 304.
 * - The tag is a hash of the Content-Type and the body: it identifies the content itself, not
 *   the model that computed it, so two different answers never share a tag, and the JSON and
 *   graphql-response+json representations of one answer (Content-Type follows `Accept`, and the
 *   response says `Vary: Accept`) have different tags. Weak (`W/`), because a gateway or CDN may
 *   re-encode the body (compression) without changing the tag; If-None-Match compares weakly.
 */
import { createHash } from 'node:crypto';
import fresh from 'fresh';

/** The methods whose responses caches store and revalidate (RFC 9110, section 13.1.2). */
const CONDITIONAL_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/** What Apollo's cache-control plugin writes for a response any cache may keep. */
const PUBLIC_MAX_AGE = /^max-age=(\d+), public$/;

export interface SentResponse {
  /** The request's method, upper case. */
  method: string;
  status: number;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string>>;
  body: string;
}

/** The ETag the response gets, or null when it must have none (see the file comment). */
export function responseEtag(response: SentResponse): string | null {
  if (!CONDITIONAL_METHODS.has(response.method) || response.status !== 200) return null;
  const maxAge = PUBLIC_MAX_AGE.exec(response.headers['cache-control'] ?? '');
  if (!maxAge || Number(maxAge[1]) === 0) return null;
  const digest = createHash('sha256')
    .update(response.headers['content-type'] ?? '')
    .update('\n')
    .update(response.body)
    .digest('base64url');
  return `W/"qa-${digest.slice(0, 32)}"`;
}

/**
 * Whether a conditional request may be answered 304 Not Modified: a GET or HEAD whose
 * `If-None-Match` lists `etag` (weak comparison) or is `*`; `fresh` (jshttp, as Express uses it)
 * parses the list. The request's Cache-Control is not given to `fresh`, which would treat
 * `no-cache` as a demand for the full response: that directive asks caches to revalidate with
 * the origin, and this is the origin validating (fetch() adds it to every conditional request).
 */
export function notModified(method: string, ifNoneMatch: string | undefined, etag: string | null): boolean {
  if (!CONDITIONAL_METHODS.has(method) || etag === null || !ifNoneMatch) return false;
  return fresh({ 'if-none-match': ifNoneMatch }, { etag });
}
