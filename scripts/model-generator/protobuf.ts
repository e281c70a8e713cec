/**
 * A minimal protobuf *writer*: just the wire types ONNX needs (varint, fixed32, length-delimited).
 *
 * Why hand-written rather than protobufjs reflection: a full-size model carries ~265 MB of tensor
 * bytes, and we want to reference those Float32Array buffers without copying them into an
 * intermediate object tree. Messages here are lists of byte chunks with a known total length, so a
 * parent can emit its child's length prefix without re-encoding, and the file is assembled once.
 * Field order is the order of calls, so output is deterministic byte for byte.
 */

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** Encodes an unsigned or (two's complement, 64-bit) signed integer as a protobuf varint. */
export function encodeVarint(value: number | bigint): Uint8Array {
  let v = typeof value === 'bigint' ? value : BigInt(value);
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new RangeError(`varint value ${value} is not a safe integer`);
  }
  if (v < 0n) v = BigInt.asUintN(64, v); // int64 negatives take ten bytes, as protobuf specifies
  const bytes: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v !== 0n);
  return Uint8Array.from(bytes);
}

/** An encoded message under construction: chunks are referenced, not copied, until `toBytes()`. */
export class ProtoMessage {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  private push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.length += chunk.byteLength;
  }

  private tag(field: number, wire: number): void {
    this.push(encodeVarint(field * 8 + wire));
  }

  /** int32/int64/enum/bool field. */
  varint(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.push(encodeVarint(value));
    return this;
  }

  /** `float` field (fixed32, little-endian IEEE 754). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  /** `bytes` field; the bytes are referenced, so the caller must not mutate them afterwards. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.push(encodeVarint(value.byteLength));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** Embedded message field. */
  message(field: number, value: ProtoMessage): this {
    this.tag(field, WIRE_LEN);
    this.push(encodeVarint(value.length));
    for (const c of value.chunks) this.push(c);
    return this;
  }

  /** The whole message as one contiguous buffer. */
  toBytes(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}
