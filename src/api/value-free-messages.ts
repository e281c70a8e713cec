/**
 * graphql-js quotes what it refuses: a variable's whole value ("Variable "$c" got invalid value
 * ["my question"]; String cannot represent a non string value: ["my question"]"), a literal of the
 * query, a token of a syntax error. Those values are users' questions and contexts, and no message
 * quotes them (docs/operations.md, "Error codes"): this rewrites graphql-js's messages without
 * them, keeping what was wrong and where (the variable, its path, the expected type).
 *
 * A rewritten message is made of fixed words, the variable's name (the query's own) and names the
 * schema defines (`schemaNames`): a name a value could smuggle in (graphql-js prints an object's
 * keys unquoted, so a key can imitate any part of a message) is dropped unless the schema has it.
 * At worst such a value makes its own error name the wrong reason. Messages of other shapes (this
 * API's own, which never quote input) are returned unchanged.
 */
import { parse, visit } from 'graphql';

const NAME = '[_A-Za-z][_0-9A-Za-z]*';
const TYPE = '[_A-Za-z0-9!\\[\\]]+';

/** The scalar refusals of graphql-js 16 (type/scalars.ts), as it words them. */
const SCALAR_REFUSAL =
  /^(String|Int|Float|Boolean|ID) cannot represent (a non string |non-integer |non 32-bit signed integer |non numeric |a non boolean |a non-string and non-integer |)value\b/;

type Rewrite = (m: RegExpExecArray, known: (...names: string[]) => boolean) => string | null;

const REASONS: ReadonlyArray<[RegExp, Rewrite]> = [
  [SCALAR_REFUSAL, (m) => `${m[1]} cannot represent ${m[2]}value.`],
  [
    new RegExp(`^Expected type "(${NAME})" to be an object\\.`),
    (m, known) => (known(m[1]!) ? `Expected type "${m[1]}" to be an object.` : null),
  ],
  [
    new RegExp(`^Field "(${NAME})" of required type "(${TYPE})" was not provided\\.`),
    (m, known) =>
      known(m[1]!, ...typeNames(m[2]!)) ? `Field "${m[1]}" of required type "${m[2]}" was not provided.` : null,
  ],
  [
    new RegExp(`^Field "[\\s\\S]*" is not defined by type "(${NAME})"\\.`),
    (m, known) => (known(m[1]!) ? `A field is not defined by type "${m[1]}".` : null),
  ],
  [
    new RegExp(`^Value "[\\s\\S]*" does not exist in "(${NAME})" enum\\.`),
    (m, known) => (known(m[1]!) ? `The value does not exist in "${m[1]}" enum.` : null),
  ],
  [
    new RegExp(`^Enum "(${NAME})" cannot represent non-(?:string|enum) value`),
    (m, known) => (known(m[1]!) ? `Enum "${m[1]}" cannot represent this value.` : null),
  ],
  [
    new RegExp(`^Expected non-nullable type "(${TYPE})" not to be null\\.`),
    (m, known) => (known(...typeNames(m[1]!)) ? `Expected non-nullable type "${m[1]}" not to be null.` : null),
  ],
  [new RegExp(`^Expected type "(${NAME})"\\.`), (m, known) => (known(m[1]!) ? `Expected type "${m[1]}".` : null)],
];

/** The named types of a type reference: `[AnswerInput!]!` → AnswerInput. */
function typeNames(reference: string): string[] {
  return reference.match(new RegExp(NAME, 'g')) ?? [];
}

const VARIABLE_REFUSAL = new RegExp(`^Variable "\\$(${NAME})" got invalid value `);
const PATH_AT_END = new RegExp(` at "(${NAME}(?:\\[\\d+\\]|\\.${NAME})*)"$`);
const LITERAL_REFUSAL = new RegExp(`^Expected value of type "(${TYPE})", found `);
const SYNTAX_TOKEN = /\b(Unexpected|found) (Name|String|BlockString|Int|Float) "[\s\S]*"\.$/;
const SYNTAX_QUOTE = /: "[\s\S]*"\.$/;

/** `message` without any value it quotes (see the file comment). */
export function withoutQuotedValues(message: string, schemaNames: ReadonlySet<string>): string {
  const known = (...names: string[]) => names.every((name) => schemaNames.has(name));
  const reasonOf = (reason: string): string | null => {
    for (const [pattern, rewrite] of REASONS) {
      const m = pattern.exec(reason);
      if (m) return rewrite(m, known);
    }
    return null;
  };
  const variable = VARIABLE_REFUSAL.exec(message);
  if (variable) {
    const name = variable[1]!;
    // The reason follows the value, which may itself contain "; ": the first separator followed by
    // a reason this recognizes.
    for (let at = message.indexOf('; ', variable[0].length); at >= 0; at = message.indexOf('; ', at + 2)) {
      const reason = reasonOf(message.slice(at + 2));
      if (!reason) continue;
      const path = PATH_AT_END.exec(message.slice(0, at))?.[1];
      const segments = path?.split(/\[\d+\]\.?|\./).filter((s) => s !== '') ?? [];
      const where = path && segments[0] === name && known(...segments.slice(1)) ? ` at "${path}"` : '';
      return `Variable "$${name}" got invalid value${where}; ${reason}`;
    }
    return `Variable "$${name}" got invalid value.`;
  }
  const literal = LITERAL_REFUSAL.exec(message);
  if (literal) return known(...typeNames(literal[1]!)) ? `Expected value of type "${literal[1]}".` : 'Invalid value.';
  const reason = reasonOf(message);
  if (reason) return reason;
  if (REASONS.some(([pattern]) => pattern.test(message))) return 'Invalid value.';
  if (message.startsWith('Syntax Error: ')) return message.replace(SYNTAX_TOKEN, '$1 $2.').replace(SYNTAX_QUOTE, '.');
  return message;
}

/** Every name a schema's SDL defines (types, fields, arguments, enum values), and the built-in scalars'. */
export function schemaNamesOf(typeDefs: string): ReadonlySet<string> {
  const names = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);
  visit(parse(typeDefs), { Name: (node) => void names.add(node.value) });
  return names;
}
