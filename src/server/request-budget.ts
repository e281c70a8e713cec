/**
 * The request budget: every axis a request's cost is bounded on, with its limit, the variable and
 * default that set it, where it is enforced and the code a client gets. docs/operations.md's
 * "Request budget" table is this one (test/docs/docs-match-code.test.ts compares them); a new
 * bound adds its row here and there.
 */
import type { ERROR_TABLE } from '../api/errors';
import { loadModelLoadingConfig } from '../model/loading/config';
import {
  DEFAULT_DOCUMENT_CACHE_BYTES,
  DEFAULT_LIMITS,
  DEFAULT_PERSISTED_QUERY_CACHE_BYTES,
  DEFAULT_PRODUCTION_RESPONSE_CACHE_BYTES,
  LIMIT_VARIABLES,
  type ApiLimits,
} from './config';

/** The variable that sets a bound, and its default (the parsers' own, so the two cannot drift). */
export interface BudgetSetting {
  readonly variable: string;
  readonly defaultValue: number;
}

export interface BudgetAxis {
  /** What is bounded. */
  readonly axis: string;
  /** The limit, in the unit the work is done in. */
  readonly limit: string;
  /** The variable that sets it, and its default. */
  readonly setting: BudgetSetting;
  /** How the default follows from the deployment. */
  readonly derivation: string;
  /** Where it is enforced (and when: before work, or as it happens). */
  readonly enforced: string;
  /** The `extensions.code` a request over it gets; null where nothing is refused (a cache drops its oldest entries). */
  readonly code: keyof typeof ERROR_TABLE | null;
}

const limit = (field: keyof ApiLimits): BudgetSetting => ({
  variable: LIMIT_VARIABLES[field],
  defaultValue: DEFAULT_LIMITS[field],
});

export const REQUEST_BUDGET: readonly BudgetAxis[] = Object.freeze([
  {
    axis: 'Request bytes',
    limit: 'bytes of the HTTP body',
    setting: limit('maxBodyBytes'),
    derivation: "far under Lambda's 6 MB request payload; contexts within the limits fit in far less",
    enforced: 'the transports and src/server/http-body.ts, before JSON parsing (the local server stops reading)',
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    axis: 'Tokenizer',
    limit: 'characters of questions and contexts, all operations together',
    setting: limit('maxRequestTextLength'),
    derivation: 'five maximal contexts; tokenizing them takes tens of milliseconds',
    enforced: 'the resolvers, before tokenizing (src/resolvers/validation.ts)',
    code: 'BAD_USER_INPUT',
  },
  {
    axis: 'CPU',
    limit: 'model windows (one ONNX run each), all operations together',
    setting: limit('maxRequestWindows'),
    derivation: "windows of 512 tokens on one Lambda vCPU, well within half of API Gateway's 30 s",
    enforced: 'the engine, by arithmetic before any window runs (src/model/work-budget.ts)',
    code: 'BAD_USER_INPUT',
  },
  {
    axis: 'Response bytes',
    limit: 'bytes of the response body, all operations together',
    setting: limit('maxResponseBytes'),
    derivation:
      "(Lambda's 6 MiB response payload − 64 KiB for headers) ÷ 2, since the body is escaped once more inside it",
    enforced:
      "the resolvers, before any work: topK × `text` selections × the context's bytes as JSON (src/resolvers/output-bound.ts); the request core, on the written body",
    code: 'RESPONSE_TOO_LARGE',
  },
  {
    axis: 'Time',
    limit: 'milliseconds from arrival to response, serialization included; fields that finished keep their data',
    setting: limit('requestTimeoutMs'),
    derivation: "under API Gateway's 30 s; on Lambda also the invocation's remaining time less 1 s",
    enforced:
      "the request scope's signal (the engine stops between windows), the request core 500 ms later whatever holds it",
    code: 'DEADLINE_EXCEEDED',
  },
  {
    axis: 'Waiting for the model',
    limit: 'milliseconds a request waits for a model load in progress (or at most its own deadline)',
    setting: { variable: 'MODEL_MAX_WAIT_MS', defaultValue: loadModelLoadingConfig({}).maxWaitMs },
    derivation:
      "well under API Gateway's 30 s, and longer than a cold load; a load at Lambda INIT stops waiting within INIT's 10 s and goes on",
    enforced:
      'the model provider (src/model/loading/provider.ts) and the resolvers while waiting (src/resolvers/wait-for-model.ts); a stalled S3 fails its load attempt after MODEL_S3_FIRST_BYTE_TIMEOUT_MS',
    code: 'MODEL_UNAVAILABLE',
  },
  {
    axis: 'Memory kept: parsed documents',
    limit:
      'bytes of cached query documents: their text (comments included, one byte a character for Latin-1 text, two otherwise, as V8 keeps strings) and their nodes and tokens; no document over 1/64 of it is kept',
    setting: { variable: 'API_DOCUMENT_CACHE_BYTES', defaultValue: DEFAULT_DOCUMENT_CACHE_BYTES },
    derivation: 'hundreds of ordinary operations; the three caches together stay under 2% of a 1,769 MB sandbox',
    enforced:
      "Apollo's document store, an InMemoryLRUCache sized by src/server/cache/memory-size.ts (src/server/cache/stores.ts): the least recently used documents are dropped",
    code: null,
  },
  {
    axis: 'Memory kept: persisted queries',
    limit:
      "bytes of registered APQ query texts (V8's one- or two-byte strings); no query over 1/64 of it is registered",
    setting: { variable: 'API_PERSISTED_QUERY_CACHE_BYTES', defaultValue: DEFAULT_PERSISTED_QUERY_CACHE_BYTES },
    derivation:
      'as for documents; a hash whose query was dropped gets PERSISTED_QUERY_NOT_FOUND and the client resends the query',
    enforced: "Apollo's APQ cache, the same kind of LRU (src/server/cache/stores.ts)",
    code: null,
  },
  {
    axis: 'Memory kept: responses',
    limit: "bytes of serialized cached responses (V8's one- or two-byte strings); no response over 1/64 of it is kept",
    setting: { variable: 'API_RESPONSE_CACHE_BYTES', defaultValue: DEFAULT_PRODUCTION_RESPONSE_CACHE_BYTES },
    derivation: 'in production; 0 (off) in development',
    enforced: "the response-cache plugin's LRU (src/server/cache/response-cache.ts, stores.ts)",
    code: null,
  },
] as const satisfies readonly BudgetAxis[]);

/** One row of the docs' table: `| Axis | Limit | Variable | Default | Enforced where | Code |`. */
export function budgetTableRow(row: BudgetAxis): string[] {
  return [
    row.axis,
    row.limit,
    `\`${row.setting.variable}\``,
    `${row.setting.defaultValue} (${row.derivation})`,
    row.enforced,
    row.code === null ? 'none: nothing is refused' : `\`${row.code}\``,
  ];
}
