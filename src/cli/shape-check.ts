// The structural part of the admin API's JSON Schemas (type, required and unknown fields, enum,
// const, array items), checked locally so that `diff` refuses a misspelt or mistyped field as
// PUT would, instead of silently ignoring it. Patterns and ranges stay the server's to check.

import { SluiceError } from '../errors.js';
import { pointerToken } from '../model/validate.js';

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  required?: readonly string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  enum?: readonly unknown[];
  const?: unknown;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    default:
      return typeof value === type;
  }
}

function invalid(message: string, path: string): SluiceError {
  return new SluiceError('SLUICE_INVALID_BODY', message, path);
}

/** Throws SLUICE_INVALID_BODY with the JSON pointer of the first field that does not fit `schema`. */
export function checkShape(value: unknown, schema: Schema, path = ''): void {
  const field = path === '' ? 'The body' : `"${path}"`;
  if (schema.const !== undefined && value !== schema.const) throw invalid(`${field} must be ${JSON.stringify(schema.const)}.`, path);
  if (schema.enum !== undefined && !schema.enum.includes(value)) {
    throw invalid(`${field} must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}.`, path);
  }
  if (schema.type !== undefined && !hasType(value, schema.type)) throw invalid(`${field} must be a JSON ${schema.type}.`, path);
  if (Array.isArray(value) && schema.items !== undefined) {
    const items = schema.items;
    value.forEach((item, i) => checkShape(item, items, `${path}/${i}`));
  }
  if (!hasType(value, 'object')) return;
  const object = value as Record<string, unknown>;
  for (const key of schema.required ?? []) {
    if (!Object.hasOwn(object, key)) throw invalid(`Missing required field "${path}/${pointerToken(key)}".`, `${path}/${pointerToken(key)}`);
  }
  for (const [key, child] of Object.entries(object)) {
    const childPath = `${path}/${pointerToken(key)}`;
    const childSchema = schema.properties?.[key] ?? schema.additionalProperties;
    if (childSchema === false) throw invalid(`Unknown field "${childPath}".`, childPath);
    if (typeof childSchema === 'object') checkShape(child, childSchema, childPath);
  }
}
