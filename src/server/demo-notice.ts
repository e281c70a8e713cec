/**
 * The demo model's answers are spans of the context with plausible scores, and mean nothing (its
 * weights are random). Its log line and `model { demo }` say so, but a client reading answers does
 * not look there: every response of an API serving it carries the warning in its own extensions.
 * `npm start` adds this plugin: it is where the demo model is loaded without anyone choosing it
 * (MODEL_URI unset and the Hub unreachable).
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { ApiContext } from '../api/context';

export const DEMO_MODEL_WARNING = Object.freeze({
  code: 'DEMO_MODEL',
  message:
    'These answers come from the generated demo model, whose weights are random: they mean nothing. ' +
    'Set MODEL_URI to a real extractive QA export (README, "Models it serves").',
});

export function demoNoticePlugin(): ApolloServerPlugin<ApiContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single' || contextValue.provider.info()?.demo !== true) return;
          const result = response.body.singleResult;
          const warnings = Array.isArray(result.extensions?.warnings) ? result.extensions.warnings : [];
          result.extensions = { ...result.extensions, warnings: [...warnings, DEMO_MODEL_WARNING] };
        },
      };
    },
  };
}
