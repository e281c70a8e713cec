/**
 * Encoders for the subset of onnx.proto (ONNX IR v8) the generated models use. Field numbers are
 * those of https://github.com/onnx/onnx/blob/main/onnx/onnx.proto; ONNX is proto2, so repeated
 * scalars are written unpacked, as the reference C++ serializer does.
 */
import { ProtoMessage } from './protobuf';

/** TensorProto.DataType values used here. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** A constant tensor (graph initializer); `data` is the little-endian raw buffer. */
export interface TensorInit {
  name: string;
  dataType: DataTypeCode;
  dims: readonly number[];
  data: Uint8Array;
}

/** Attribute values: number → FLOAT unless given as {int}; arrays of ints → INTS. */
export type AttributeValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'string'; value: string };

export interface NodeDef {
  opType: string;
  name: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Readonly<Record<string, AttributeValue>>;
  domain?: string;
}

/** A graph input/output: element type and a shape of fixed sizes or symbolic (dynamic axis) names. */
export interface ValueInfo {
  name: string;
  elemType: DataTypeCode;
  shape: ReadonlyArray<number | string>;
}

export interface ModelDef {
  graphName: string;
  nodes: readonly NodeDef[];
  initializers: readonly TensorInit[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
}

const AttrType = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

function encodeTensor(t: TensorInit): ProtoMessage {
  const m = new ProtoMessage();
  for (const d of t.dims) m.varint(1, d);
  m.varint(2, t.dataType);
  m.string(8, t.name);
  m.bytes(9, t.data);
  return m;
}

function encodeAttribute(name: string, a: AttributeValue): ProtoMessage {
  const m = new ProtoMessage().string(1, name);
  switch (a.kind) {
    case 'float':
      m.float(2, a.value).varint(20, AttrType.FLOAT);
      break;
    case 'int':
      m.varint(3, a.value).varint(20, AttrType.INT);
      break;
    case 'string':
      m.string(4, a.value).varint(20, AttrType.STRING);
      break;
    case 'ints':
      for (const v of a.value) m.varint(8, v);
      m.varint(20, AttrType.INTS);
      break;
  }
  return m;
}

function encodeNode(n: NodeDef): ProtoMessage {
  const m = new ProtoMessage();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  m.string(3, n.name);
  m.string(4, n.opType);
  // Sorted so that attribute order never depends on object construction order.
  for (const key of Object.keys(n.attributes ?? {}).sort()) {
    m.message(5, encodeAttribute(key, n.attributes![key]!));
  }
  if (n.domain) m.string(7, n.domain);
  return m;
}

function encodeValueInfo(v: ValueInfo): ProtoMessage {
  const shape = new ProtoMessage();
  for (const d of v.shape) {
    const dim = new ProtoMessage();
    if (typeof d === 'number') dim.varint(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoMessage().varint(1, v.elemType).message(2, shape);
  const type = new ProtoMessage().message(1, tensorType);
  return new ProtoMessage().string(1, v.name).message(2, type);
}

/** Serializes a whole ModelProto; the result is what `onnx/model.onnx` holds. */
export function encodeModel(def: ModelDef): Buffer {
  const graph = new ProtoMessage();
  for (const n of def.nodes) graph.message(1, encodeNode(n));
  graph.string(2, def.graphName);
  for (const t of def.initializers) graph.message(5, encodeTensor(t));
  for (const i of def.inputs) graph.message(11, encodeValueInfo(i));
  for (const o of def.outputs) graph.message(12, encodeValueInfo(o));

  const model = new ProtoMessage();
  model.varint(1, 8); // ir_version 8 (ONNX 1.13+, the IR that goes with opset 17)
  model.string(2, def.producerName);
  model.string(3, def.producerVersion);
  if (def.docString) model.string(6, def.docString);
  model.message(7, graph);
  model.message(8, new ProtoMessage().string(1, '').varint(2, def.opsetVersion));
  return model.toBytes();
}
