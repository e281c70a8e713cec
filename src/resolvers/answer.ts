/** `answer` and `answers`: one question, one context. */
import type { QueryResolvers } from '../generated/graphql';
import type { ApiContext } from '../server/context';
import type { Answer } from '../model/types';
import { toGraphQLError } from '../server/errors';
import { chargeContext, validateInput, type RawInput } from './validation';

/** Validates synchronously, then enqueues on the request's DataLoader without awaiting first. */
function load(raw: RawInput, ctx: ApiContext): Promise<Answer[]> {
  const input = validateInput(raw, ctx.limits);
  chargeContext(ctx.usage, input, ctx.limits, 'context');
  return ctx.answers.load(input).catch((error: unknown) => {
    throw toGraphQLError(error);
  });
}

export const answerResolvers: Pick<QueryResolvers, 'answer' | 'answers'> = {
  answer: async (_parent, args, ctx) => {
    const answers = await load({ ...args, topK: 1 }, ctx);
    return answers[0] ?? null;
  },
  answers: async (_parent, args, ctx) => load({ ...args, topK: args.topK ?? 3 }, ctx),
};
