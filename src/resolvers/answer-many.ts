/**
 * `answerMany`: an error about one input (its arguments, the text or work budget, or onnxruntime
 * failing on one of its windows) is that input's `error`, so one bad input does not cost the
 * client the other answers; an error about the request (too many inputs, no model, stopped) fails
 * the field. The field does not fail for an input's InferenceError, so the request-log plugin never
 * sees it: this resolver logs it (the same `internal error` line).
 */
import type { QueryResolvers } from '../generated/graphql';
import type { ApiContext } from '../api/context';
import {
  ErrorCode,
  INTERNAL_ERROR_MESSAGE,
  badUserInput,
  responseTooLarge,
  inputErrorMessage,
  isEngineInputError,
  isInferenceError,
  isModelUnavailable,
  isRequestAborted,
  toGraphQLError,
} from '../api/errors';
import type { QAInput } from '../model/types';
import type { AnswerResultParent } from '../api/parents';
import { chargeOutput, chargeText, validateInput } from './validation';
import { answerManyFieldBytes, answerResultBound } from './output-bound';
import { cacheControlFromInfo } from '@apollo/cache-control-types';
import { GraphQLError, responsePathAsArray } from 'graphql';

/** The `error` of one input, or a rethrow when the error is not about that input. */
function inputError(error: unknown, prefix: string): AnswerResultParent {
  const code = error instanceof GraphQLError ? error.extensions.code : undefined;
  if (code === ErrorCode.BAD_USER_INPUT || code === ErrorCode.RESPONSE_TOO_LARGE) {
    const { message, extensions } = error as GraphQLError;
    return { answers: null, error: { code, message, field: String(extensions.argument) } };
  }
  if (isEngineInputError(error)) {
    const field = error.field ? `${prefix}${error.field}` : null;
    // "inputs[3] needs 19,493 model windows; …": the input named as the client wrote it.
    const message = inputErrorMessage(error, prefix.replace(/\.$/, ''));
    return { answers: null, error: { code: ErrorCode.BAD_USER_INPUT, message, field } };
  }
  throw error;
}

async function answerOne(
  input: QAInput,
  ctx: ApiContext,
  prefix: string,
  path: ReadonlyArray<string | number>,
): Promise<AnswerResultParent> {
  try {
    return { answers: await ctx.answers.load(input), error: null };
  } catch (error) {
    if (isModelUnavailable(error) || isRequestAborted(error)) throw error;
    if (isInferenceError(error)) return internalInputError(error, ctx, path);
    return inputError(error, prefix);
  }
}

/** `error` of an input the model failed on; the details go to the log, never to the client. */
function internalInputError(error: Error, ctx: ApiContext, path: ReadonlyArray<string | number>): AnswerResultParent {
  ctx.log({
    level: 'error',
    msg: 'internal error',
    requestId: ctx.scope.requestId,
    path,
    error: error.name,
    message: error.message,
    stack: error.stack,
    cause: (error.cause as Error | undefined)?.message ?? null,
  });
  return {
    answers: null,
    error: { code: ErrorCode.INTERNAL_SERVER_ERROR, message: INTERNAL_ERROR_MESSAGE, field: null },
  };
}

type Checked = { input: QAInput; prefix: string } | { refused: AnswerResultParent };

export const answerManyResolvers: Pick<QueryResolvers, 'answerMany'> = {
  answerMany: async (_parent, { inputs }, ctx, info) => {
    if (inputs.length > ctx.limits.maxInputs) {
      throw badUserInput(`inputs has ${inputs.length} items; the limit is ${ctx.limits.maxInputs}.`, 'inputs');
    }
    if (!ctx.output.tryCharge(answerManyFieldBytes(info, inputs.length))) {
      throw responseTooLarge(
        `This request's response has no room left for ${String(info.path.key)}; split the request.`,
        'inputs',
      );
    }
    // Every input is validated and charged before any is queued, so a refusal can never leave
    // loads behind that nobody awaits.
    const checked = inputs.map((raw, i): Checked => {
      const prefix = `inputs[${i}].`;
      try {
        // topK's default is the schema's (graphql-js fills it in).
        const input = validateInput(raw, ctx.limits, prefix);
        chargeOutput(
          ctx.output,
          answerResultBound(info, { context: input.context, topK: raw.topK }),
          raw.topK,
          `inputs[${i}]`,
          prefix,
        );
        chargeText(ctx.usage, input, ctx.limits, prefix);
        return { input, prefix };
      } catch (error) {
        return { refused: inputError(error, prefix) };
      }
    });
    // Queued together, synchronously, so they all join the same engine batch.
    // The field's response path (`["m"]` for an alias), as GraphQL errors report it.
    const fieldPath = responsePathAsArray(info.path);
    const pending = checked.map((item, i) =>
      'refused' in item ? Promise.resolve(item.refused) : answerOne(item.input, ctx, item.prefix, [...fieldPath, i]),
    );
    // Every load settles before the field does: a request-level failure is reported once, and no
    // rejection is left unobserved.
    const settled = await Promise.allSettled(pending);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw toGraphQLError(failed.reason);
    const results = settled.map((s) => (s as PromiseFulfilledResult<AnswerResultParent>).value);
    // A per-input error is an error: the response must not be cached (by a CDN or the response cache).
    if (results.some((r) => r.error)) cacheControlFromInfo(info).setCacheHint({ maxAge: 0 });
    return results;
  },
};
