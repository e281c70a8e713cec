/**
 * Odd ONNX graphs, built here with the test-model generator's GraphBuilder: each must fail the load
 * with a message saying what is wrong (or, at run time, fail its input with InferenceError), never
 * load and answer wrongly. The control graph, with the same inputs and outputs as a real export,
 * loads and answers.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { GraphBuilder, int } from '../../scripts/model-generator/graph-builder';
import { DataType, type DataTypeCode } from '../../scripts/model-generator/onnx-proto';
import { QuestionAnswerer } from '../../src/model/question-answerer';
import { loadModel } from '../../src/model/loading/load-model';
import { graphProblem, logitsProblem } from '../../src/model/onnx-contract';

const TOKENIZER = path.join(__dirname, '../fixtures/bert-base-uncased/tokenizer.json');
const SEQ = ['batch', 'sequence'];
let tokenizerJson: string;
let work: string;

beforeAll(async () => {
  tokenizerJson = await readFile(TOKENIZER, 'utf8');
  work = await mkdtemp(path.join(os.tmpdir(), 'onnx-contract-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Odd {
  extraInput?: string;
  /** Builds start_logits from the float ids; end_logits is the float mask. */
  start?: (b: GraphBuilder, ids: string) => string;
  startType?: DataTypeCode;
  startShape?: ReadonlyArray<number | string>;
}

/** A graph with a real export's inputs and outputs, logits computed from the ids (answers mean nothing, shapes are right). */
function graph(odd: Odd = {}): Buffer {
  const b = new GraphBuilder('odd');
  b.input('input_ids', DataType.INT64, SEQ);
  b.input('attention_mask', DataType.INT64, SEQ);
  let mask = 'attention_mask';
  if (odd.extraInput) {
    b.input(odd.extraInput, DataType.INT64, SEQ);
    mask = b.node('Add', ['attention_mask', odd.extraInput]);
  }
  const ids = b.node('Cast', ['input_ids'], { to: int(DataType.FLOAT) });
  if (odd.start) b.node('Identity', [odd.start(b, ids)], undefined, 'start_logits');
  else b.node('Identity', [ids], undefined, 'start_logits');
  b.node('Cast', [mask], { to: int(DataType.FLOAT) }, 'end_logits');
  b.output('start_logits', odd.startType ?? DataType.FLOAT, odd.startShape ?? SEQ);
  b.output('end_logits', DataType.FLOAT, SEQ);
  return b.encode(13, 'odd graph for onnx-contract.test.ts');
}

const create = (model: Buffer) => QuestionAnswerer.create({ model, tokenizerJson, intraOpNumThreads: 1 });

describe('the control graph', () => {
  it('loads and answers', async () => {
    const engine = await create(graph());
    const answers = await engine.answer({ question: 'Where?', context: 'In Paris, France.' });
    expect(answers.length).toBeGreaterThan(0);
    await engine.dispose();
  });
});

describe('graphs the engine must refuse at load', () => {
  it.each<[string, Odd, string | RegExp]>([
    // Another kind of export (model-family.ts names what it found and what it expected).
    [
      'an extra required input (position_ids)',
      { extraInput: 'position_ids' },
      'the ONNX graph has inputs input_ids, attention_mask, position_ids; expected inputs input_ids and attention_mask',
    ],
    [
      'int64 start_logits',
      { start: (b) => b.node('Identity', ['input_ids']), startType: DataType.INT64 },
      'output start_logits is int64, not float32',
    ],
    [
      'start_logits of fixed shape [1, 1]',
      {
        start: (b, ids) => b.node('ReduceSum', [ids, b.constInt64([1])]),
        startShape: [1, 1],
      },
      'output start_logits has the fixed shape [1, 1], not [batch, sequence]',
    ],
    [
      'start_logits one token short (a shape no declaration shows)',
      {
        start: (b, ids) => b.node('Slice', [ids, b.constInt64([1]), b.constInt64([1 << 30]), b.constInt64([1])]),
      },
      /fails a probe window of (\d+) tokens: .*start_logits has \d+ values for a window of \1 tokens/,
    ],
    ['NaN logits', { start: (b, ids) => b.node('Mul', [ids, b.constFloat(Number.NaN)]) }, /start_logits\[0\] is NaN/],
    ['infinite logits', { start: (b, ids) => b.node('Div', [ids, b.constFloat(0)]) }, /start_logits\[0\] is Infinity/],
  ])('%s', async (_name, odd, message) => {
    const error = await create(graph(odd)).then(
      (engine) => (void engine.dispose(), new Error('it loaded')),
      (e: unknown) => e as Error,
    );
    if (typeof message === 'string') expect(error.message).toContain(message);
    else expect(error.message).toMatch(message);
  });

  it('through the loader: INVALID_MODEL naming the ONNX file and the tokenizer', async () => {
    const dir = path.join(work, 'int64-logits');
    await mkdir(path.join(dir, 'onnx'), { recursive: true });
    await writeFile(
      path.join(dir, 'onnx/model.onnx'),
      graph({ start: (b) => b.node('Identity', ['input_ids']), startType: DataType.INT64 }),
    );
    await writeFile(path.join(dir, 'tokenizer.json'), tokenizerJson);
    await expect(
      loadModel(dir, {
        preferQuantized: true,
        threads: 1,
        read: { idleTimeoutMs: 5000, totalTimeoutMs: 30000, maxInMemoryBytes: 1 << 26, spillDir: work },
      }),
    ).rejects.toMatchObject({
      reason: 'INVALID_MODEL',
      object: path.join(dir, 'onnx/model.onnx'),
      message: expect.stringContaining('output start_logits is int64, not float32'),
    });
  });
});

describe('the checks themselves (pure)', () => {
  const tensor = (name: string, type: string, shape: Array<number | string>) => ({ name, isTensor: true, type, shape });
  const inputs = [tensor('input_ids', 'int64', SEQ), tensor('attention_mask', 'int64', SEQ)];
  const outputs = [tensor('start_logits', 'float32', SEQ), tensor('end_logits', 'float32', SEQ)];

  it('accepts a real export (batch and sequence symbolic or -1, token_type_ids optional)', () => {
    expect(graphProblem(inputs, outputs)).toBeNull();
    expect(graphProblem([...inputs, tensor('token_type_ids', 'int64', [-1, -1])], outputs)).toBeNull();
  });

  it('refuses a missing input, a fixed sequence length, a rank-3 output', () => {
    expect(graphProblem(inputs.slice(0, 1), outputs)).toBe('has no input attention_mask (it declares input_ids)');
    expect(graphProblem([tensor('input_ids', 'int64', [1, 384]), inputs[1]!], outputs)).toBe(
      'input input_ids has the fixed shape [1, 384], not [batch, sequence]',
    );
    expect(graphProblem(inputs, [tensor('start_logits', 'float32', ['b', 's', 2]), outputs[1]!])).toBe(
      'output start_logits has shape [b, s, 2], not [batch, sequence]',
    );
  });

  it('checks logits on every run: length and finiteness', () => {
    expect(logitsProblem('start_logits', new Float32Array([1, 2, 3]), 3)).toBeNull();
    expect(logitsProblem('start_logits', new Float32Array([1, Number.NaN, 3]), 3)).toBe('start_logits[1] is NaN');
    expect(logitsProblem('end_logits', new Float32Array(2), 3)).toBe(
      'end_logits has 2 values for a window of 3 tokens',
    );
    expect(logitsProblem('end_logits', new BigInt64Array(3), 3)).toBe('end_logits is not float32 data');
  });
});
