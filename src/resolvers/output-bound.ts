/**
 * Upper bounds of the bytes an answer field can write into the response, computed from the query's
 * shape and the input's text before any work: topK × the selected fields × the longest answer the
 * input allows. An answer is a slice of its context, so its text writes at most the bytes JSON
 * writes for the whole context; that is counted per UTF-16 unit as JSON.stringify escapes it (a
 * control character is 6 bytes, `"` 2, a non-ASCII character 2–3), never in tokens: one token can
 * cover hundreds of characters, and the tokenizer drops control characters the slice keeps.
 */
import type { FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';

/** The bytes JSON.stringify writes for `text`, quotes included. */
export function jsonStringBytes(text: string): number {
  let bytes = 2;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) bytes += 2;
    else if (c < 0x20) bytes += c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 2 : 6;
    else if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff)
      bytes += 6; // a lone surrogate is written as \uXXXX
    else bytes += 3;
  }
  return bytes;
}

/**
 * A slice of the context can cut a surrogate pair that the whole context writes as 4 bytes into two
 * lone halves of 6 each (at its two ends).
 */
const SLICE_EXTRA_BYTES = 8;
/** The longest JSON number a Float can be written as (`-1.2345678901234567e-308`). */
const FLOAT_BYTES = 24;
/** An `AnswerError` object's values: a code, one of our own messages, a field name (all short). */
const ANSWER_ERROR_BYTES = 1_024;

/** A selection set's response keys, each with the fields merged under it (fragments followed). */
type Selection = Map<string, FieldNode[]>;

function collect(
  set: SelectionSetNode | undefined,
  fragments: Record<string, FragmentDefinitionNode>,
  into: Selection,
  seen: Set<string>,
): Selection {
  for (const node of set?.selections ?? []) {
    if (node.kind === 'Field') {
      const key = node.alias?.value ?? node.name.value;
      into.set(key, [...(into.get(key) ?? []), node]);
    } else if (node.kind === 'InlineFragment') {
      collect(node.selectionSet, fragments, into, seen);
    } else if (!seen.has(node.name.value)) {
      // Validation has already refused fragment cycles; `seen` only avoids counting a spread twice.
      seen.add(node.name.value);
      collect(fragments[node.name.value]?.selectionSet, fragments, into, seen);
    }
  }
  return into;
}

function subSelection(nodes: readonly FieldNode[], fragments: Record<string, FragmentDefinitionNode>): Selection {
  const merged: Selection = new Map();
  for (const node of nodes) collect(node.selectionSet, fragments, merged, new Set());
  return merged;
}

/** `{"key":value,…}` with each key's value bounded by `valueBytes` (null for an unknown field: 0). */
function objectBytes(selection: Selection, valueBytes: (name: string, nodes: FieldNode[]) => number): number {
  let bytes = 2;
  for (const [key, nodes] of selection) bytes += jsonStringBytes(key) + 2 + valueBytes(nodes[0]!.name.value, nodes);
  return bytes;
}

/** One `Answer` object of the selection, for a context of `contextJsonBytes`. */
function answerBytes(selection: Selection, contextJsonBytes: number, contextLength: number): number {
  const offsetBytes = String(contextLength).length;
  return objectBytes(selection, (name) => {
    if (name === 'text') return contextJsonBytes + SLICE_EXTRA_BYTES;
    if (name === 'score') return FLOAT_BYTES;
    if (name === 'start' || name === 'end') return offsetBytes;
    return jsonStringBytes(name) + 16; // __typename
  });
}

/** A list of up to `topK` answers. */
function answerListBytes(selection: Selection, topK: number, context: string, contextJsonBytes: number): number {
  return 2 + topK * (answerBytes(selection, contextJsonBytes, context.length) + 1);
}

/** What a bound is made of, for the message that names what to change. */
export interface OutputBound {
  bytes: number;
  /** How many times the answer's `text` is selected (aliases included). */
  textSelections: number;
  /** The context's bytes as JSON. */
  contextBytes: number;
}

function textSelections(selection: Selection): number {
  let n = 0;
  for (const nodes of selection.values()) if (nodes[0]!.name.value === 'text') n++;
  return n;
}

/** The response key's bytes (`"key":`) and the field's value for `answer` (topK 1) or `answers`. */
export function answerFieldBound(info: GraphQLResolveInfo, input: { context: string; topK: number }): OutputBound {
  const selection = subSelection(info.fieldNodes, info.fragments);
  const contextBytes = jsonStringBytes(input.context);
  const bytes =
    jsonStringBytes(String(info.path.key)) + 2 + answerListBytes(selection, input.topK, input.context, contextBytes);
  return { bytes, textSelections: textSelections(selection), contextBytes };
}

/** The `answerMany` field's own bytes (its key and list brackets), before its inputs. */
export function answerManyFieldBytes(info: GraphQLResolveInfo, inputs: number): number {
  return jsonStringBytes(String(info.path.key)) + 4 + inputs;
}

/** One `AnswerResult` of `answerMany` (its answers or its error) for one input. */
export function answerResultBound(info: GraphQLResolveInfo, input: { context: string; topK: number }): OutputBound {
  const result = subSelection(info.fieldNodes, info.fragments);
  const contextBytes = jsonStringBytes(input.context);
  let texts = 0;
  const bytes = objectBytes(result, (name, nodes) => {
    if (name === 'answers') {
      const selection = subSelection(nodes, info.fragments);
      texts += textSelections(selection);
      return answerListBytes(selection, input.topK, input.context, contextBytes);
    }
    if (name === 'error') return objectBytes(subSelection(nodes, info.fragments), () => ANSWER_ERROR_BYTES);
    return jsonStringBytes(name) + 16; // __typename
  });
  return { bytes, textSelections: texts, contextBytes };
}
