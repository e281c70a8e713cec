/**
 * The HTTP status of a response that has both data and errors: 200 when at least one root field
 * resolved (the GraphQL-over-HTTP spec: a response with data is 2xx), so a client that trusts the
 * status does not throw good answers away; the errors' status when every root field failed. Apollo
 * would apply a resolver error's status to the whole response. Policy: docs/operations.md,
 * "Partial success".
 */
import type { ApolloServerPlugin, GraphQLRequestContext, BaseContext } from '@apollo/server';

/** The response keys of root fields that had no error (neither on themselves nor below them). */
export function succeededRootKeys(
  data: Record<string, unknown>,
  errors: ReadonlyArray<{ path?: ReadonlyArray<string | number> }>,
): string[] {
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
