/**
 * The HTTP status of a response that has both data and errors.
 *
 * Resolver errors carry a status (BAD_USER_INPUT 400, MODEL_UNAVAILABLE 503, internal 500) and
 * Apollo applies it to the whole response, even when other root fields succeeded. A client that
 * asked for `a: answer(ok) b: answer(bad)` would then see HTTP 400 and, if it trusts the status
 * (most HTTP clients and retry policies do), throw `a` away. The GraphQL-over-HTTP spec says a
 * response with data is 2xx.
 *
 * Policy (the same on Lambda and locally, since both run this server):
 *   - at least one root field resolved without an error → 200, errors listed beside the data;
 *   - every root field failed → the errors' status (400 / 503 / 500), so monitoring and simple
 *     clients still see a failed request as one;
 *   - an HTTP batch has one status, set by its operations as Apollo merges them (the last
 *     non-2xx one wins); each operation's own body says what happened to it.
 */
import type { ApolloServerPlugin, GraphQLRequestContext, BaseContext } from '@apollo/server';

/** The response keys of root fields that had no error (neither on themselves nor below them). */
export function succeededRootKeys(data: Record<string, unknown>, errors: ReadonlyArray<{ path?: ReadonlyArray<string | number> }>): string[] {
  const failed = new Set(errors.map((e) => e.path?.[0]).filter((k): k is string => typeof k === 'string'));
  return Object.keys(data).filter((key) => !failed.has(key));
}

export function partialSuccessPlugin<T extends BaseContext>(): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }: GraphQLRequestContext<T>) {
          const { body, http } = response;
          if (body?.kind !== 'single') return;
          const { data, errors } = body.singleResult;
          if (!data || !errors?.length || !http.status || http.status < 400) return;
          if (succeededRootKeys(data, errors).length > 0) {
            // Retry-After, if any, stays: it still tells when the failed fields may succeed.
            http.status = 200;
          }
        },
      };
    },
  };
}
