/**
 * Builds the per-HTTP-request context (its type: src/api/context.ts). Apollo Server calls the
 * context function once per HTTP request and gives each operation of an HTTP batch a shallow copy
 * of it (ApolloServer.ts `executeHTTPGraphQLRequest` → `internalExecuteOperation`'s `cloneObject`), so the DataLoader,
 * the usage counter and the work budget below are shared by every operation of a batch: that is
 * what lets a whole batch reach the engine as one `answerMany` call, charged to one budget.
 */
import type { ModelProvider } from '../model/loading/types';
import { WorkBudget } from '../model/work-budget';
import type { ApiContext, LogSink, RequestLimits, ResponseCacheStats, TextUsage } from '../api/context';
import { ResponseBudget } from '../api/response-budget';
import { openScope, type RequestScope } from '../api/request-scope';
import { createAnswerLoader } from '../resolvers/answer-loader';
import { defaultSink } from './request-log';

export interface ContextDependencies {
  provider: ModelProvider;
  limits: RequestLimits;
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
  const output = new ResponseBudget(deps.limits.maxResponseBytes);
  const usage: TextUsage = { textLength: 0, inputs: 0, refusals: 0 };
  // The request's log line and metrics report the work it was charged and what it sent.
  scope.recorder.chargedTo(budget, usage);
  return {
    answers: createAnswerLoader(deps.provider, { budget, signal: scope.signal }),
    provider: deps.provider,
    limits: deps.limits,
    usage,
    output,
    budget,
    scope,
    serverStartedAt: deps.serverStartedAt,
    exposeModelSource: deps.exposeModelSource,
    responseCache: deps.responseCache ?? null,
    log: deps.log ?? defaultSink,
  };
}
