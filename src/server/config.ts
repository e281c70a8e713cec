/**
 * The API's configuration, read once from the environment with src/support/env.ts.
 *
 * Each security-relevant behaviour has its own switch, never NODE_ENV (which Lambda does not set).
 * "Production" is explicit and fails closed: any API_STAGE outside DEVELOPMENT_STAGES, or none on
 * Lambda, turns introspection, the IDE and request text in logs off by default (docs/operations.md,
 * "Production posture").
 */
import type { RequestLimits } from '../api/context';
import { ConfigError, bool, int, invalid, list, str, type Env } from '../support/env';

export { ConfigError };

/** The resolvers' limits (RequestLimits, src/api/context.ts) and the transport's own. */
export interface ApiLimits extends RequestLimits {
  /** Most operations in one HTTP batch (a JSON array body). */
  maxBatchOperations: number;
  /** Most aliases in one operation. */
  maxAliases: number;
  /** Deepest selection set, introspection included. */
  maxDepth: number;
  /** Most lexical tokens in one query document. */
  maxTokens: number;
  /** Largest HTTP request body, in bytes (after base64 decoding). */
  maxBodyBytes: number;
}

export interface ApiConfig {
  /** The stage name (API_STAGE), or '' when unset. */
  stage: string;
  /** Production posture (see the file comment): decides the defaults below. */
  production: boolean;
  /** Allow schema introspection (`__schema`, `__type`). GraphiQL needs it for completion and docs. */
  introspection: boolean;
  /** Serve the GraphiQL IDE on GET requests from browsers. */
  ide: boolean;
  /**
   * Replace the message of unexpected errors by "Internal server error" and never send stack
   * traces. Turn off only for local debugging.
   */
  maskErrors: boolean;
  /**
   * Origins allowed to call the API from a browser (CORS). Empty: no CORS headers, so browsers
   * allow same-origin pages only. `*` allows any origin (never with credentials).
   */
  corsOrigins: string[];
  /** Log one JSON line per HTTP request (request id, status, duration, error codes). */
  logRequests: boolean;
  /**
   * Debug only: also log the query text and variables, which contain users' questions and
   * contexts. Off by default everywhere.
   */
  logRequestText: boolean;
  /**
   * Bytes of memory for the per-instance response cache (src/server/cache/response-cache.ts);
   * 0 turns it off. Default 16 MiB in production, off elsewhere (so tests and local runs always
   * exercise the model unless they ask for the cache).
   */
  responseCacheBytes: number;
  /**
   * Bytes of memory for parsed query documents, their text included (Apollo's document store,
   * src/server/cache/stores.ts); 0 parses every query anew.
   */
  documentCacheBytes: number;
  /** Bytes of memory for automatic persisted queries (APQ); 0 turns APQ off. */
  persistedQueryCacheBytes: number;
  limits: ApiLimits;
}

/** Stage names that mean local development; every other name means production. */
export const DEVELOPMENT_STAGES: readonly string[] = Object.freeze(['dev', 'development', 'local', 'test']);

/** The stage name (API_STAGE), or '' when unset. */
export function readStage(env: Env = process.env): string {
  return str(env, 'API_STAGE') ?? '';
}

/**
 * Production unless API_STAGE names a development stage; unset means production on Lambda only
 * (AWS_LAMBDA_FUNCTION_NAME is a runtime variable Lambda sets, read for its presence only).
 */
export function isProduction(env: Env): boolean {
  const stage = readStage(env).toLowerCase();
  if (stage === '') return str(env, 'AWS_LAMBDA_FUNCTION_NAME') !== undefined;
  return !DEVELOPMENT_STAGES.includes(stage);
}

/** Comma-separated origins; each must be `*` or an http(s) origin without a path. */
function readOrigins(env: Env, name: string): string[] {
  const origins = list(env, name);
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/i.test(origin)) {
      throw invalid(name, 'a comma-separated list of origins like https://app.example.com (or *)', origin);
    }
  }
  // Browsers send the origin in lower case (scheme and host); compare that way.
  return origins.map((o) => o.toLowerCase());
}

/** Lambda's limit on a synchronous invocation's response: the result object (status, headers, body) as JSON. */
export const LAMBDA_RESPONSE_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Room kept in Lambda's payload for the status, the headers and the result object's own JSON. */
export const RESPONSE_HEADER_ROOM_BYTES = 64 * 1024;
/**
 * The largest body that always fits Lambda's payload: the body travels as a JSON string inside the
 * result, where each `"` and `\` of it is escaped, so it can take up to twice its own bytes there.
 */
export const LAMBDA_SAFE_RESPONSE_BYTES = Math.floor((LAMBDA_RESPONSE_PAYLOAD_BYTES - RESPONSE_HEADER_ROOM_BYTES) / 2);

