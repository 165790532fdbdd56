// Reading protobuf's wire format field by field, for the messages sluice reads without decoding
// them whole (discovery requests, inference answers): the wire types, a field's expected wire
// type, and length-delimited fields that refuse a length past the end. Knows no message.

import protobuf from 'protobufjs';

export type WireReader = protobuf.Reader;

/** Wire types: varint, 64-bit, length-delimited, 32-bit. */
export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;

/** A reader over `bytes` (as a Buffer, so that the fields it cuts out are Buffers too). */
export function wireReader(bytes: Uint8Array): WireReader {
  return protobuf.Reader.create(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

export function expectWire(wire: number, expected: number, field: string): void {
  if (wire !== expected) throw new Error(`${field} has wire type ${wire}`);
}

/** A length-delimited field's bytes (a view, not a copy); throws when its length runs past the end. */
export function bytesOf(reader: WireReader): Buffer {
  const bytes = reader.bytes();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A string field (protobufjs's own string reader of Buffers cuts a length past the end short instead of refusing it). */
export function readString(reader: WireReader, wire: number, field: string): string {
  expectWire(wire, LEN, field);
  return bytesOf(reader).toString('utf8');
}
