// The proto3 JSON form resources arrive in, as the codec and the resource rules both walk it: the
// JSON value types and the well-known wrapper messages whose JSON is the bare value. Shapes only;
// nothing here encodes or checks.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Messages whose proto3 JSON is the wrapped value itself (`"5s"`-style special forms aside). */
export const WRAPPER_TYPES: ReadonlySet<string> = new Set([
  'google.protobuf.DoubleValue',
  'google.protobuf.FloatValue',
  'google.protobuf.Int64Value',
  'google.protobuf.UInt64Value',
  'google.protobuf.Int32Value',
  'google.protobuf.UInt32Value',
  'google.protobuf.BoolValue',
  'google.protobuf.StringValue',
  'google.protobuf.BytesValue',
]);
