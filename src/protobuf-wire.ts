// Reading protobuf's wire format field by field, for the messages sluice reads without decoding
// them whole (discovery requests, inference answers): the wire types, the loop over a message's
// fields, a field's expected wire type, and length-delimited fields that refuse a length past the
// end. Knows no message.

import protobuf from 'protobufjs';

export type WireReader = protobuf.Reader;

/** Wire types: varint, 64-bit, length-delimited, 32-bit. */
export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;

/** A reader over `bytes` (as a Buffer, so that the fields it cuts out are Buffers too). */
function wireReader(bytes: Uint8Array): WireReader {
  return protobuf.Reader.create(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

export function expectWire(wire: number, expected: number, field: string): void {
  if (wire !== expected) throw new Error(`${field} has wire type ${wire}`);
}

/**
 * Calls `field` for every field of `bytes`, with a reader positioned on its value; a field it
 * does not read (returns false) is skipped.
 */
export function eachField(bytes: Uint8Array, field: (reader: WireReader, number: number, wire: number) => boolean): void {
  const reader = wireReader(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (!field(reader, tag >>> 3, tag & 7)) reader.skipType(tag & 7);
  }
}

/**
 * A length-delimited field's bytes (a view, not a copy): a sub-message, bytes or a string. Throws
 * when the field has another wire type or its length runs past the end.
 */
export function lengthDelimited(reader: WireReader, wire: number, field: string): Buffer {
  expectWire(wire, LEN, field);
  const bytes = reader.bytes();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A string field (protobufjs's own string reader of Buffers cuts a length past the end short instead of refusing it). */
export function readString(reader: WireReader, wire: number, field: string): string {
  return lengthDelimited(reader, wire, field).toString('utf8');
}
