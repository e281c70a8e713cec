/**
 * What resolvers hand to the fields of object types that have no engine or loader
 * counterpart (codegen maps the GraphQL types to these; see codegen.yml).
 */
import type { Answer } from '../model/types';
import type { EngineState } from '../model/loading/types';
import type { ResponseCacheStats } from './context';

/** An error about one input of `answerMany`, already safe to show to the client. */
export interface AnswerErrorParent {
  code: string;
  message: string;
  field: string | null;
}

/** One `answerMany` result: the engine's answers, or the error for that input. */
export type AnswerResultParent = { answers: Answer[]; error: null } | { answers: null; error: AnswerErrorParent };

export interface HealthParent {
  state: EngineState;
  uptimeSeconds: number;
  responseCache: ResponseCacheStats | null;
}
