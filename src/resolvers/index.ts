/** The resolver map, typed by the generated schema types (src/generated, from codegen.yml). */
import type { Resolvers } from '../generated/graphql';
import { answerResolvers } from './answer';
import { answerManyResolvers } from './answer-many';
import { healthResolvers, modelInfoResolvers, modelQueryResolvers } from './model';

export const resolvers: Resolvers = {
  Query: {
    ...answerResolvers,
    ...answerManyResolvers,
    ...modelQueryResolvers,
  },
  ModelInfo: modelInfoResolvers,
  Health: healthResolvers,
};
