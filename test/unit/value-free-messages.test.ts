/**
 * graphql-js's own refusals, produced here by graphql-js on a schema with every kind of input (each
 * scalar, an enum, an input object, lists, non-null), with a marker in every refused value, the
 * object keys included: the rewritten message never contains the marker, and still names the
 * variable, its path and the expected type. Messages of other shapes pass unchanged.
 */
import { buildSchema, graphql, parse } from 'graphql';
import { schemaNamesOf, withoutQuotedValues as rewrite } from '../../src/api/value-free-messages';

const SDL = `
  enum Color { RED GREEN }
  input Item { name: String! count: Int level: Color }
  type Query { f(s: String, i: Int, x: Float, b: Boolean, id: ID, c: Color, item: Item, list: [Item!], n: String!): String }
`;
const schema = buildSchema(SDL);
const withoutQuotedValues = (message: string) => rewrite(message, schemaNamesOf(SDL));

// Also imitating graphql-js's wording, so a value cannot pass its own text off as the reason or path.
const SECRET = 'zebra-7741; Int cannot represent zebra value: at "s.zebra"';

async function errorsOf(source: string, variableValues?: Record<string, unknown>): Promise<string[]> {
  const result = await graphql({ schema, source, variableValues });
  return (result.errors ?? []).map((e) => e.message);
}

const VARIABLES =
  '($s: String, $i: Int, $x: Float, $b: Boolean, $id: ID, $c: Color, $item: Item, $list: [Item!], $n: String!)';
const CALL = 'f(s: $s, i: $i, x: $x, b: $b, id: $id, c: $c, item: $item, list: $list, n: $n)';

test.each<[string, Record<string, unknown>, RegExp]>([
  [
    'String given a list',
    { s: [SECRET], n: 'ok' },
    /^Variable "\$s" got invalid value; String cannot represent a non string value\.$/,
  ],
  [
    'Int given text',
    { i: SECRET, n: 'ok' },
    /^Variable "\$i" got invalid value; Int cannot represent non-integer value\.$/,
  ],
  [
    'Float given an object',
    { x: { [SECRET]: SECRET }, n: 'ok' },
    /^Variable "\$x" got invalid value; Float cannot represent non numeric value\.$/,
  ],
  [
    'a key imitating a reason and a path',
    { item: { name: 'a', ['" at "item.zebra"; Expected type "zebra" to be an object.']: 1 }, n: 'ok' },
    /^Variable "\$item" got invalid value; /,
  ],
  [
    'Boolean given text',
    { b: SECRET, n: 'ok' },
    /^Variable "\$b" got invalid value; Boolean cannot represent a non boolean value\.$/,
  ],
  [
    'ID given an object',
    { id: { a: SECRET }, n: 'ok' },
    /^Variable "\$id" got invalid value; ID cannot represent value\.$/,
  ],
  [
    'an enum given an unknown value',
    { c: SECRET, n: 'ok' },
    /^Variable "\$c" got invalid value; The value does not exist in "Color" enum\.$/,
  ],
  [
    'an input object given text',
    { item: SECRET, n: 'ok' },
    /^Variable "\$item" got invalid value; Expected type "Item" to be an object\.$/,
  ],
  [
    'an unknown key',
    { item: { name: 'a', [SECRET]: 1 }, n: 'ok' },
    /^Variable "\$item" got invalid value; A field is not defined by type "Item"\.$/,
  ],
  [
    'a nested field, with its path',
    { list: [{ name: 'a' }, { name: 'b', count: SECRET }], n: 'ok' },
    /^Variable "\$list" got invalid value at "list\[1\]\.count"; Int cannot represent non-integer value\.$/,
  ],
  [
    'a missing required field',
    { item: { count: 1, level: 'RED', other: SECRET }, n: 'ok' },
    /^Variable "\$item" got invalid value; (Field "name" of required type "String!" was not provided|A field is not defined by type "Item")\.$/,
  ],
])('variables: %s', async (_name, variables, expected) => {
  const messages = await errorsOf(`query${VARIABLES} { ${CALL} }`, variables);
  expect(messages.length).toBeGreaterThan(0);
  // graphql-js does quote it:
  expect(messages.some((m) => m.includes('zebra'))).toBe(true);
  const rewritten = messages.map(withoutQuotedValues);
  for (const message of rewritten) expect(message).not.toContain('zebra');
  expect(rewritten.some((m) => expected.test(m))).toBe(true);
});

test.each<[string, string, RegExp]>([
  ['a String argument given a bare word', '{ f(s: zebra_7741) }', /^String cannot represent a non string value\.$/],
  ['an Int argument given a string', '{ f(i: "zebra-7741", n: "ok") }', /^Int cannot represent non-integer value\.$/],
  [
    'an enum argument given a string',
    '{ f(c: "zebra-7741", n: "ok") }',
    /^(Enum "Color" cannot represent this value|Expected value of type "Color")\.$/,
  ],
  [
    'an unknown input field',
    '{ f(item: { name: "a", zebra_7741: 1 }, n: "ok") }',
    /^A field is not defined by type "Item"\.$/,
  ],
])('literals in the query: %s', async (_name, source, expected) => {
  const messages = await errorsOf(source);
  expect(messages.some((m) => m.includes('zebra'))).toBe(true);
  const rewritten = messages.map(withoutQuotedValues);
  for (const message of rewritten) expect(message).not.toContain('zebra');
  expect(rewritten.some((m) => expected.test(m))).toBe(true);
});

test.each<[string, RegExp]>([
  ['{ f(s: "a" "zebra-7741") }', /^Syntax Error: Expected Name, found String\.$/],
  ['{ f } zebra_7741', /^Syntax Error: Unexpected Name\.$/],
])('syntax errors: %s', (source, expected) => {
  let message = '';
  try {
    parse(source);
  } catch (error) {
    message = (error as Error).message;
  }
  expect(message).toContain('zebra');
  expect(withoutQuotedValues(message)).toMatch(expected);
});

test('messages of other shapes are unchanged', () => {
  for (const message of [
    'question must not be empty',
    'Variable "$q" of required type "String!" was not provided.',
    'Cannot query field "nope" on type "Query".',
    'Syntax Error: Expected Name, found <EOF>.',
  ]) {
    expect(withoutQuotedValues(message)).toBe(message);
  }
});
