// Strict encoding of Envoy resources written in the proto3 JSON shape Envoy's own YAML uses
// (snake_case names, "30s" durations, {"@type": …} for Any, bare numbers for wrappers).
// The only module that touches protobufjs types: an unknown or misspelled field, a wrong type,
// or two members of one oneof is an error naming the field path, never silently dropped.

import protobuf from 'protobufjs';
import { envoyRoot } from './protos.js';
import { TYPE_URL_PREFIX, messageNameOf } from './type-urls.js';
import { WRAPPER_TYPES, isJsonObject, type Json, type JsonObject } from './proto-json.js';

export class EncodeError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path || '<root>'}: ${message}`);
    this.name = 'EncodeError';
  }
}


const INT32_LIMITS: Record<string, [number, number]> = {
  int32: [-2147483648, 2147483647],
  sint32: [-2147483648, 2147483647],
  sfixed32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  fixed32: [0, 4294967295],
};

function fail(path: string, message: string): never {
  throw new EncodeError(path, message);
}

/** Parses a proto3 JSON duration ("30s", "0.250s", "-1.5s") into {seconds, nanos}. */
export function parseProtoDuration(text: string, path = ''): { seconds: number; nanos: number } {
  const match = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(text);
  if (!match) fail(path, `"${text}" is not a duration like "30s" or "0.5s"`);
  const sign = match[1] ? -1 : 1;
  const seconds = Number(match[2]);
  const nanos = match[3] ? Number(match[3].padEnd(9, '0')) : 0;
  if (!Number.isSafeInteger(seconds) || seconds > 315576000000) fail(path, `duration "${text}" is out of range`);
  return { seconds: sign * seconds, nanos: sign * nanos };
}

function toScalar(field: protobuf.Field, value: Json, path: string): unknown {
  const type = field.type;
  if (type === 'string') {
    if (typeof value !== 'string') fail(path, `expected a string, got ${JSON.stringify(value)}`);
    return value;
  }
  if (type === 'bool') {
    if (typeof value !== 'boolean') fail(path, `expected true or false, got ${JSON.stringify(value)}`);
    return value;
  }
  if (type === 'double' || type === 'float') {
    if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, `expected a number, got ${JSON.stringify(value)}`);
    return value;
  }
  if (type === 'bytes') {
    if (typeof value !== 'string') fail(path, 'expected base64 text for bytes');
    return Buffer.from(value, 'base64');
  }
  const limits = INT32_LIMITS[type];
  if (limits) {
    if (typeof value !== 'number' || !Number.isInteger(value)) fail(path, `expected an integer, got ${JSON.stringify(value)}`);
    if (value < limits[0] || value > limits[1]) fail(path, `${value} is out of range for ${type}`);
    return value;
  }
  // 64-bit integers: numbers or decimal strings, as proto3 JSON allows.
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return value;
  return fail(path, `expected an integer, got ${JSON.stringify(value)}`);
}

function toEnum(enumType: protobuf.Enum, value: Json, path: string): number {
  if (typeof value === 'string') {
    const number = enumType.values[value];
    if (number === undefined) fail(path, `"${value}" is not a value of ${enumType.name}`);
    return number;
  }
  if (typeof value === 'number' && Object.values(enumType.values).includes(value)) return value;
  return fail(path, `${JSON.stringify(value)} is not a value of ${enumType.name}`);
}

function toStructValue(value: Json, path: string): JsonObject {
  if (value === null) return { null_value: 0 };
  if (typeof value === 'number') return { number_value: value };
  if (typeof value === 'string') return { string_value: value };
  if (typeof value === 'boolean') return { bool_value: value };
  if (Array.isArray(value)) return { list_value: { values: value.map((item, i) => toStructValue(item, `${path}/${i}`)) } };
  return { struct_value: toStruct(value, path) };
}

function toStruct(value: Json, path: string): JsonObject {
  if (!isJsonObject(value)) fail(path, 'expected an object');
  const fields: JsonObject = {};
  for (const [key, item] of Object.entries(value)) fields[key] = toStructValue(item, `${path}/${key}`);
  return { fields };
}

/** Converts one proto3-JSON value of a message type into the shape `Type.fromObject` takes. */
function toMessage(type: protobuf.Type, value: Json, path: string): unknown {
  switch (type.fullName.replace(/^\./, '')) {
    case 'google.protobuf.Duration':
      if (typeof value !== 'string') fail(path, 'expected a duration string like "30s"');
      return parseProtoDuration(value, path);
    case 'google.protobuf.Any':
      return toAny(value, path);
    case 'google.protobuf.Struct':
      return toStruct(value, path);
    case 'google.protobuf.Value':
      return toStructValue(value, path);
  }
  if (WRAPPER_TYPES.has(type.fullName.replace(/^\./, ''))) {
    const inner = type.fields['value'];
    if (!inner) fail(path, `wrapper ${type.fullName} has no value field`);
    return { value: toScalar(inner, value, path) };
  }
  if (!isJsonObject(value)) fail(path, `expected an object for ${type.name}`);

  const result: Record<string, unknown> = {};
  const oneofsSeen = new Map<string, string>();
  for (const [key, item] of Object.entries(value)) {
    const fieldPath = `${path}/${key}`;
    const field = type.fields[key];
    if (!field) fail(fieldPath, `${type.name} has no field "${key}"`);
    if (item === null) fail(fieldPath, 'null is not allowed; leave the field out instead');
    const oneof = field.partOf;
    if (oneof) {
      const other = oneofsSeen.get(oneof.name);
      if (other) fail(fieldPath, `"${key}" and "${other}" are both set, but they belong to one oneof "${oneof.name}"`);
      oneofsSeen.set(oneof.name, key);
    }
    result[key] = toFieldValue(field, item, fieldPath);
  }
  return result;
}

function toSingle(field: protobuf.Field, value: Json, path: string): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return toMessage(resolved, value, path);
  if (resolved instanceof protobuf.Enum) return toEnum(resolved, value, path);
  return toScalar(field, value, path);
}

function toFieldValue(field: protobuf.Field, value: Json, path: string): unknown {
  if (field instanceof protobuf.MapField) {
    if (!isJsonObject(value)) fail(path, 'expected an object (map)');
    const map: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) map[key] = toSingle(field, item, `${path}/${key}`);
    return map;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) fail(path, 'expected a list');
    return value.map((item, i) => toSingle(field, item, `${path}/${i}`));
  }
  return toSingle(field, value, path);
}

function toAny(value: Json, path: string): { type_url: string; value: Uint8Array } {
  if (!isJsonObject(value)) fail(path, 'expected an object with "@type"');
  const { '@type': typeUrl, ...rest } = value;
  if (typeof typeUrl !== 'string' || !typeUrl.startsWith(TYPE_URL_PREFIX)) {
    fail(`${path}/@type`, `expected a type URL starting with ${TYPE_URL_PREFIX}`);
  }
  return { type_url: typeUrl, value: encodeMessage(messageNameOf(typeUrl), rest, path) };
}

function lookup(messageName: string, path: string): protobuf.Type {
  const found = envoyRoot().lookup(messageName);
  if (!(found instanceof protobuf.Type)) fail(path, `message type ${messageName} is not loaded`);
  return found;
}

/** Encodes a proto3-JSON object as the named message, strictly. */
export function encodeMessage(messageName: string, value: unknown, path = ''): Uint8Array {
  const type = lookup(messageName, path);
  const plain = toMessage(type, value as Json, path) as Record<string, unknown>;
  return type.encode(type.fromObject(plain)).finish();
}

/** Encodes a resource given in proto3 JSON as the message its type URL names. */
export function encodeResource(typeUrl: string, resource: unknown): Uint8Array {
  return encodeMessage(messageNameOf(typeUrl), resource);
}

const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = { longs: Number, enums: String, bytes: String, defaults: false };

function expandAny(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(expandAny);
  if (!isJsonObject(value as Json)) return value;
  const object = value as Record<string, unknown>;
  if (typeof object['type_url'] === 'string' && 'value' in object && Object.keys(object).length === 2) {
    const type = lookup(messageNameOf(object['type_url']), '');
    const bytes = Buffer.from(String(object['value']), 'base64');
    return { '@type': object['type_url'], ...(expandAny(type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS)) as object) };
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(object)) out[key] = expandAny(item);
  return out;
}

/** Decodes a message into plain data, unpacking nested Any values; for tests and dry runs. */
export function decodeMessage(messageName: string, bytes: Uint8Array): Record<string, unknown> {
  const type = lookup(messageName, '');
  return expandAny(type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS)) as Record<string, unknown>;
}

/** The runtime message type, for the gRPC (de)serialisers of the xDS services. */
export function messageType(messageName: string): protobuf.Type {
  return lookup(messageName, '');
}
