/**
 * Reads an ONNX file back with protobufjs and a transcription of the relevant part of onnx.proto.
 * It is deliberately independent of the hand-written encoder (protobuf.ts, onnx-proto.ts), so tests
 * that inspect generated graphs also check that the encoder wrote valid protobuf.
 */
import * as protobuf from 'protobufjs';

/**
 * The part of onnx.proto read here: attributes of every kind and every tensor data field are kept,
 * so that a graph can be cut and encoded again.
 */
const ONNX_SUBSET = `
syntax = "proto2";
package onnx;
message AttributeProto {
  optional string name = 1; optional float f = 2; optional int64 i = 3; optional bytes s = 4; optional TensorProto t = 5;
  repeated float floats = 7; repeated int64 ints = 8; repeated bytes strings = 9; optional int32 type = 20;
}
message NodeProto {
  repeated string input = 1; repeated string output = 2; optional string name = 3;
  optional string op_type = 4; repeated AttributeProto attribute = 5; optional string domain = 7;
}
message TensorProto {
  repeated int64 dims = 1; optional int32 data_type = 2; repeated float float_data = 4; repeated int32 int32_data = 5;
  repeated int64 int64_data = 7; optional string name = 8; optional bytes raw_data = 9; repeated double double_data = 10;
}
message TensorShapeProto {
  message Dimension { optional int64 dim_value = 1; optional string dim_param = 2; }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
  optional Tensor tensor_type = 1;
}
message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; }
message GraphProto {
  repeated NodeProto node = 1; optional string name = 2; repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12;
}
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
message ModelProto {
  optional int64 ir_version = 1; repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2; optional string doc_string = 6; optional GraphProto graph = 7;
}
`;

let modelType: protobuf.Type | null = null;
/** `onnx.ModelProto` of the schema above, for decoding (and re-encoding) ONNX files. */
export function modelProto(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_SUBSET).root.lookupType('onnx.ModelProto');
  return modelType;
}

export interface InspectedValue {
  name: string;
  elemType: number;
  /** Fixed sizes as numbers, dynamic axes as their names. */
  shape: Array<number | string>;
}

export interface InspectedNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, { f?: number; i?: number; ints?: number[] }>;
}

export interface InspectedInitializer {
  name: string;
  dataType: number;
  dims: number[];
  raw: Uint8Array;
}

export interface InspectedModel {
  irVersion: number;
  opsets: Array<{ domain: string; version: number }>;
  docString: string;
  inputs: InspectedValue[];
  outputs: InspectedValue[];
  nodes: InspectedNode[];
  initializers: Map<string, InspectedInitializer>;
}

export function inspectOnnx(bytes: Uint8Array): InspectedModel {
  const T = modelProto();
  const m = T.toObject(T.decode(bytes), { longs: Number, defaults: true }) as any;
  const value = (v: any): InspectedValue => ({
    name: v.name,
    elemType: v.type.tensorType.elemType,
    shape: v.type.tensorType.shape.dim.map((d: any) => (d.dimParam ? d.dimParam : d.dimValue)),
  });
  const g = m.graph;
  return {
    irVersion: m.irVersion,
    opsets: m.opsetImport.map((o: any) => ({ domain: o.domain, version: o.version })),
    docString: m.docString,
    inputs: g.input.map(value),
    outputs: g.output.map(value),
    nodes: g.node.map((n: any) => ({
      name: n.name,
      opType: n.opType,
      domain: n.domain,
      inputs: n.input,
      outputs: n.output,
      attributes: Object.fromEntries(n.attribute.map((a: any) => [a.name, { f: a.f, i: a.i, ints: a.ints }])),
    })),
    initializers: new Map(
      g.initializer.map((t: any) => [t.name, { name: t.name, dataType: t.dataType, dims: t.dims, raw: t.rawData }]),
    ),
  };
}
