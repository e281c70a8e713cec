/**
 * A small imperative builder for ONNX graphs: named scopes give nodes and intermediate values
 * readable, unique names (like PyTorch's exporter: `/distilbert/transformer/layer.0/.../MatMul`),
 * and scalar/shape constants are shared initializers so the graph stays compact.
 */
import { AttributeValue, DataType, DataTypeCode, encodeModel, NodeDef, TensorInit, ValueInfo } from './onnx-proto';

export const int = (value: number): AttributeValue => ({ kind: 'int', value });
export const float = (value: number): AttributeValue => ({ kind: 'float', value });
export const ints = (value: readonly number[]): AttributeValue => ({ kind: 'ints', value });

/** Little-endian bytes of a typed array (x86/ARM are little-endian; we still check once). */
function bytesOf(a: Float32Array | Int8Array | Uint8Array | BigInt64Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('test-model generator assumes a little-endian host');
}

export class GraphBuilder {
  private readonly nodes: NodeDef[] = [];
  private readonly inits: TensorInit[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly names = new Set<string>();
  private readonly constCache = new Map<string, string>();
  private scopeStack: string[] = [];
  private opCounts = new Map<string, number>();

  constructor(private readonly graphName: string) {}

  /** Runs `fn` with `name` appended to the node-name prefix. */
  scope<T>(name: string, fn: () => T): T {
    this.scopeStack.push(name);
    try {
      return fn();
    } finally {
      this.scopeStack.pop();
    }
  }

  private unique(base: string): string {
    if (!this.names.has(base)) {
      this.names.add(base);
      return base;
    }
    for (let i = 1; ; i++) {
      const candidate = `${base}_${i}`;
      if (!this.names.has(candidate)) {
        this.names.add(candidate);
        return candidate;
      }
    }
  }

  input(name: string, elemType: DataTypeCode, shape: ReadonlyArray<number | string>): string {
    this.inputs.push({ name: this.unique(name), elemType, shape });
    return name;
  }

  /** Declares a graph output; the producing node must name its output `name` (see `node`'s outputName). */
  output(name: string, elemType: DataTypeCode, shape: ReadonlyArray<number | string>): void {
    this.outputs.push({ name, elemType, shape });
  }

  initializer(
    name: string,
    dataType: DataTypeCode,
    dims: readonly number[],
    data: Float32Array | Int8Array | Uint8Array | BigInt64Array | Int32Array,
  ): string {
    const unique = this.unique(name);
    this.inits.push({ name: unique, dataType, dims, data: bytesOf(data) });
    return unique;
  }

  /** A shared float32 constant (scalar unless dims given). */
  constFloat(value: number): string {
    const key = `f:${value}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.initializer(`const_f32_${this.constCache.size}`, DataType.FLOAT, [], new Float32Array([value]));
      this.constCache.set(key, name);
    }
    return name;
  }

  /** A shared int64 constant: a scalar, or a 1-D tensor when `values` is an array. */
  constInt64(values: number | readonly number[]): string {
    const arr = typeof values === 'number' ? [values] : values;
    const dims = typeof values === 'number' ? [] : [arr.length];
    const key = `i:${JSON.stringify(dims)}:${arr.join(',')}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.initializer(
        `const_i64_${this.constCache.size}`,
        DataType.INT64,
        dims,
        BigInt64Array.from(arr.map((v) => BigInt(v))),
      );
      this.constCache.set(key, name);
    }
    return name;
  }

  /**
   * Adds a node and returns its output names. `outputs` is a count (names generated from the scope)
   * or explicit names (used for the graph's declared outputs).
   */
  nodeN(
    opType: string,
    inputs: readonly string[],
    outputs: number | readonly string[],
    attributes?: Record<string, AttributeValue>,
  ): string[] {
    const prefix = this.scopeStack.length ? `/${this.scopeStack.join('/')}/` : '/';
    const count = (this.opCounts.get(prefix + opType) ?? 0) + 1;
    this.opCounts.set(prefix + opType, count);
    const nodeName = this.unique(`${prefix}${opType}${count === 1 ? '' : `_${count - 1}`}`);
    const outNames =
      typeof outputs === 'number'
        ? Array.from({ length: outputs }, (_, i) => this.unique(`${nodeName}_output_${i}`))
        : outputs.map((o) => this.unique(o));
    this.nodes.push({ opType, name: nodeName, inputs: [...inputs], outputs: outNames, attributes });
    return outNames;
  }

  /** Single-output node. */
  node(
    opType: string,
    inputs: readonly string[],
    attributes?: Record<string, AttributeValue>,
    outputName?: string,
  ): string {
    return this.nodeN(opType, inputs, outputName ? [outputName] : 1, attributes)[0]!;
  }

  /** Operator types used so far (for summaries and tests). */
  opTypes(): string[] {
    return [...new Set(this.nodes.map((n) => n.opType))].sort();
  }

  encode(opsetVersion: number, docString: string): Buffer {
    return encodeModel({
      graphName: this.graphName,
      nodes: this.nodes,
      initializers: this.inits,
      inputs: this.inputs,
      outputs: this.outputs,
      opsetVersion,
      producerName: 'serverless-qa-graphql/scripts/model-generator',
      producerVersion: '1',
      docString,
    });
  }
}
