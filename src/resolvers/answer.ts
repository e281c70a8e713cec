/** `answer` and `answers`: one question, one context. */
import type { GraphQLResolveInfo } from 'graphql';
import type { QueryResolvers } from '../generated/graphql';
import type { ApiContext } from '../api/context';
import type { Answer } from '../model/types';
import { toGraphQLError } from '../api/errors';
import { chargeOutput, chargeText, validateInput, type RawInput } from './validation';
import { answerFieldBound } from './output-bound';

/**
 * Validates and charges (response bytes, text) synchronously, then enqueues on the request's
 * DataLoader without awaiting first. Errors about this input name it as the client did: its alias,
 * or the field's name.
 */
function load(raw: RawInput, ctx: ApiContext, info: GraphQLResolveInfo): Promise<Answer[]> {
  const input = validateInput(raw, ctx.limits);
  // The response's bytes are charged first: a field refused for them takes no text budget.
  chargeOutput(
    ctx.output,
    answerFieldBound(info, { context: input.context, topK: raw.topK }),
    raw.topK,
    String(info.path.key),
    '',
  );
  chargeText(ctx.usage, input, ctx.limits, '');
  return ctx.answers.load(input).catch((error: unknown) => {
    throw toGraphQLError(error, '', String(info.path.key));
  });
}

export const answerResolvers: Pick<QueryResolvers, 'answer' | 'answers'> = {
  answer: async (_parent, args, ctx, info) => {
    const answers = await load({ ...args, topK: 1 }, ctx, info);
    return answers[0] ?? null;
  },
  // topK's default is the schema's (graphql-js fills it in before the resolver runs).
  answers: async (_parent, args, ctx, info) => load(args, ctx, info),
};
