/**
 * The "pointer" QA model: start_logits[b, i] = S[input_ids[b, i]] and end_logits[b, i] =
 * E[input_ids[b, i]], two vocabulary-sized tables read with Gather. S is high for the chosen start
 * token ids and E for the chosen end token ids, small elsewhere, so an end-to-end test knows which
 * answer the engine must return wherever it puts those tokens in a context (e.g. near the end of a
 * 5,000-word document, to exercise windowing).
 *
 * attention_mask stays a declared input, as in Hugging Face's export, and is used the way a real
 * model's output behaves at padding: masked positions get a logit lowered by 10,000, which never
 * affects an unpadded window.
 */
import { int } from './graph-builder';
import { GraphBuilder } from './graph-builder';
import { DataType } from './onnx-proto';
import { quantizeSymmetricInt8 } from './quantize';
import { uniformFill } from './random';
import { VOCAB_SIZE } from './weights';
import { OPSET } from './transformer-graph';
import type { BuiltModel } from './transformer-graph';

export const POINTER_DEFAULT_HIGH_LOGIT = 10;
/** Half-width of the uniform "background" logits: small next to the high logit. */
export const POINTER_BACKGROUND = 0.5;
export const POINTER_PADDING_PENALTY = 10000;

export interface PointerTables {
  start: Float32Array;
  end: Float32Array;
}

function checkIds(ids: readonly number[], what: string): void {
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= VOCAB_SIZE) {
      throw new RangeError(`${what} must hold integer token ids in [0, ${VOCAB_SIZE}), got ${id}`);
    }
  }
}

/** Background logits uniform in ±0.5 (seeded), `highLogit` at the chosen ids. */
export function makePointerTables(
  seed: number,
  startTokenIds: readonly number[],
  endTokenIds: readonly number[],
  highLogit: number = POINTER_DEFAULT_HIGH_LOGIT,
): PointerTables {
  checkIds(startTokenIds, 'startTokenIds');
  checkIds(endTokenIds, 'endTokenIds');
  const std = POINTER_BACKGROUND / Math.sqrt(3);
  const start = uniformFill(new Float32Array(VOCAB_SIZE), seed, 'pointer.start', std);
  const end = uniformFill(new Float32Array(VOCAB_SIZE), seed, 'pointer.end', std);
  for (const id of startTokenIds) start[id] = highLogit;
  for (const id of endTokenIds) end[id] = highLogit;
  return { start, end };
}

export function buildPointerModel(tables: PointerTables, options: { quantized: boolean }): BuiltModel {
  const g = new GraphBuilder('PointerForQuestionAnswering');
  const ids = g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', DataType.INT64, ['batch_size', 'sequence_length']);

  const penalty = g.scope('mask', () => {
    const m = g.node('Cast', [mask], { to: int(DataType.FLOAT) });
    return g.node('Mul', [g.node('Sub', [m, g.constFloat(1)]), g.constFloat(POINTER_PADDING_PENALTY)]);
  });

  const lookup = (name: string, table: Float32Array, output: string): void =>
    g.scope(name, () => {
      let gathered: string;
      if (options.quantized) {
        const q = quantizeSymmetricInt8(table);
        const t = g.initializer(`pointer.${name}.weight_quantized`, DataType.INT8, [table.length], q.values);
        const scale = g.initializer(`pointer.${name}.weight_scale`, DataType.FLOAT, [], new Float32Array([q.scale]));
        const zp = g.initializer(`pointer.${name}.weight_zero_point`, DataType.INT8, [], new Int8Array([0]));
        gathered = g.node('DequantizeLinear', [g.node('Gather', [t, ids], { axis: int(0) }), scale, zp]);
      } else {
        const t = g.initializer(`pointer.${name}.weight`, DataType.FLOAT, [table.length], table);
        gathered = g.node('Gather', [t, ids], { axis: int(0) });
      }
      g.node('Add', [gathered, penalty], undefined, output);
    });
  lookup('start', tables.start, 'start_logits');
  lookup('end', tables.end, 'end_logits');
  g.output('start_logits', DataType.FLOAT, ['batch_size', 'sequence_length']);
  g.output('end_logits', DataType.FLOAT, ['batch_size', 'sequence_length']);
  const doc = 'Generated pointer test model (scripts/model-generator): logits are table lookups of input_ids.';
  return { bytes: g.encode(OPSET, doc), opTypes: g.opTypes() };
}
