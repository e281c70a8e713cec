/**
 * The per-HTTP-request context. Apollo Server calls the context function once per HTTP request
 * and gives each operation of an HTTP batch a shallow copy of it (ApolloServer.ts
 * `executeHTTPGraphQLRequest` → `internalExecuteOperation`'s `cloneObject`), so the DataLoader
 * and the usage counter below are shared by every operation of a batch: that is what lets a
 * whole batch reach the engine as one `answerMany` call.
 */
import type DataLoader from 'dataloader';
import type { EngineProvider } from '../model/loading/types';
import type { Answer, QAInput } from '../model/types';
import type { ApiLimits } from './config';
import { createAnswerLoader } from '../resolvers/answer-loader';
import { newTrace, type RequestTrace } from './request-log';

export interface ApiContext {
  /** Collects every answer request of this HTTP request into one engine call. */
  readonly answers: DataLoader<QAInput, Answer[], string>;
  readonly provider: EngineProvider;
  readonly limits: ApiLimits;
  /** Context characters accepted so far in this HTTP request (all operations together). */
  readonly usage: { contextLength: number };
  /** When this server instance started (ms since the epoch), for `health`. */
  readonly serverStartedAt: number;
  /** The HTTP request's id and what it did, for its log line (request-log.ts). */
  readonly trace: RequestTrace;
}

export interface ContextDependencies {
  provider: EngineProvider;
  limits: ApiLimits;
  serverStartedAt: number;
  /** The transport's trace of this HTTP request; a fresh one (new id) when absent. */
  trace?: RequestTrace;
}

/** A fresh context for one HTTP request (or one direct `executeOperation`). */
export function createContext(deps: ContextDependencies): ApiContext {
  return {
    answers: createAnswerLoader(deps.provider),
    provider: deps.provider,
    limits: deps.limits,
    usage: { contextLength: 0 },
    serverStartedAt: deps.serverStartedAt,
    trace: deps.trace ?? newTrace(),
  };
}
