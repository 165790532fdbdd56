// What Envoy itself refuses in a resource, checked before any proxy sees it: the protoc-gen-validate
// rules carried in the loaded schema (generically, per rule kind), Envoy's range for every Duration
// and valid UTF-8 text. Pure and read-only over resources in the proto3 JSON form the codec takes:
// it reports violations and never encodes, changes or sends a resource, nor knows the desired state.

import protobuf from 'protobufjs';
import { envoyRoot } from './protos.js';
import { TYPE_URL_PREFIX, messageNameOf } from './type-urls.js';
import { WRAPPER_TYPES, isJsonObject } from './proto-json.js';

export interface ResourceViolation {
  typeUrl: string;
  resourceName: string;
  /** JSON pointer inside the resource, in its proto3 JSON field names. */
  path: string;
  /** The rule broken: a PGV rule (`string.min_len`, `duration.gt`, `oneof.required`, …), `envoy.duration_range` or `utf8`. */
  rule: string;
  value: unknown;
  /** What the rule demands, for a person. */
  message: string;
}

export interface CheckedResource {
  typeUrl: string;
  name: string;
  resource: unknown;
}

/**
 * Envoy refuses any Duration, in any field, whose seconds reach INT64_MAX nanoseconds
 * (9223372036 s; measured on Envoy 1.40: 9223372035.999999999s is accepted, 9223372036s is not),
 * or that is negative.
 */
export const ENVOY_MAX_DURATION_SECONDS = 9_223_372_035n;
const NANOS_PER_SECOND = 1_000_000_000n;

/** Every rule key this module understands, per PGV rule kind; a test holds the schema to it. */
const NUMBER_RULES = ['const', 'lt', 'lte', 'gt', 'gte', 'in', 'not_in', 'ignore_empty'];
export const SUPPORTED_RULES: Readonly<Record<string, readonly string[]>> = {
  string: [
    'const', 'len', 'min_len', 'max_len', 'len_bytes', 'min_bytes', 'max_bytes', 'pattern', 'prefix', 'suffix',
    'contains', 'not_contains', 'in', 'not_in', 'well_known_regex', 'strict', 'ignore_empty',
  ],
  bytes: ['const', 'len', 'min_len', 'max_len', 'prefix', 'suffix', 'contains', 'in', 'not_in', 'ignore_empty'],
  bool: ['const'],
  enum: ['const', 'defined_only', 'in', 'not_in'],
  duration: ['required', 'const', 'lt', 'lte', 'gt', 'gte', 'in', 'not_in'],
  message: ['required', 'skip'],
  any: ['required', 'in', 'not_in'],
  repeated: ['min_items', 'max_items', 'unique', 'items', 'ignore_empty'],
  map: ['min_pairs', 'max_pairs', 'keys', 'values', 'no_sparse', 'ignore_empty'],
  ...Object.fromEntries(
    ['float', 'double', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64'].map(
      (kind) => [kind, NUMBER_RULES],
    ),
  ),
};

type Rules = { [kind: string]: { [rule: string]: unknown } };
const FREE_FORM_TYPES = new Set(['google.protobuf.Struct', 'google.protobuf.Value', 'google.protobuf.ListValue']);
const FLOAT_KINDS = new Set(['float', 'double']);

/** PGV's well-known header regexes; `strict: false` only forbids NUL, CR and LF. */
const HEADER_REGEXES: Record<string, { strict: RegExp; lax: RegExp }> = {
  HTTP_HEADER_NAME: { strict: /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/, lax: /^[^\0\n\r]*$/ },
  HTTP_HEADER_VALUE: { strict: /^[^\0-\x08\x0A-\x1F\x7F]*$/, lax: /^[^\0\n\r]*$/ },
};
/** A UTF-16 surrogate not part of a pair: text that has no UTF-8 encoding. */
const LONE_SURROGATE = /\p{Cs}/u;

function pointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

function mergeRules(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isJsonObject(existing) && isJsonObject(value)) mergeRules(existing, value);
    else target[key] = isJsonObject(value) ? structuredClone(value) : value;
  }
}

const fieldRules = new WeakMap<protobuf.Field, Rules | null>();

