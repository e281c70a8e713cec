/**
 * The API's configuration, read once from the environment.
 *
 * Every security-relevant behaviour has its own explicit switch: Apollo ties introspection and
 * stack traces to NODE_ENV, which Lambda does not set, so relying on it would silently expose
 * stack traces in production (or hide introspection locally). Defaults are the production-safe
 * public API: introspection and the IDE on (the schema is public), internal errors masked.
 */
export interface ApiLimits {
  /** Longest `question`, in UTF-16 code units. */
  maxQuestionLength: number;
  /** Longest `context` of one input, in UTF-16 code units. */
  maxContextLength: number;
  /** Sum of all context lengths answered in one HTTP request (bounds its CPU time). */
  maxRequestContextLength: number;
  /** Largest `topK`. */
  maxTopK: number;
  /** Most inputs of one `answerMany`. */
  maxInputs: number;
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
  /** Allow schema introspection (`__schema`, `__type`). GraphiQL needs it for completion and docs. */
  introspection: boolean;
  /** Serve the GraphiQL IDE on GET requests from browsers. */
  ide: boolean;
  /**
   * Replace the message of unexpected errors by "Internal server error" and never send stack
   * traces. Turn off only for local debugging.
   */
  maskErrors: boolean;
  limits: ApiLimits;
}

export const DEFAULT_LIMITS: Readonly<ApiLimits> = Object.freeze({
  maxQuestionLength: 1_000,
  // ~5k tokens: about 20 windows of 384 tokens, a few seconds on one Lambda vCPU.
  maxContextLength: 20_000,
  // Keeps one request well inside API Gateway's 29 s timeout on a small Lambda.
  maxRequestContextLength: 100_000,
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
  maxRequestContextLength: 'API_MAX_REQUEST_CONTEXT_LENGTH',
  maxTopK: 'API_MAX_TOP_K',
  maxInputs: 'API_MAX_INPUTS',
  maxBatchOperations: 'API_MAX_BATCH_OPERATIONS',
  maxAliases: 'API_MAX_ALIASES',
  maxDepth: 'API_MAX_DEPTH',
  maxTokens: 'API_MAX_TOKENS',
  maxBodyBytes: 'API_MAX_BODY_BYTES',
});

/** Thrown at start-up for a malformed variable, so a typo never silently means "default". */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function readBoolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

function readPositiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(`${name} must be a positive integer, got "${raw}"`);
  }
  return value;
}

/**
 * Reads the configuration. Variables: API_INTROSPECTION, API_IDE, API_MASK_ERRORS (true/false)
 * and the limits in LIMIT_VARIABLES (positive integers).
 */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(LIMIT_VARIABLES) as Array<keyof ApiLimits>) {
    limits[key] = readPositiveInt(env, LIMIT_VARIABLES[key], DEFAULT_LIMITS[key]);
  }
  return {
    introspection: readBoolean(env, 'API_INTROSPECTION', true),
    ide: readBoolean(env, 'API_IDE', true),
    maskErrors: readBoolean(env, 'API_MASK_ERRORS', true),
    limits,
  };
}

/** Configuration with overrides, for tests and embedding. */
export function apiConfig(overrides: Partial<Omit<ApiConfig, 'limits'>> & { limits?: Partial<ApiLimits> } = {}): ApiConfig {
  const base = loadApiConfig({});
  return { ...base, ...overrides, limits: { ...base.limits, ...overrides.limits } };
}
