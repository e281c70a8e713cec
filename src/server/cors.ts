/**
 * CORS for both transports: a pure function from the request's Origin (and, for preflights, the
 * requested method and headers) to the headers to add. The allow-list is API_CORS_ORIGINS.
 *
 * Why the API does this itself although API Gateway can (serverless.yml configures the HTTP API's
 * CORS from the same list): the local server has no gateway, and an API deployed behind another
 * front (a function URL, a REST API) must not silently lose its policy.
 *
 * The headers, methods and max age are in src/support/cors.json, which the gateway's configuration
 * (scripts/serverless/http-api.js, plain JavaScript) and the client (its CSRF header) read too.
 */
import CORS_POLICY from '../support/cors.json';

/** Headers a browser may send on a GraphQL request (Apollo's CSRF preflight header included). */
export const CORS_ALLOWED_HEADERS = CORS_POLICY.allowedHeaders.join(', ');
export const CORS_ALLOWED_METHODS = CORS_POLICY.allowedMethods.join(', ');
/** Headers a browser's script may read from a response. */
export const CORS_EXPOSED_HEADERS = CORS_POLICY.exposedHeaders.join(', ');
/** Browsers cache a preflight this many seconds. */
export const CORS_MAX_AGE = String(CORS_POLICY.maxAgeSeconds);

export interface CorsRequest {
  method: string;
  origin: string | undefined;
  /** Access-Control-Request-Method, present on preflights. */
  requestMethod?: string | undefined;
}

export interface CorsResult {
  /** A preflight to answer directly (204) without running GraphQL. */
  preflight: boolean;
  headers: Record<string, string>;
}

/** Is `origin` on the list? Exact match, case-insensitive; `*` matches every origin. */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (!origin || allowed.length === 0) return false;
  return allowed.includes('*') || allowed.includes(origin.toLowerCase());
}

export function corsHeaders(req: CorsRequest, allowed: readonly string[]): CorsResult {
  const preflight = req.method.toUpperCase() === 'OPTIONS';
  // Vary on Origin whenever the answer depends on it, so shared caches never serve one origin's
  // allowance to another. With `*` it does too: a request without Origin gets no CORS headers, and
  // a cached copy of that response must not reach a browser's cross-origin request.
  const headers: Record<string, string> = allowed.length > 0 ? { vary: 'Origin' } : {};
  if (!originAllowed(req.origin, allowed)) return { preflight, headers };
  headers['access-control-allow-origin'] = allowed.includes('*') ? '*' : req.origin!;
  headers['access-control-expose-headers'] = CORS_EXPOSED_HEADERS;
  if (preflight) {
    headers['access-control-allow-methods'] = CORS_ALLOWED_METHODS;
    headers['access-control-allow-headers'] = CORS_ALLOWED_HEADERS;
    headers['access-control-max-age'] = CORS_MAX_AGE;
  }
  return { preflight, headers };
}
