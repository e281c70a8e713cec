/**
 * `answerMany`: errors that concern one input are returned as that input's `error`, so one
 * bad input does not cost the client the other answers. Errors that concern the request
 * (too many inputs, the request budget, the model being unavailable) fail the field.
 */
import type { QueryResolvers } from '../generated/graphql';
import type { ApiContext } from '../server/context';
import { ErrorCode, badUserInput, isEngineInputError, isModelUnavailable, toGraphQLError } from '../server/errors';
import type { QAInput } from '../model/types';
import type { AnswerResultParent } from './parents';
import { chargeContext, validateInput } from './validation';
import { GraphQLError } from 'graphql';

function inputError(error: unknown, prefix: string): AnswerResultParent {
  if (error instanceof GraphQLError && error.extensions.code === ErrorCode.BAD_USER_INPUT) {
    return {
      answers: null,
      error: { code: ErrorCode.BAD_USER_INPUT, message: error.message, field: String(error.extensions.argument) },
    };
  }
  if (isEngineInputError(error)) {
    const field = error.field ? `${prefix}${error.field}` : null;
    return { answers: null, error: { code: ErrorCode.BAD_USER_INPUT, message: error.message, field } };
  }
  throw error;
}

async function answerOne(input: QAInput, ctx: ApiContext, prefix: string): Promise<AnswerResultParent> {
  try {
    return { answers: await ctx.answers.load(input), error: null };
  } catch (error) {
    if (isModelUnavailable(error)) throw error;
    return inputError(error, prefix);
  }
}

export const answerManyResolvers: Pick<QueryResolvers, 'answerMany'> = {
  answerMany: async (_parent, { inputs }, ctx) => {
    if (inputs.length > ctx.limits.maxInputs) {
      throw badUserInput(`inputs has ${inputs.length} items; the limit is ${ctx.limits.maxInputs}.`, 'inputs');
    }
    // Validate and enqueue every input synchronously so they all join the same engine batch.
    const pending = inputs.map((raw, i): Promise<AnswerResultParent> | AnswerResultParent => {
      const prefix = `inputs[${i}].`;
      let input: QAInput;
      try {
        input = validateInput({ ...raw, topK: raw.topK ?? 1 }, ctx.limits, prefix);
      } catch (error) {
        return inputError(error, prefix);
      }
      chargeContext(ctx.usage, input, ctx.limits, `${prefix}context`);
      return answerOne(input, ctx, prefix);
    });
    try {
      return await Promise.all(pending);
    } catch (error) {
      throw toGraphQLError(error);
    }
  },
};