/** A field's `(validate.rules)`, merged when the schema spells them over several options. */
function rulesOf(field: protobuf.Field): Rules | undefined {
  let rules = fieldRules.get(field);
  if (rules === undefined) {
    const merged: Record<string, unknown> = {};
    for (const option of optionList(field.parsedOptions)) {
      const value = option['(validate.rules)'];
      if (isJsonObject(value)) mergeRules(merged, value);
    }
    rules = Object.keys(merged).length > 0 ? (merged as Rules) : null;
    fieldRules.set(field, rules);
  }
  return rules ?? undefined;
}

/** protobufjs keeps a schema object's options as a list of one-option objects. */
function optionList(parsedOptions: unknown): Record<string, unknown>[] {
  return Array.isArray(parsedOptions) ? parsedOptions.filter(isJsonObject) : [];
}

function hasOption(parsedOptions: unknown, name: string): boolean {
  return optionList(parsedOptions).some((option) => option[name] === true);
}

/** What a message type demands whatever its value holds, worked out once per type. */
interface MessagePlan {
  /** False under `(validate.disabled)`: its fields are still walked, for text and durations. */
  enforced: boolean;
  requiredOneofs: protobuf.OneOf[];
  /** Fields outside any oneof that carry rules: checked even when left out. */
  ruledFields: protobuf.Field[];
}

const plans = new WeakMap<protobuf.Type, MessagePlan>();

function planOf(type: protobuf.Type): MessagePlan {
  let plan = plans.get(type);
  if (!plan) {
    const enforced = !hasOption(type.parsedOptions, '(validate.disabled)');
    plan = {
      enforced,
      requiredOneofs: enforced ? type.oneofsArray.filter((oneof) => hasOption(oneof.parsedOptions, '(validate.required)')) : [],
      ruledFields: enforced ? type.fieldsArray.filter((field) => !field.partOf && rulesOf(field) !== undefined) : [],
    };
    plans.set(type, plan);
  }
  return plan;
}

/** Parses a proto3 JSON duration into nanoseconds; undefined when it is not one. */
function durationNanos(text: unknown): bigint | undefined {
  if (typeof text !== 'string') return undefined;
  const match = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(text);
  if (!match) return undefined;
  const magnitude = BigInt(match[2]!) * NANOS_PER_SECOND + BigInt((match[3] ?? '').padEnd(9, '0'));
  return match[1] ? -magnitude : magnitude;
}

/** A rule's Duration (`{seconds, nanos}`, both optional) in nanoseconds. */
function ruleNanos(value: unknown): bigint {
  const duration = isJsonObject(value) ? value : {};
  return BigInt(String(duration['seconds'] ?? 0)) * NANOS_PER_SECOND + BigInt(String(duration['nanos'] ?? 0));
}

function formatNanos(nanos: bigint): string {
  const sign = nanos < 0n ? '-' : '';
  const magnitude = nanos < 0n ? -nanos : nanos;
  const fraction = (magnitude % NANOS_PER_SECOND).toString().padStart(9, '0').replace(/0+$/, '');
  return `${sign}${magnitude / NANOS_PER_SECOND}${fraction ? `.${fraction}` : ''}s`;
}

type Comparable = number | bigint;

interface Bound {
  ok: boolean;
  text: string;
  at: Comparable;
}

/** PGV's range rules: gt/gte with lt/lte; an upper bound below the lower one means "outside". */
function rangeProblem(
  value: Comparable,
  rules: Record<string, unknown>,
  convert: (v: unknown) => Comparable,
  show: (v: Comparable) => string,
): string | undefined {
  const bound = (key: string, test: (at: Comparable) => boolean, words: string): Bound | undefined => {
    if (rules[key] === undefined) return undefined;
    const at = convert(rules[key]);
    return { ok: test(at), text: `${words} ${show(at)}`, at };
  };
  const lower = bound('gt', (at) => value > at, 'greater than') ?? bound('gte', (at) => value >= at, 'at least');
  const upper = bound('lt', (at) => value < at, 'less than') ?? bound('lte', (at) => value <= at, 'at most');
  if (lower && upper && upper.at < lower.at) return lower.ok || upper.ok ? undefined : `must be ${lower.text} or ${upper.text}`;
  const sides = [lower, upper].filter((side): side is Bound => side !== undefined);
  return sides.every((side) => side.ok) ? undefined : `must be ${sides.map((side) => side.text).join(' and ')}`;
}