export const DEFAULT_LIMITS: Readonly<ApiLimits> = Object.freeze({
  maxQuestionLength: 1_000,
  // A long document (some 5k tokens of English text); what it costs the model is bounded by the
  // window budget below, not by its characters.
  maxContextLength: 20_000,
  // Five maximal contexts: tokenizing is cheap next to the model, whose cost is bounded below.
  maxRequestTextLength: 100_000,
  // 64 windows of up to 512 tokens: for an int8 model on one Lambda vCPU, well within half of the
  // 29 s timeout (the bench measures a window; docs/operations.md, "Work budget").
  maxRequestWindows: 64,
  // Under API Gateway's 30 s; on Lambda the invocation's own remaining time usually decides.
  requestTimeoutMs: 28_000,
  // Lambda's response payload limit, derived above (the local server follows it too, so a
  // request that works locally works deployed).
  maxResponseBytes: LAMBDA_SAFE_RESPONSE_BYTES,
  maxTopK: 20,
  maxInputs: 32,
  maxBatchOperations: 10,
  maxAliases: 50,
  // GraphiQL's introspection query counts 21 by graphql-armor's measure (fragment spreads
  // count); answer queries are at most 3 deep. Depth bombs go far beyond.
  maxDepth: 24,
  maxTokens: 2_000,
  // Lambda's payload limit is 6 MB; contexts within the limits above fit in far less.
  maxBodyBytes: 1_048_576,
});

/** The environment variable that sets each limit. */
export const LIMIT_VARIABLES: Readonly<Record<keyof ApiLimits, string>> = Object.freeze({
  maxQuestionLength: 'API_MAX_QUESTION_LENGTH',
  maxContextLength: 'API_MAX_CONTEXT_LENGTH',
  maxRequestTextLength: 'API_MAX_REQUEST_TEXT_LENGTH',
  maxRequestWindows: 'API_MAX_REQUEST_WINDOWS',
  requestTimeoutMs: 'API_REQUEST_TIMEOUT_MS',
  maxResponseBytes: 'API_MAX_RESPONSE_BYTES',
  maxTopK: 'API_MAX_TOP_K',
  maxInputs: 'API_MAX_INPUTS',
  maxBatchOperations: 'API_MAX_BATCH_OPERATIONS',
  maxAliases: 'API_MAX_ALIASES',
  maxDepth: 'API_MAX_DEPTH',
  maxTokens: 'API_MAX_TOKENS',
  maxBodyBytes: 'API_MAX_BODY_BYTES',
});

/** The response cache's size in production unless API_RESPONSE_CACHE_BYTES says otherwise. */
export const DEFAULT_PRODUCTION_RESPONSE_CACHE_BYTES = 16 * 1024 * 1024;

/**
 * The parsed-document cache's size unless API_DOCUMENT_CACHE_BYTES says otherwise: hundreds of
 * operations of an ordinary client (a document takes kilobytes), far below any Lambda's memory.
 */
export const DEFAULT_DOCUMENT_CACHE_BYTES = 8 * 1024 * 1024;

/** The persisted-query cache's size unless API_PERSISTED_QUERY_CACHE_BYTES says otherwise. */
export const DEFAULT_PERSISTED_QUERY_CACHE_BYTES = 8 * 1024 * 1024;

/**
 * Reads the configuration. Variables: API_STAGE; API_INTROSPECTION, API_IDE, API_MASK_ERRORS,
 * API_LOG_REQUESTS, API_LOG_REQUEST_TEXT (booleans); API_CORS_ORIGINS (comma-separated);
 * API_RESPONSE_CACHE_BYTES, API_DOCUMENT_CACHE_BYTES, API_PERSISTED_QUERY_CACHE_BYTES (0 or more); and the limits in LIMIT_VARIABLES (positive integers).
 */
export function loadApiConfig(env: Env = process.env): ApiConfig {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(LIMIT_VARIABLES) as Array<keyof ApiLimits>) {
    limits[key] = int(env, LIMIT_VARIABLES[key], DEFAULT_LIMITS[key], { min: 1 });
  }
  const production = isProduction(env);
  return {
    stage: readStage(env),
    production,
    introspection: bool(env, 'API_INTROSPECTION', !production),
    ide: bool(env, 'API_IDE', !production),
    maskErrors: bool(env, 'API_MASK_ERRORS', true),
    corsOrigins: readOrigins(env, 'API_CORS_ORIGINS'),
    logRequests: bool(env, 'API_LOG_REQUESTS', production),
    logRequestText: bool(env, 'API_LOG_REQUEST_TEXT', false),
    responseCacheBytes: int(env, 'API_RESPONSE_CACHE_BYTES', production ? DEFAULT_PRODUCTION_RESPONSE_CACHE_BYTES : 0, {
      note: 'bytes; 0 turns it off',
    }),
    documentCacheBytes: int(env, 'API_DOCUMENT_CACHE_BYTES', DEFAULT_DOCUMENT_CACHE_BYTES, {
      note: 'bytes; 0 turns it off',
    }),
    persistedQueryCacheBytes: int(env, 'API_PERSISTED_QUERY_CACHE_BYTES', DEFAULT_PERSISTED_QUERY_CACHE_BYTES, {
      note: 'bytes; 0 turns APQ off',
    }),
    limits,
  };
}

/** Configuration with overrides, for tests and embedding. */
export function apiConfig(
  overrides: Partial<Omit<ApiConfig, 'limits'>> & { limits?: Partial<ApiLimits> } = {},
): ApiConfig {
  const base = loadApiConfig({});
  return { ...base, ...overrides, limits: { ...base.limits, ...overrides.limits } };
}
