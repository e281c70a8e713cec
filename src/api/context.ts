/**
 * What every resolver receives: the per-HTTP-request context's type and the shapes it holds.
 * The server builds it (src/server/context.ts, `createContext`); resolvers only read it, so they
 * depend on this contract and never on the server.
 */
import type DataLoader from 'dataloader';
import type { ModelProvider } from '../model/loading/types';
import type { Answer, QAInput } from '../model/types';
import type { WorkBudget } from '../model/work-budget';
import type { RequestScope } from './request-scope';
import type { ResponseBudget } from './response-budget';

/**
 * The request limits resolvers enforce, read from API_MAX_* variables by the server's configuration
 * (ApiLimits in src/server/config.ts adds the transport's own).
 */
export interface RequestLimits {
  /** Longest `question`, in UTF-16 code units. */
  readonly maxQuestionLength: number;
  /** Longest `context` of one input, in UTF-16 code units. */
  readonly maxContextLength: number;
  /**
   * Characters of questions and contexts one HTTP request may send to the tokenizer, all its
   * operations together: the tokenizer's work is in characters.
   */
  readonly maxRequestTextLength: number;
  /**
   * Model windows one HTTP request may run, all its operations together: the model's work is in
   * windows (src/model/work-budget.ts; the default's derivation is in docs/operations.md).
   */
  readonly maxRequestWindows: number;
  /**
   * Milliseconds one HTTP request may run before its work is stopped (DEADLINE_EXCEEDED). On Lambda
   * the invocation's remaining time, less a margin to answer, lowers it further.
   */
  readonly requestTimeoutMs: number;
  /**
   * Bytes of response one HTTP request may produce (its body as sent, all operations together):
   * each answer field is charged what its answers could take before any work (output-bound.ts),
   * and the written body is checked again (RESPONSE_TOO_LARGE).
   */
  readonly maxResponseBytes: number;
  /** Largest `topK`. */
  readonly maxTopK: number;
  /** Most inputs of one `answerMany`. */
  readonly maxInputs: number;
}

/** What one HTTP request sent for answering (all operations); counts feed the request's metrics. */
export interface TextUsage {
  /** Characters of the accepted inputs' questions and contexts. */
  textLength: number;
  /** Valid inputs that reached the text budget, accepted or not. */
  inputs: number;
  /** Inputs refused by the text budget. */
  refusals: number;
}

/** This instance's response-cache counts since it started (src/server/cache/response-cache.ts). */
export interface ResponseCacheStats {
  readonly maxBytes: number;
  hits: number;
  misses: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogEntry = { level: LogLevel; msg: string; requestId?: string } & Record<string, unknown>;

/** Where log lines go: Powertools' Logger by default (tests and embedders may pass their own). */
export type LogSink = (entry: LogEntry) => void;

export interface ApiContext {
  /** Collects every answer request of this HTTP request into one engine call. */
  readonly answers: DataLoader<QAInput, Answer[], string>;
  readonly provider: ModelProvider;
  readonly limits: RequestLimits;
  /** Inputs and characters of questions and contexts so far in this HTTP request (all operations). */
  readonly usage: TextUsage;
  /** Response bytes this HTTP request may still produce (all operations); charged by the resolvers. */
  readonly output: ResponseBudget;
  /** Model windows this HTTP request may still run (all operations); charged by the engine. */
  readonly budget: WorkBudget;
  /** The request's id, recorder, deadline and stop signal (request-scope.ts). */
  readonly scope: RequestScope;
  /** When this server instance started (ms since the epoch), for `health`. */
  readonly serverStartedAt: number;
  /** Whether `model { source etag }` may be shown: they name the bucket, so not in production. */
  readonly exposeModelSource: boolean;
  /** This instance's response-cache counts (for `health`), or null when the cache is off. */
  readonly responseCache: ResponseCacheStats | null;
  /** The API's log (the request-log plugin's sink), for errors a resolver reports without failing its field. */
  readonly log: LogSink;
}