/**
 * Results of list items (messages) by content, paths relative to the item. Large resources are
 * mostly lists (virtual hosts, routes): a change to one route re-walks only that route.
 */
export interface ItemMemory {
  recall(key: string): ResourceViolation[] | undefined;
  remember(key: string, found: ResourceViolation[]): void;
}

/** How many nested lists deep items are remembered: a route table's virtual hosts and their routes. */
const MEMO_DEPTH = 2;

class Walk {
  readonly violations: ResourceViolation[] = [];

  constructor(
    private readonly root: protobuf.Root,
    private readonly typeUrl: string,
    private readonly resourceName: string,
    private readonly memo?: ItemMemory,
    private readonly listDepth = 0,
  ) {}

  report(path: string, rule: string, value: unknown, message: string): void {
    this.violations.push({ typeUrl: this.typeUrl, resourceName: this.resourceName, path, rule, value, message });
  }

  message(type: protobuf.Type, value: unknown, path: string): void {
    if (!isJsonObject(value)) return;
    const plan = planOf(type);
    for (const oneof of plan.requiredOneofs) {
      if (!oneof.fieldsArray.some((member) => Object.hasOwn(value, member.name))) {
        this.report(path, 'oneof.required', undefined, `needs one of ${oneof.fieldsArray.map((m) => `"${m.name}"`).join(', ')}`);
      }
    }
    for (const key of Object.keys(value)) {
      const field = type.fields[key];
      if (field) this.field(field, value[key], `${path}/${key}`, plan.enforced ? rulesOf(field) : undefined);
    }
    for (const field of plan.ruledFields) {
      if (!Object.hasOwn(value, field.name)) this.absent(field, `${path}/${field.name}`, rulesOf(field)!);
    }
  }

