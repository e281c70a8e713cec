/**
 * The per-HTTP-request context. Apollo Server calls the context function once per HTTP request
 * and gives each operation of an HTTP batch a shallow copy of it (ApolloServer.ts
 * `executeHTTPGraphQLRequest` → `internalExecuteOperation`'s `cloneObject`), so the DataLoader,
 * the usage counter and the work budget below are shared by every operation of a batch: that is
 * what lets a whole batch reach the engine as one `answerMany` call, charged to one budget.
 */
import type DataLoader from 'dataloader';
import type { EngineProvider } from '../model/loading/types';
import type { Answer, QAInput } from '../model/types';
import { WorkBudget } from '../model/work-budget';
import type { ApiLimits } from './config';
import type { ResponseCacheStats } from './cache/response-cache';
import type { TextUsage } from '../resolvers/validation';
import { createAnswerLoader } from '../resolvers/answer-loader';
import { openScope, type RequestScope } from '../api/request-scope';
import { defaultSink, type LogSink } from './request-log';

export interface ApiContext {
  /** Collects every answer request of this HTTP request into one engine call. */
  readonly answers: DataLoader<QAInput, Answer[], string>;
  readonly provider: EngineProvider;
  readonly limits: ApiLimits;
  /** Inputs and characters of questions and contexts so far in this HTTP request (all operations). */
  readonly usage: TextUsage;
  /** Model windows this HTTP request may still run (all operations); charged by the engine. */
  readonly budget: WorkBudget;
  /** The request's trace, deadline and stop signal (request-scope.ts). */
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

export interface ContextDependencies {
  provider: EngineProvider;
  limits: ApiLimits;
  serverStartedAt: number;
  exposeModelSource: boolean;
  responseCache?: ResponseCacheStats | null;
  /** The transport's scope of this HTTP request; a fresh one (new id, the configured time limit) when absent. */
  scope?: RequestScope;
  /** Where resolvers log (the API's sink); the process's Logger when absent. */
  log?: LogSink;
}

/** A fresh context for one HTTP request (or one direct `executeOperation`). */
export function createContext(deps: ContextDependencies): ApiContext {
  const scope = deps.scope ?? openScope({ timeLimitMs: deps.limits.requestTimeoutMs });
  const budget = new WorkBudget(deps.limits.maxRequestWindows);
  const usage: TextUsage = { textLength: 0, inputs: 0, refusals: 0 };
  // The request's log line and metrics report the work it was charged and what it sent.
  scope.trace.work = budget;
  scope.trace.usage = usage;
  return {
    answers: createAnswerLoader(deps.provider, { budget, signal: scope.signal }),
    provider: deps.provider,
    limits: deps.limits,
    usage,
    budget,
    scope,
    serverStartedAt: deps.serverStartedAt,
    exposeModelSource: deps.exposeModelSource,
    responseCache: deps.responseCache ?? null,
    log: deps.log ?? defaultSink,
  };
}
