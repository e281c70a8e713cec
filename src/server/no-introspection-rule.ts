/**
 * Introspection refused where it is off (API_INTROSPECTION), with a message that names our
 * variable. Apollo's own rule (its `introspection: false`) tells the client to "pass introspection:
 * true to ApolloServer", an option nobody deploying this API sets; this rule replaces it.
 */
import { GraphQLError, type ValidationRule } from 'graphql';

export const INTROSPECTION_OFF_MESSAGE =
  'Introspection is off on this API (API_INTROSPECTION, off in production): the query asked for __schema or __type.';

export const noIntrospectionRule: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '__schema' || node.name.value === '__type') {
      // Apollo's rule gives this validationErrorCode too: clients and metrics that read it still do.
      context.reportError(
        new GraphQLError(INTROSPECTION_OFF_MESSAGE, {
          nodes: node,
          extensions: { validationErrorCode: 'INTROSPECTION_DISABLED' },
        }),
      );
    }
  },
});
