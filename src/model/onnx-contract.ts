/**
 * What the engine needs of an ONNX graph, checked when the session is created (pure): inputs it can
 * feed and nothing more, and `start_logits` / `end_logits` as float tensors of shape
 * [batch, sequence]; then, on every run, logits of the window's length that are all finite. A graph
 * that passes answers as the engine expects; one that does not fails its load, or its input, with a
 * message saying what is wrong, never a wrong answer.
 */

/** The metadata onnxruntime gives of one input or output (InferenceSession.ValueMetadata). */
export interface ValueInfo {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: ReadonlyArray<number | string>;
}

/** The inputs the engine feeds (windowFeeds), the first two required. */
export const REQUIRED_INPUTS = ['input_ids', 'attention_mask'] as const;
export const OPTIONAL_INPUTS = ['token_type_ids'] as const;
export const OUTPUTS = ['start_logits', 'end_logits'] as const;

/** A dimension that takes one window of any length, or a batch of one. */
function fitsDim(dim: number | string, axis: 0 | 1): boolean {
  if (typeof dim === 'string' || dim < 0) return true;
  return axis === 0 && dim === 1;
}

/** Why a declared shape is not [batch, sequence], or null (an unknown shape, `[]`, is left to the probe). */
function shapeProblem(value: ValueInfo): string | null {
  const shape = value.shape ?? [];
  if (shape.length === 0) return null;
  if (shape.length !== 2) return `${value.name} has shape [${shape.join(', ')}], not [batch, sequence]`;
  if (!fitsDim(shape[0]!, 0) || !fitsDim(shape[1]!, 1))
    return `${value.name} has the fixed shape [${shape.join(', ')}], not [batch, sequence]`;
  return null;
}

/** Why a graph's inputs and outputs do not fit the engine, or null. */
export function graphProblem(inputs: readonly ValueInfo[], outputs: readonly ValueInfo[]): string | null {
  const feedable: readonly string[] = [...REQUIRED_INPUTS, ...OPTIONAL_INPUTS];
  const names = inputs.map((i) => i.name);
  for (const name of REQUIRED_INPUTS)
    if (!names.includes(name)) return `has no input ${name} (it declares ${names.join(', ')})`;
  for (const input of inputs) {
    if (!feedable.includes(input.name))
      return `declares an input the engine cannot feed: ${input.name} (it feeds ${feedable.join(', ')})`;
    if (!input.isTensor || input.type !== 'int64')
      return `input ${input.name} is ${input.isTensor ? input.type : 'not a tensor'}, not int64`;
    const problem = shapeProblem(input);
    if (problem) return `input ${problem}`;
  }
  for (const name of OUTPUTS) {
    const output = outputs.find((o) => o.name === name);
    if (!output) return `has no output ${name} (it declares ${outputs.map((o) => o.name).join(', ')})`;
    if (!output.isTensor || output.type !== 'float32')
      return `output ${name} is ${output.isTensor ? output.type : 'not a tensor'}, not float32`;
    const problem = shapeProblem(output);
    if (problem) return `output ${problem}`;
  }
  return null;
}

/** Why one window's logits cannot be used, or null: `length` floats, every one finite. */
export function logitsProblem(name: string, data: unknown, length: number): string | null {
  if (!(data instanceof Float32Array)) return `${name} is not float32 data`;
  if (data.length !== length) return `${name} has ${data.length} values for a window of ${length} tokens`;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return `${name}[${i}] is ${data[i]}`;
  return null;
}
