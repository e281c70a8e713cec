/**
 * A validation rule graphql-js 16 lacks (17 adds it as KnownOperationTypesRule): an operation
 * whose root type the schema does not define (`mutation`, `subscription` here) is rejected at
 * validation. Without it execution fails with a plain error that Apollo reports as an internal
 * error with HTTP 200, although the client is at fault.
 */
import { GraphQLError, type ValidationRule } from 'graphql';

export const knownOperationTypesRule: ValidationRule = (context) => ({
  OperationDefinition(node) {
    const schema = context.getSchema();
    const root =
      node.operation === 'query'
        ? schema.getQueryType()
        : node.operation === 'mutation'
          ? schema.getMutationType()
          : schema.getSubscriptionType();
    if (!root) {
      context.reportError(
        new GraphQLError(`This API does not support ${node.operation} operations; it has queries only.`, {
          nodes: node,
        }),
      );
    }
  },
});
