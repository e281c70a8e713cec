/** The public contract: documented everywhere, names stable, nullability as designed. */
import {
  buildSchema,
  isEnumType,
  isInputObjectType,
  isObjectType,
  type GraphQLArgument,
  type GraphQLNamedType,
} from 'graphql';
import { typeDefs } from '../../src/generated/type-defs';

const schema = buildSchema(typeDefs);
const ownTypes = Object.values(schema.getTypeMap()).filter(
  (t) => !t.name.startsWith('__') && !['String', 'Int', 'Float', 'Boolean', 'ID'].includes(t.name),
);

function undocumented(type: GraphQLNamedType): string[] {
  const missing: string[] = [];
  if (!type.description?.trim()) missing.push(type.name);
  if (isObjectType(type)) {
    for (const field of Object.values(type.getFields())) {
      if (!field.description?.trim()) missing.push(`${type.name}.${field.name}`);
      for (const arg of field.args)
        if (!arg.description?.trim()) missing.push(`${type.name}.${field.name}(${arg.name})`);
    }
  }
  if (isInputObjectType(type)) {
    for (const field of Object.values(type.getFields()))
      if (!field.description?.trim()) missing.push(`${type.name}.${field.name}`);
  }
  if (isEnumType(type)) {
    for (const value of type.getValues()) if (!value.description?.trim()) missing.push(`${type.name}.${value.name}`);
  }
  return missing;
}

test('every type, field, argument and enum value has a description', () => {
  expect(ownTypes.flatMap(undocumented)).toEqual([]);
});

test('names and nullability of the public contract', () => {
  // A change here is a breaking change for clients: update docs/api.md and announce it.
  const signature = (type: GraphQLNamedType) =>
    isObjectType(type) || isInputObjectType(type)
      ? Object.values(type.getFields()).map(
          (f) =>
            `${f.name}${'args' in f && f.args.length ? `(${f.args.map((a: GraphQLArgument) => `${a.name}: ${a.type}`).join(', ')})` : ''}: ${f.type}`,
        )
      : isEnumType(type)
        ? type.getValues().map((v) => v.name)
        : [];
  expect(Object.fromEntries(ownTypes.map((t) => [t.name, signature(t)]))).toMatchInlineSnapshot(`
   {
     "Answer": [
       "text: String!",
       "score: Float!",
       "start: Int!",
       "end: Int!",
     ],
     "AnswerError": [
       "code: String!",
       "message: String!",
       "field: String",
     ],
     "AnswerInput": [
       "question: String!",
       "context: String!",
       "topK: Int!",
       "options: AnswerOptions",
     ],
     "AnswerOptions": [
       "maxAnswerLength: Int",
       "docStride: Int",
       "maxSeqLength: Int",
       "handleImpossibleAnswer: Boolean",
       "alignToWords: Boolean",
     ],
     "AnswerResult": [
       "answers: [Answer!]",
       "error: AnswerError",
     ],
     "CacheControlScope": [
       "PUBLIC",
       "PRIVATE",
     ],
     "Health": [
       "ready: Boolean!",
       "modelState: ModelState!",
       "uptimeSeconds: Float!",
       "responseCache: ResponseCacheStats",
     ],
     "ModelFamily": [
       "modelType: String",
       "architecture: String",
     ],
     "ModelInfo": [
       "name: String!",
       "source: String",
       "quantized: Boolean!",
       "demo: Boolean!",
       "inputNames: [String!]!",
       "family: ModelFamily",
       "tokenizer: ModelTokenizer",
       "maxSequenceLength: Int!",
       "sizeBytes: Float!",
       "etag: String",
       "version: String",
       "loadedAt: String!",
       "loadTimings: ModelLoadTimings!",
     ],
     "ModelLoadTimings": [
       "downloadMs: Float!",
       "sessionCreateMs: Float!",
       "tokenizerMs: Float!",
       "totalMs: Float!",
       "runtimeUnpackMs: Float",
       "apiEvaluationMs: Float",
     ],
     "ModelState": [
       "IDLE",
       "LOADING",
       "READY",
       "FAILED",
     ],
     "ModelTokenizer": [
       "model: String!",
       "postProcessor: String!",
       "pair: String!",
     ],
     "Query": [
       "answer(question: String!, context: String!, options: AnswerOptions): Answer",
       "answers(question: String!, context: String!, topK: Int!, options: AnswerOptions): [Answer!]",
       "answerMany(inputs: [AnswerInput!]!): [AnswerResult!]",
       "model: ModelInfo",
       "health: Health!",
     ],
     "ResponseCacheStats": [
       "hits: Int!",
       "misses: Int!",
       "maxBytes: Float!",
     ],
   }
  `);
});

test('offsets are documented as UTF-16 code units, end exclusive', () => {
  const answer = schema.getType('Answer');
  if (!isObjectType(answer)) throw new Error('Answer is not an object type');
  expect(answer.getFields().start!.description).toMatch(/UTF-16 code units/);
  expect(answer.getFields().end!.description).toMatch(/end exclusive/);
});
