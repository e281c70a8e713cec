/**
 * The operations frontends send, as typed documents: GraphQL Code Generator's client preset reads
 * the `graphql(...)` calls below (codegen.yml, second target) and generates their result and
 * variable types into src/client/generated/, so `client.query({ query: AnswerQuery, variables })`
 * is checked against the schema at compile time.
 */
import { graphql } from './generated';

/** The best answer to one question. */
export const AnswerQuery = graphql(`
  query Answer($question: String!, $context: String!, $options: AnswerOptions) {
    answer(question: $question, context: $context, options: $options) {
      text
      score
      start
      end
    }
  }
`);

/** The `topK` best answers to one question (the demo page highlights them all). */
export const AnswersQuery = graphql(`
  query Answers($question: String!, $context: String!, $topK: Int!, $options: AnswerOptions) {
    answers(question: $question, context: $context, topK: $topK, options: $options) {
      text
      score
      start
      end
    }
  }
`);

/** Readiness and the response cache's counts (never cached). */
export const HealthQuery = graphql(`
  query Health {
    health {
      ready
      modelState
      responseCache {
        hits
        misses
      }
    }
  }
`);