  /** A field left out: required messages are missing; lists, maps and scalars have their default value. */
  private absent(field: protobuf.Field, path: string, rules: Rules): void {
    if (field instanceof protobuf.MapField) return this.map(field, {}, path, rules);
    if (field.repeated) return this.repeated(field, [], path, rules);
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) {
      for (const kind of ['message', 'duration', 'any', 'timestamp']) {
        if (rules[kind]?.['required'] === true) this.report(path, `${kind}.required`, undefined, 'is required');
      }
      return;
    }
    if (resolved instanceof protobuf.Enum) return this.enumValue(resolved, 0, path, rules['enum']);
    const defaults: Record<string, unknown> = { string: '', bytes: '', bool: false };
    this.scalar(field.type, defaults[field.type] ?? 0, path, rules[field.type]);
  }

  private field(field: protobuf.Field, value: unknown, path: string, rules: Rules | undefined): void {
    if (field instanceof protobuf.MapField) return this.map(field, value, path, rules);
    if (field.repeated) return this.repeated(field, value, path, rules);
    this.single(field, value, path, rules);
  }

  private map(field: protobuf.MapField, value: unknown, path: string, rules: Rules | undefined): void {
    if (!isJsonObject(value)) return;
    const entries = Object.entries(value);
    const mapRules = rules?.['map'];
    if (mapRules && !(mapRules['ignore_empty'] === true && entries.length === 0)) {
      const minPairs = mapRules['min_pairs'];
      const maxPairs = mapRules['max_pairs'];
      if (minPairs !== undefined && entries.length < Number(minPairs)) this.report(path, 'map.min_pairs', value, `needs at least ${minPairs} entries, has ${entries.length}`);
      if (maxPairs !== undefined && entries.length > Number(maxPairs)) this.report(path, 'map.max_pairs', value, `takes at most ${maxPairs} entries, has ${entries.length}`);
    }
    const keyRules = isJsonObject(mapRules?.['keys']) ? (mapRules['keys'] as Rules) : undefined;
    const valueRules = isJsonObject(mapRules?.['values']) ? (mapRules['values'] as Rules) : undefined;
    for (const [key, item] of entries) {
      const itemPath = `${path}/${pointerToken(key)}`;
      this.scalar(field.keyType, key, itemPath, keyRules?.[field.keyType]);
      this.single(field, item, itemPath, valueRules);
    }
  }

  private repeated(field: protobuf.Field, value: unknown, path: string, rules: Rules | undefined): void {
    if (!Array.isArray(value)) return;
    const listRules = rules?.['repeated'];
    if (listRules && !(listRules['ignore_empty'] === true && value.length === 0)) {
      const minItems = listRules['min_items'];
      const maxItems = listRules['max_items'];
      if (minItems !== undefined && value.length < Number(minItems)) this.report(path, 'repeated.min_items', value, `needs at least ${minItems} items, has ${value.length}`);
      if (maxItems !== undefined && value.length > Number(maxItems)) this.report(path, 'repeated.max_items', value.length, `takes at most ${maxItems} items, has ${value.length}`);
      if (listRules['unique'] === true) {
        const seen = new Set<string>();
        value.forEach((item, i) => {
          const key = JSON.stringify(item);
          if (seen.has(key)) this.report(`${path}/${i}`, 'repeated.unique', item, 'repeats an earlier item; items must be unique');
          seen.add(key);
        });
      }
    }
    const itemRules = isJsonObject(listRules?.['items']) ? (listRules['items'] as Rules) : undefined;
    value.forEach((item, i) => this.item(field, item, `${path}/${i}`, itemRules));
  }

  private item(field: protobuf.Field, item: unknown, path: string, rules: Rules | undefined): void {
    const type = field.resolvedType;
    if (!this.memo || this.listDepth >= MEMO_DEPTH || !(type instanceof protobuf.Type) || !isJsonObject(item)) return this.single(field, item, path, rules);
    const key = `${type.fullName}\n${JSON.stringify(rules ?? null)}\n${JSON.stringify(item)}`;
    let found = this.memo.recall(key);
    if (found === undefined) {
      const walk = new Walk(this.root, this.typeUrl, this.resourceName, this.memo, this.listDepth + 1);
      walk.single(field, item, '', rules);
      found = walk.violations;
      this.memo.remember(key, found);
    }
    for (const violation of found) this.violations.push({ ...violation, typeUrl: this.typeUrl, resourceName: this.resourceName, path: `${path}${violation.path}` });
  }

  private single(field: protobuf.FieldBase, value: unknown, path: string, rules: Rules | undefined): void {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Enum) return this.enumValue(resolved, value, path, rules?.['enum']);
    if (!(resolved instanceof protobuf.Type)) return this.scalar(field.type, value, path, rules?.[field.type]);
    const name = resolved.fullName.replace(/^\./, '');
    if (name === 'google.protobuf.Duration') return this.duration(value, path, rules?.['duration']);
    if (name === 'google.protobuf.Any') return this.any(value, path, rules?.['any']);
    if (FREE_FORM_TYPES.has(name)) return this.freeForm(value, path);
    if (WRAPPER_TYPES.has(name)) {
      const inner = resolved.fields['value'];
      if (inner) this.scalar(inner.type, value, path, rules?.[inner.type]);
      return;
    }
    if (rules?.['message']?.['skip'] === true) return;
    this.message(resolved, value, path);
  }

  private duration(value: unknown, path: string, rules: Record<string, unknown> | undefined): void {
    const nanos = durationNanos(value);
    if (nanos === undefined) return this.report(path, 'duration.format', value, 'is not a duration like "30s" or "0.5s"');
    if (nanos < 0n) this.report(path, 'envoy.duration_range', value, 'must not be negative (Envoy refuses negative durations)');
    if (nanos / NANOS_PER_SECOND > ENVOY_MAX_DURATION_SECONDS) {
      this.report(path, 'envoy.duration_range', value, `must be at most ${ENVOY_MAX_DURATION_SECONDS}.999999999s (Envoy refuses durations that reach INT64_MAX nanoseconds)`);
    }
    if (!rules) return;
    this.comparable('duration', nanos, value, path, rules, ruleNanos, (v) => formatNanos(BigInt(v)));
  }

  private any(value: unknown, path: string, rules: Record<string, unknown> | undefined): void {
    if (!isJsonObject(value)) return;
    const { '@type': typeUrl, ...rest } = value;
    if (typeof typeUrl !== 'string') return;
    if (rules?.['in'] !== undefined && !list(rules['in']).includes(typeUrl)) this.report(`${path}/@type`, 'any.in', typeUrl, `must be one of ${shown(rules['in'])}`);
    if (rules?.['not_in'] !== undefined && list(rules['not_in']).includes(typeUrl)) this.report(`${path}/@type`, 'any.not_in', typeUrl, `must not be ${shown(rules['not_in'])}`);
    const inner = typeUrl.startsWith(TYPE_URL_PREFIX) ? this.root.lookup(messageNameOf(typeUrl)) : null;
    if (inner instanceof protobuf.Type) this.message(inner, rest, path);
  }

  /** Struct, Value and ListValue hold any JSON: only their text is checked. */
  private freeForm(value: unknown, path: string): void {
    if (typeof value === 'string') this.text(value, path);
    else if (Array.isArray(value)) value.forEach((item, i) => this.freeForm(item, `${path}/${i}`));
    else if (isJsonObject(value)) {
      for (const [key, item] of Object.entries(value)) {
        this.text(key, `${path}/${pointerToken(key)}`);
        this.freeForm(item, `${path}/${pointerToken(key)}`);
      }
    }
  }

  private text(value: string, path: string): boolean {
    if (!LONE_SURROGATE.test(value)) return true;
    this.report(path, 'utf8', value, 'holds a lone UTF-16 surrogate, which has no UTF-8 encoding (Envoy requires valid UTF-8)');
    return false;
  }

  private enumValue(type: protobuf.Enum, value: unknown, path: string, rules: Record<string, unknown> | undefined): void {
    if (!rules) return;
    const number = typeof value === 'string' ? type.values[value] : typeof value === 'number' ? value : undefined;
    if (number === undefined) return this.report(path, 'enum.defined_only', value, `is not a value of ${type.name}`);
    const defined = Object.values(type.values).includes(number);
    if (rules['defined_only'] === true && !defined) this.report(path, 'enum.defined_only', value, `is not a value of ${type.name}`);
    if (rules['const'] !== undefined && number !== Number(rules['const'])) this.report(path, 'enum.const', value, `must be ${type.valuesById[Number(rules['const'])] ?? rules['const']}`);
    if (rules['in'] !== undefined && !list(rules['in']).map(Number).includes(number)) this.report(path, 'enum.in', value, `must be one of ${list(rules['in']).map((n) => type.valuesById[Number(n)] ?? n).join(', ')}`);
    if (rules['not_in'] !== undefined && list(rules['not_in']).map(Number).includes(number)) this.report(path, 'enum.not_in', value, `must not be ${list(rules['not_in']).map((n) => type.valuesById[Number(n)] ?? n).join(', ')}`);
  }

  private scalar(kind: string, value: unknown, path: string, rules: Record<string, unknown> | undefined): void {
    if (kind === 'string') {
      if (typeof value !== 'string') return;
      if (this.text(value, path) && rules) this.string(value, path, rules);
      return;
    }
    if (!rules) return;
    if (kind === 'bytes') return this.bytes(value, path, rules);
    if (kind === 'bool') {
      if (rules['const'] !== undefined && value !== rules['const']) this.report(path, 'bool.const', value, `must be ${String(rules['const'])}`);
      return;
    }
    if (typeof value !== 'number' && !(typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value))) return;
    if (rules['ignore_empty'] === true && Number(value) === 0) return;
    const convert = FLOAT_KINDS.has(kind) ? (v: unknown): Comparable => Number(v) : (v: unknown): Comparable => BigInt(String(v));
    this.comparable(kind, convert(value), value, path, rules, convert, String);
  }

  /** const / in / not_in and the range rules, shared by every number kind and by durations. */
  private comparable(
    kind: string,
    subject: Comparable,
    value: unknown,
    path: string,
    rules: Record<string, unknown>,
    convert: (v: unknown) => Comparable,
    show: (v: Comparable) => string,
  ): void {
    if (rules['const'] !== undefined && subject !== convert(rules['const'])) this.report(path, `${kind}.const`, value, `must be ${show(convert(rules['const']))}`);
    if (rules['in'] !== undefined && !list(rules['in']).some((allowed) => convert(allowed) === subject)) {
      this.report(path, `${kind}.in`, value, `must be one of ${list(rules['in']).map((v) => show(convert(v))).join(', ')}`);
    }
    if (rules['not_in'] !== undefined && list(rules['not_in']).some((refused) => convert(refused) === subject)) {
      this.report(path, `${kind}.not_in`, value, `must not be ${list(rules['not_in']).map((v) => show(convert(v))).join(', ')}`);
    }
    const range = rangeProblem(subject, rules, convert, show);
    if (range !== undefined) {
      const rule = ['gt', 'gte', 'lt', 'lte'].filter((key) => rules[key] !== undefined).map((key) => `${kind}.${key}`).join('+');
      this.report(path, rule, value, range);
    }
  }

  private string(value: string, path: string, rules: Record<string, unknown>): void {
    if (rules['ignore_empty'] === true && value === '') return;
    const characters = [...value].length;
    const bytes = Buffer.byteLength(value, 'utf8');
    const check = (rule: string, ok: boolean, message: string): void => {
      if (!ok) this.report(path, `string.${rule}`, value, message);
    };
    const number = (rule: string): number | undefined => (rules[rule] === undefined ? undefined : Number(rules[rule]));
    const len = number('len');
    const minLen = number('min_len');
    const maxLen = number('max_len');
    const lenBytes = number('len_bytes');
    const minBytes = number('min_bytes');
    const maxBytes = number('max_bytes');
    if (len !== undefined) check('len', characters === len, `must be exactly ${len} characters, is ${characters}`);
    if (minLen !== undefined) check('min_len', characters >= minLen, minLen === 1 ? 'must not be empty' : `must be at least ${minLen} characters, is ${characters}`);
    if (maxLen !== undefined) check('max_len', characters <= maxLen, `must be at most ${maxLen} characters, is ${characters}`);
    if (lenBytes !== undefined) check('len_bytes', bytes === lenBytes, `must be exactly ${lenBytes} bytes of UTF-8, is ${bytes}`);
    if (minBytes !== undefined) check('min_bytes', bytes >= minBytes, `must be at least ${minBytes} bytes of UTF-8, is ${bytes}`);
    if (maxBytes !== undefined) check('max_bytes', bytes <= maxBytes, `must be at most ${maxBytes} bytes of UTF-8, is ${bytes}`);
    if (typeof rules['const'] === 'string') check('const', value === rules['const'], `must be ${shown(rules['const'])}`);
    if (typeof rules['prefix'] === 'string') check('prefix', value.startsWith(rules['prefix']), `must start with ${shown(rules['prefix'])}`);
    if (typeof rules['suffix'] === 'string') check('suffix', value.endsWith(rules['suffix']), `must end with ${shown(rules['suffix'])}`);
    if (typeof rules['contains'] === 'string') check('contains', value.includes(rules['contains']), `must contain ${shown(rules['contains'])}`);
    if (typeof rules['not_contains'] === 'string') check('not_contains', !value.includes(rules['not_contains']), `must not contain ${shown(rules['not_contains'])}`);
    if (rules['in'] !== undefined) check('in', list(rules['in']).includes(value), `must be one of ${shown(rules['in'])}`);
    if (rules['not_in'] !== undefined) check('not_in', !list(rules['not_in']).includes(value), `must not be one of ${shown(rules['not_in'])}`);
    if (typeof rules['pattern'] === 'string') check('pattern', compiledPattern(rules['pattern']).test(value), `must match the regex ${rules['pattern']}`);
    const wellKnown = typeof rules['well_known_regex'] === 'string' ? HEADER_REGEXES[rules['well_known_regex']] : undefined;
    if (wellKnown) {
      const strict = rules['strict'] !== false;
      const kind = rules['well_known_regex'] === 'HTTP_HEADER_NAME' ? 'an HTTP header name' : 'an HTTP header value';
      const what = strict ? kind : `${kind}: no NUL, CR or LF`;
      check('well_known_regex', (strict ? wellKnown.strict : wellKnown.lax).test(value), `must be ${what}`);
    }
  }

  private bytes(value: unknown, path: string, rules: Record<string, unknown>): void {
    if (typeof value !== 'string') return;
    const data = Buffer.from(value, 'base64');
    if (rules['ignore_empty'] === true && data.length === 0) return;
    const number = (rule: string): number | undefined => (rules[rule] === undefined ? undefined : Number(rules[rule]));
    const check = (rule: string, ok: boolean, message: string): void => {
      if (!ok) this.report(path, `bytes.${rule}`, value, message);
    };
    const len = number('len');
    const minLen = number('min_len');
    const maxLen = number('max_len');
    if (len !== undefined) check('len', data.length === len, `must be exactly ${len} bytes, is ${data.length}`);
    if (minLen !== undefined) check('min_len', data.length >= minLen, `must be at least ${minLen} bytes, is ${data.length}`);
    if (maxLen !== undefined) check('max_len', data.length <= maxLen, `must be at most ${maxLen} bytes, is ${data.length}`);
    const asBytes = (rule: string): Buffer | undefined => (typeof rules[rule] === 'string' ? Buffer.from(rules[rule] as string, 'base64') : undefined);
    const [constant, prefix, suffix, contains] = ['const', 'prefix', 'suffix', 'contains'].map(asBytes);
    if (constant) check('const', data.equals(constant), 'must equal the given bytes');
    if (prefix) check('prefix', data.subarray(0, prefix.length).equals(prefix), 'must start with the given bytes');
    if (suffix) check('suffix', data.subarray(data.length - suffix.length).equals(suffix), 'must end with the given bytes');
    if (contains) check('contains', data.includes(contains), 'must contain the given bytes');
    const encoded = (values: unknown): string[] => list(values).map((v) => Buffer.from(String(v), 'base64').toString('base64'));
    if (rules['in'] !== undefined) check('in', encoded(rules['in']).includes(data.toString('base64')), 'must be one of the given values');
    if (rules['not_in'] !== undefined) check('not_in', !encoded(rules['not_in']).includes(data.toString('base64')), 'must not be one of the given values');
  }
}

const patterns = new Map<string, RegExp>();

function compiledPattern(pattern: string): RegExp {
  let compiled = patterns.get(pattern);
  if (!compiled) {
    compiled = new RegExp(pattern, 'u');
    patterns.set(pattern, compiled);
  }
  return compiled;
}

/** Every violation in one resource of the given type; none when its message type is not loaded. */
export function checkResource(
  typeUrl: string,
  name: string,
  resource: unknown,
  root: protobuf.Root = envoyRoot(),
  memo?: ItemMemory,
): ResourceViolation[] {
  const type = root.lookup(messageNameOf(typeUrl));
  if (!(type instanceof protobuf.Type)) return [];
  const walk = new Walk(root, typeUrl, name, memo);
  walk.message(type, resource, '');
  return walk.violations;
}

/** A resource that breaks at least one rule, with every violation found in it. */
export interface FailedResource extends CheckedResource {
  violations: ResourceViolation[];
}

/** Results by key, kept while one of the last two checks used them. */
class TwoGenerations implements ItemMemory {
  private current = new Map<string, ResourceViolation[]>();
  private recent = new Map<string, ResourceViolation[]>();
  private older = new Map<string, ResourceViolation[]>();

  recall(key: string): ResourceViolation[] | undefined {
    const found = this.current.get(key) ?? this.recent.get(key) ?? this.older.get(key);
    if (found !== undefined) this.current.set(key, found);
    return found;
  }

  remember(key: string, found: ResourceViolation[]): void {
    this.current.set(key, found);
  }

  endCheck(): void {
    this.older = this.recent;
    this.recent = this.current;
    this.current = new Map();
  }
}

/**
 * Checks sets of resources, remembering each resource's result (and its list items') by type,
 * name and JSON content: what did not change since one of the last two checks is not walked
 * again. Two generations, so that checking a candidate state after the current one keeps both.
 */
export class ResourceRuleCache {
  private readonly resources = new TwoGenerations();
  private readonly items = new TwoGenerations();

  constructor(private readonly checkOne: typeof checkResource = checkResource) {}

  /** The resources that break a rule; a resource given twice with the same content is reported once. */
  check(resources: Iterable<CheckedResource>): FailedResource[] {
    const seen = new Set<string>();
    const failed: FailedResource[] = [];
    for (const checked of resources) {
      const { typeUrl, name, resource } = checked;
      const key = `${typeUrl}\n${name}\n${JSON.stringify(resource)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      let violations = this.resources.recall(key);
      if (violations === undefined) {
        violations = this.checkOne(typeUrl, name, resource, envoyRoot(), this.items);
        this.resources.remember(key, violations);
      }
      if (violations.length > 0) failed.push({ ...checked, violations });
    }
    this.resources.endCheck();
    this.items.endCheck();
    return failed;
  }
}
