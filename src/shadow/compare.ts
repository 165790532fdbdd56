// A shadow's one judgement: a PURE function from the service's comparison and two answers as Envoy
// reported them (the user's, the candidate's) to agree, disagree, candidate-error or incomparable.
// It reads no clock, does no I/O and never throws: an answer it cannot read is `incomparable`, with
// a short detail. What a disagreement keeps, and counting outcomes, belong to its callers.

import protobuf from 'protobufjs';
import type { ShadowCompare } from '../model/types.js';
import { I32, I64, LEN, VARINT, eachField, expectWire, lengthDelimited, readString, type WireReader } from '../protobuf-wire.js';

/** One side's answer as Envoy reported it. */
export interface Answer {
  /** HTTP status (:status). */
  status: number;
  /** gRPC status from the headers or trailers; undefined for a plain HTTP answer. */
  grpcStatus?: number;
  /** content-type header, lower-cased, if any. */
  contentType?: string;
  /** The response body as received (for gRPC: the length-prefixed gRPC message frame(s)). */
  body: Buffer;
}

export type Comparison =
  | { outcome: 'agree'; difference?: number }
  | { outcome: 'disagree'; difference?: number; detail: string }
  | { outcome: 'candidate-error'; detail: string }
  | { outcome: 'incomparable'; detail: string };

/** At most this many elements (numbers, strings, arrays, tensor values) are read from one answer. */
export const MAX_COMPARED_ELEMENTS = 1_000_000;
/** A detail is at most this many characters. */
export const MAX_DETAIL_LENGTH = 200;

type Side = 'user' | 'candidate';
type Element = number | string | boolean;
interface Tolerance {
  absolute: number;
  relative: number;
}

/** Why an answer cannot be read; caught by compareAnswers and answered as `incomparable`. */
class Unreadable extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}

function unreadable(detail: string): never {
  throw new Unreadable(detail);
}

const whose = (side: Side): string => (side === 'user' ? "the user's answer" : "the candidate's answer");

function tooMany(side: Side): never {
  return unreadable(`${whose(side)} has more than ${MAX_COMPARED_ELEMENTS} elements`);
}

// ---------------------------------------------------------------------------------------------
// Detail text: bounded, and free of control characters and lone surrogates whatever the answers hold.

function clip(text: string, max = MAX_DETAIL_LENGTH): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** A scalar as JSON text (strings quoted and escaped), at most 60 characters; arrays and objects only named. */
function show(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  return clip(JSON.stringify(value) ?? String(value), 60);
}

const UNPRINTABLE = /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A JSON pointer for a detail: "(root)" for the whole document, odd characters escaped. */
function place(pointer: string): string {
  if (pointer === '') return '(root)';
  return clip(pointer.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`), 80);
}

function pointerToken(token: string | number): string {
  return String(token).replaceAll('~', '~0').replaceAll('/', '~1');
}

// ---------------------------------------------------------------------------------------------
// Reading an answer: success, protocol, gRPC framing, JSON, JSON pointers.

function failure(answer: Answer): string | undefined {
  const reasons: string[] = [];
  if (!(answer.status >= 200 && answer.status <= 299)) reasons.push(`HTTP ${answer.status}`);
  if (answer.grpcStatus !== undefined && answer.grpcStatus !== 0) reasons.push(`gRPC status ${answer.grpcStatus}`);
  return reasons.length === 0 ? undefined : reasons.join(', ');
}

function isGrpc(answer: Answer): boolean {
  return answer.grpcStatus !== undefined || (answer.contentType ?? '').toLowerCase().startsWith('application/grpc');
}

/** The one message of a gRPC body: flag 0 (not compressed), 4-byte big-endian length, message. */
function unframe(body: Buffer, side: Side): Buffer {
  if (body.length === 0) unreadable(`${whose(side)} holds no gRPC message`);
  const flag = body[0]!;
  if (flag !== 0) unreadable(`${whose(side)} is a compressed gRPC message (flag ${flag})`);
  if (body.length < 5) unreadable(`${whose(side)} is a bad gRPC frame (${body.length} bytes, shorter than its header)`);
  const length = body.readUInt32BE(1);
  if (5 + length > body.length) unreadable(`${whose(side)} is a bad gRPC frame (says ${length} bytes, holds ${body.length - 5})`);
  if (5 + length < body.length) unreadable(`${whose(side)} holds more than one gRPC message`);
  return body.subarray(5, 5 + length);
}

function parseJson(body: Buffer, side: Side): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return unreadable(`${whose(side)} is not JSON`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 6901 reference tokens; "" is the whole document. */
function pointerTokens(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/') || /~(?![01])/.test(path)) unreadable(`path ${show(path)} is not a JSON pointer`);
  return path
    .slice(1)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

/** The value at `path` (own properties only: "/constructor" is not in `{}`). */
function at(document: unknown, path: string, side: Side): unknown {
  let value = document;
  for (const token of pointerTokens(path)) {
    if (Array.isArray(value) && ARRAY_INDEX.test(token) && Number(token) < value.length) value = value[Number(token)];
    else if (isObject(value) && Object.hasOwn(value, token)) value = value[token];
    else unreadable(`${whose(side)} has nothing at ${place(path)}`);
  }
  return value;
}

/**
 * Visits the leaves of a value that may be a (nested) array, in order, without recursion; `where`
 * builds a leaf's pointer only when asked. Counts every element against the cap.
 */
function eachLeaf(root: unknown, base: string, side: Side, visit: (leaf: unknown, where: () => string) => void): void {
  if (!Array.isArray(root)) return visit(root, () => base);
  const frames: { items: unknown[]; i: number; pointer: string }[] = [{ items: root, i: 0, pointer: base }];
  let count = 0;
  while (frames.length > 0) {
    const frame = frames[frames.length - 1]!;
    if (frame.i >= frame.items.length) {
      frames.pop();
      continue;
    }
    const i = frame.i++;
    if (++count > MAX_COMPARED_ELEMENTS) tooMany(side);
    const item = frame.items[i];
    if (Array.isArray(item)) frames.push({ items: item, i: 0, pointer: `${frame.pointer}/${i}` });
    else visit(item, () => `${frame.pointer}/${i}`);
  }
}

/** The shape a nested array shows through its first elements, e.g. [1,3] for [[1,2,3]]. */
function shapeOf(value: unknown): number[] {
  const dims: number[] = [];
  while (Array.isArray(value) && dims.length < 32) {
    dims.push(value.length);
    value = value[0];
  }
  return dims;
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(',')}]`;

// ---------------------------------------------------------------------------------------------
// Element-wise tolerance, shared by numeric and oip.

/** Both numbers: within tolerance. Otherwise (strings, booleans): equal. */
class Tally {
  difference = 0;
  failures = 0;
  private first = '';

  constructor(private readonly tolerance: Tolerance) {}

  add(user: Element, candidate: Element, where: () => string): void {
    if (typeof user === 'number' && typeof candidate === 'number') {
      if (user === candidate || (Number.isNaN(user) && Number.isNaN(candidate))) return;
      let delta = Math.abs(user - candidate);
      if (Number.isNaN(delta)) delta = Infinity;
      this.difference = Math.max(this.difference, delta);
      const allowed = Math.max(this.tolerance.absolute, this.tolerance.relative * Math.abs(user));
      // Infinity or NaN against anything else is never within a tolerance, even one relative to an infinite answer.
      if (!Number.isFinite(delta)) this.fail(`${where()} ${user} vs ${candidate}`);
      else if (delta > allowed) this.fail(`${where()} ${user} vs ${candidate} (|Δ| ${delta} > ${allowed})`);
    } else if (user !== candidate) {
      this.fail(`${where()} ${show(user)} vs ${show(candidate)}`);
    }
  }

  private fail(text: string): void {
    if (this.failures++ === 0) this.first = text;
  }

  verdict(): Comparison {
    if (this.failures === 0) return { outcome: 'agree', difference: this.difference };
    const more = this.failures > 1 ? `; ${this.failures - 1} more element(s) differ` : '';
    return { outcome: 'disagree', difference: this.difference, detail: `${this.first}${more}` };
  }
}

// ---------------------------------------------------------------------------------------------
// json-equal

const ABSENT = Symbol('absent');

/** The first pointer (keys in sorted order, arrays in order) where two JSON values differ. */
function firstDifference(user: unknown, candidate: unknown): string | undefined {
  const stack: [unknown, unknown, string][] = [[user, candidate, '']];
  let visited = 0;
  while (stack.length > 0) {
    const [u, c, pointer] = stack.pop()!;
    if (++visited + stack.length > MAX_COMPARED_ELEMENTS) unreadable(`the answers have more than ${MAX_COMPARED_ELEMENTS} elements`);
    if (u === ABSENT || c === ABSENT) return pointer;
    if (Array.isArray(u) && Array.isArray(c)) {
      const common = Math.min(u.length, c.length);
      if (u.length !== c.length) stack.push([common < u.length ? u[common] : ABSENT, common < c.length ? c[common] : ABSENT, `${pointer}/${common}`]);
      for (let i = common - 1; i >= 0; i--) stack.push([u[i], c[i], `${pointer}/${i}`]);
    } else if (isObject(u) && isObject(c)) {
      const keys = [...new Set([...Object.keys(u), ...Object.keys(c)])].sort();
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        stack.push([Object.hasOwn(u, key) ? u[key] : ABSENT, Object.hasOwn(c, key) ? c[key] : ABSENT, `${pointer}/${pointerToken(key)}`]);
      }
    } else if (u !== c) {
      // Different kinds (array, object, scalar) or different scalars: numbers compare as numbers.
      return pointer;
    }
  }
  return undefined;
}

function compareJsonEqual(user: Answer, candidate: Answer, grpc: boolean): Comparison {
  if (grpc) {
    const u = unframe(user.body, 'user');
    const c = unframe(candidate.body, 'candidate');
    return u.equals(c) ? { outcome: 'agree' } : { outcome: 'disagree', detail: `messages differ (${u.length} vs ${c.length} bytes)` };
  }
  const difference = firstDifference(parseJson(user.body, 'user'), parseJson(candidate.body, 'candidate'));
  return difference === undefined ? { outcome: 'agree' } : { outcome: 'disagree', detail: `bodies differ at ${place(difference)}` };
}

// ---------------------------------------------------------------------------------------------
// numeric

function checkNumbers(value: unknown, path: string, side: Side): void {
  eachLeaf(value, path, side, (leaf, where) => {
    if (typeof leaf !== 'number') unreadable(`${whose(side)} has ${show(leaf)} at ${place(where())}, not a number`);
  });
}

/** Pairs the numbers of two same-shaped values into the tally; the pointer where their shapes part, if they do. */
function pairNumbers(user: unknown, candidate: unknown, path: string, tally: Tally): string | undefined {
  if (!Array.isArray(user) || !Array.isArray(candidate)) {
    if (Array.isArray(user) || Array.isArray(candidate)) return path;
    tally.add(user as number, candidate as number, () => place(path));
    return undefined;
  }
  if (user.length !== candidate.length) return path;
  const frames: { u: unknown[]; c: unknown[]; i: number; pointer: string }[] = [{ u: user, c: candidate, i: 0, pointer: path }];
  while (frames.length > 0) {
    const frame = frames[frames.length - 1]!;
    if (frame.i >= frame.u.length) {
      frames.pop();
      continue;
    }
    const i = frame.i++;
    const u = frame.u[i];
    const c = frame.c[i];
    if (Array.isArray(u) && Array.isArray(c)) {
      if (u.length !== c.length) return `${frame.pointer}/${i}`;
      frames.push({ u, c, i: 0, pointer: `${frame.pointer}/${i}` });
    } else if (Array.isArray(u) || Array.isArray(c)) {
      return `${frame.pointer}/${i}`;
    } else {
      tally.add(u as number, c as number, () => place(`${frame.pointer}/${i}`));
    }
  }
  return undefined;
}

function compareNumeric(path: string, tolerance: Tolerance, user: unknown, candidate: unknown): Comparison {
  const u = at(user, path, 'user');
  const c = at(candidate, path, 'candidate');
  checkNumbers(u, path, 'user');
  checkNumbers(c, path, 'candidate');
  const tally = new Tally(tolerance);
  const parted = pairNumbers(u, c, path, tally);
  if (parted !== undefined) {
    const [su, sc] = [shapeOf(u), shapeOf(c)];
    const detail =
      shapeText(su) !== shapeText(sc) ? `${place(path)} shape ${shapeText(su)} vs ${shapeText(sc)}` : `${place(path)} shapes differ at ${place(parted)}`;
    return { outcome: 'disagree', detail };
  }
  return tally.verdict();
}

// ---------------------------------------------------------------------------------------------
// label

type Label = string | number | boolean;

/** The top-1 class: a string, integer or boolean as is; the index of an array's largest number; the name of an object's largest number. */
function top1(value: unknown, path: string, side: Side): Label {
  const notALabel = (): never =>
    unreadable(`${whose(side)} has ${show(value)} at ${place(path)}: not a string, integer, boolean, array of numbers or object of numbers`);
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? value : notALabel();
  if (Array.isArray(value)) {
    if (value.length === 0) notALabel();
    if (value.length > MAX_COMPARED_ELEMENTS) tooMany(side);
    let best = 0;
    for (let i = 0; i < value.length; i++) {
      const score: unknown = value[i];
      if (typeof score !== 'number') notALabel();
      if ((score as number) > (value[best] as number)) best = i;
    }
    return best;
  }
  if (isObject(value)) {
    const names = Object.keys(value);
    if (names.length === 0) notALabel();
    if (names.length > MAX_COMPARED_ELEMENTS) tooMany(side);
    let best = names[0]!;
    for (const name of names) {
      const score = value[name];
      if (typeof score !== 'number') notALabel();
      const top = value[best] as number;
      if ((score as number) > top || (score === top && name < best)) best = name;
    }
    return best;
  }
  return notALabel();
}

function compareLabel(path: string, user: unknown, candidate: unknown): Comparison {
  const u = top1(at(user, path, 'user'), path, 'user');
  const c = top1(at(candidate, path, 'candidate'), path, 'candidate');
  return u === c ? { outcome: 'agree' } : { outcome: 'disagree', detail: `label ${show(u)} vs ${show(c)}` };
}

// ---------------------------------------------------------------------------------------------
// oip: the Open Inference Protocol's outputs, from JSON or from a gRPC ModelInferResponse.

interface Output {
  name: string;
  shape: number[];
  data: Element[];
}

function checkCount(output: Output, side: Side): void {
  const expected = output.shape.reduce((product, dim) => product * dim, 1);
  if (expected !== output.data.length) {
    unreadable(`${whose(side)}: output ${show(output.name)} has ${output.data.length} element(s) for shape ${shapeText(output.shape)}`);
  }
}

function outputsFromJson(document: unknown, side: Side): Output[] {
  if (!isObject(document) || !Array.isArray(document.outputs)) return unreadable(`${whose(side)} has no "outputs" array`);
  let budget = MAX_COMPARED_ELEMENTS;
  return document.outputs.map((entry: unknown, i: number): Output => {
    const where = `/outputs/${i}`;
    if (!isObject(entry) || typeof entry.name !== 'string') return unreadable(`${whose(side)} has no output name at ${where}`);
    const { name, shape, data } = entry;
    const dims = Array.isArray(shape) ? shape : [];
    if (!Array.isArray(shape) || dims.length > 64 || !dims.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      return unreadable(`${whose(side)}: output ${show(name)} has no shape of whole numbers`);
    }
    if (!Array.isArray(data)) return unreadable(`${whose(side)}: output ${show(name)} has no "data" array`);
    const elements: Element[] = [];
    eachLeaf(data, `${where}/data`, side, (leaf, pointer) => {
      if (typeof leaf !== 'number' && typeof leaf !== 'string' && typeof leaf !== 'boolean') {
        unreadable(`${whose(side)} has ${show(leaf)} at ${place(pointer())}, not a number, string or boolean`);
      }
      if (--budget < 0) tooMany(side);
      elements.push(leaf);
    });
    const output = { name, shape: dims as number[], data: elements };
    checkCount(output, side);
    return output;
  });
}

/** protobufjs gives a Long for 64-bit integers (a number when long.js is absent); beyond 2^53 precision is lost. */
function longToNumber(value: number | protobuf.Long): number {
  if (typeof value === 'number') return value;
  const high = value.unsigned ? value.high >>> 0 : value.high | 0;
  return high * 2 ** 32 + (value.low >>> 0);
}

/** A repeated scalar, packed (one length-delimited run) or not (one field per element): both decode. */
function readRepeated(reader: WireReader, wire: number, scalarWire: number, field: string, read: () => Element, push: (value: Element) => void): void {
  if (wire === LEN) {
    const end = reader.uint32() + reader.pos;
    if (end > reader.len) throw new RangeError(`${field} runs past the end of its message`);
    while (reader.pos < end) push(read());
    if (reader.pos !== end) throw new RangeError(`${field} overruns its packed length`);
  } else {
    expectWire(wire, scalarWire, field);
    push(read());
  }
}

interface Budget {
  left: number;
  side: Side;
}

function spend(budget: Budget, count = 1): void {
  budget.left -= count;
  if (budget.left < 0) tooMany(budget.side);
}

/** InferTensorContents: the elements of each non-empty field, by field number. */
function decodeContents(message: Buffer, found: Map<number, Element[]>, budget: Budget): void {
  eachField(message, (reader, field, wire) => {
    const push = (value: Element): void => {
      spend(budget);
      const list = found.get(field);
      if (list === undefined) found.set(field, [value]);
      else list.push(value);
    };
    const name = `contents field ${field}`;
    switch (field) {
      case 1:
        readRepeated(reader, wire, VARINT, name, () => reader.bool(), push);
        return true;
      case 2:
        readRepeated(reader, wire, VARINT, name, () => reader.int32(), push);
        return true;
      case 3:
        readRepeated(reader, wire, VARINT, name, () => longToNumber(reader.int64()), push);
        return true;
      case 4:
        readRepeated(reader, wire, VARINT, name, () => reader.uint32(), push);
        return true;
      case 5:
        readRepeated(reader, wire, VARINT, name, () => longToNumber(reader.uint64()), push);
        return true;
      case 6:
        readRepeated(reader, wire, I32, name, () => reader.float(), push);
        return true;
      case 7:
        readRepeated(reader, wire, I64, name, () => reader.double(), push);
        return true;
      case 8:
        // Bytes compared byte for byte: latin1 maps each byte to one character and back.
        push(lengthDelimited(reader, wire, name).toString('latin1'));
        return true;
      default:
        return false;
    }
  });
}

interface DecodedTensor {
  name: string;
  datatype: string;
  shape: number[];
  contents: Map<number, Element[]>;
}

/** ModelInferResponse.InferOutputTensor; a field seen twice merges as protobuf says (last scalar wins, repeated append). */
function decodeTensor(message: Buffer, budget: Budget): DecodedTensor {
  const tensor: DecodedTensor = { name: '', datatype: '', shape: [], contents: new Map() };
  eachField(message, (reader, field, wire) => {
    switch (field) {
      case 1:
        tensor.name = readString(reader, wire, 'output name');
        return true;
      case 2:
        tensor.datatype = readString(reader, wire, 'output datatype');
        return true;
      case 3:
        readRepeated(reader, wire, VARINT, 'output shape', () => longToNumber(reader.int64()), (dim) => {
          spend(budget);
          tensor.shape.push(dim as number);
        });
        return true;
      case 5:
        decodeContents(lengthDelimited(reader, wire, 'output contents'), tensor.contents, budget);
        return true;
      default:
        return false;
    }
  });
  return tensor;
}

/** Bytes per element of raw_output_contents, little-endian, and how to read one. */
const RAW: Record<string, [number, (buf: Buffer, offset: number) => Element]> = {
  BOOL: [1, (b, o) => b.readUInt8(o) !== 0],
  INT8: [1, (b, o) => b.readInt8(o)],
  INT16: [2, (b, o) => b.readInt16LE(o)],
  INT32: [4, (b, o) => b.readInt32LE(o)],
  INT64: [8, (b, o) => Number(b.readBigInt64LE(o))],
  UINT8: [1, (b, o) => b.readUInt8(o)],
  UINT16: [2, (b, o) => b.readUInt16LE(o)],
  UINT32: [4, (b, o) => b.readUInt32LE(o)],
  UINT64: [8, (b, o) => Number(b.readBigUInt64LE(o))],
  FP32: [4, (b, o) => b.readFloatLE(o)],
  FP64: [8, (b, o) => b.readDoubleLE(o)],
};

function decodeRaw(raw: Buffer, tensor: DecodedTensor, budget: Budget): Element[] {
  const side = budget.side;
  const reading = Object.hasOwn(RAW, tensor.datatype) ? RAW[tensor.datatype] : undefined;
  if (reading === undefined) return unreadable(`${whose(side)}: raw contents of datatype ${show(tensor.datatype)} are not read`);
  const [size, read] = reading;
  if (raw.length % size !== 0) unreadable(`${whose(side)}: output ${show(tensor.name)} has ${raw.length} raw bytes, not a multiple of ${size} (${tensor.datatype})`);
  spend(budget, raw.length / size);
  const elements: Element[] = [];
  for (let offset = 0; offset < raw.length; offset += size) elements.push(read(raw, offset));
  return elements;
}

function outputsFromGrpc(message: Buffer, side: Side): Output[] {
  const budget: Budget = { left: MAX_COMPARED_ELEMENTS, side };
  const tensors: DecodedTensor[] = [];
  const raws: Buffer[] = [];
  try {
    eachField(message, (reader, field, wire) => {
      if (field === 5) tensors.push(decodeTensor(lengthDelimited(reader, wire, 'outputs'), budget));
      else if (field === 6) raws.push(lengthDelimited(reader, wire, 'raw_output_contents'));
      else return false;
      return true;
    });
  } catch (error) {
    if (error instanceof Unreadable) throw error;
    return unreadable(`${whose(side)} is not a ModelInferResponse (${error instanceof Error ? error.message : String(error)})`);
  }
  if (raws.length > 0 && raws.length !== tensors.length) {
    unreadable(`${whose(side)} has ${raws.length} raw_output_contents for ${tensors.length} output(s)`);
  }
  return tensors.map((tensor, i): Output => {
    const filled = [...tensor.contents.values()];
    if (filled.length > 1) unreadable(`${whose(side)}: output ${show(tensor.name)} has contents in more than one field`);
    if (tensor.shape.some((dim) => !(Number.isSafeInteger(dim) && dim >= 0))) unreadable(`${whose(side)}: output ${show(tensor.name)} has a negative shape`);
    const raw = raws[i];
    if (filled.length === 1 && raw !== undefined) unreadable(`${whose(side)}: output ${show(tensor.name)} has both contents and raw_output_contents`);
    const data = filled[0] ?? (raw === undefined ? [] : decodeRaw(raw, tensor, budget));
    const output = { name: tensor.name, shape: tensor.shape, data };
    checkCount(output, side);
    return output;
  });
}

function byName(outputs: Output[], side: Side): Map<string, Output> {
  const named = new Map<string, Output>();
  for (const output of outputs) {
    if (named.has(output.name)) unreadable(`${whose(side)} has two outputs named ${show(output.name)}`);
    named.set(output.name, output);
  }
  return named;
}

/** The multi-dimensional index of flat element `flat` of a row-major tensor. */
function indexIn(shape: readonly number[], flat: number): string {
  const index: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    const dim = shape[d]!;
    index.unshift(flat % dim);
    flat = Math.floor(flat / dim);
  }
  return shapeText(index);
}

function compareOutputs(tolerance: Tolerance, userOutputs: Output[], candidateOutputs: Output[]): Comparison {
  const user = byName(userOutputs, 'user');
  const candidate = byName(candidateOutputs, 'candidate');
  const names = [...user.keys()].sort();
  const missing = names.filter((name) => !candidate.has(name));
  if (missing.length > 0) return { outcome: 'disagree', detail: `the candidate has no output ${missing.map(show).join(', ')}` };
  const extra = [...candidate.keys()].filter((name) => !user.has(name)).sort();
  if (extra.length > 0) return { outcome: 'disagree', detail: `the candidate has an extra output ${extra.map(show).join(', ')}` };
  for (const name of names) {
    const [u, c] = [user.get(name)!, candidate.get(name)!];
    if (shapeText(u.shape) !== shapeText(c.shape)) {
      return { outcome: 'disagree', detail: `output ${show(name)} shape ${shapeText(u.shape)} vs ${shapeText(c.shape)}` };
    }
  }
  const tally = new Tally(tolerance);
  for (const name of names) {
    const [u, c] = [user.get(name)!, candidate.get(name)!];
    for (let i = 0; i < u.data.length; i++) tally.add(u.data[i]!, c.data[i]!, () => `output ${show(name)} ${indexIn(u.shape, i)}`);
  }
  return tally.verdict();
}

// ---------------------------------------------------------------------------------------------

function judge(compare: ShadowCompare, user: Answer, candidate: Answer): Comparison {
  const userFailed = failure(user);
  if (userFailed !== undefined) return { outcome: 'incomparable', detail: `the user's answer failed (${userFailed})` };
  const candidateFailed = failure(candidate);
  if (candidateFailed !== undefined) return { outcome: 'candidate-error', detail: `the candidate failed (${candidateFailed})` };
  const grpc = isGrpc(user);
  if (grpc !== isGrpc(candidate)) {
    return { outcome: 'incomparable', detail: grpc ? "the user's answer is gRPC, the candidate's is not" : "the candidate's answer is gRPC, the user's is not" };
  }
  const tolerance = { absolute: compare.absolute ?? 0, relative: compare.relative ?? 0 };
  const path = compare.path ?? '';
  switch (compare.kind) {
    case 'json-equal':
      return compareJsonEqual(user, candidate, grpc);
    case 'numeric':
    case 'label': {
      if (grpc) return { outcome: 'incomparable', detail: `${compare.kind} compares JSON answers; use oip for gRPC` };
      const [u, c] = [parseJson(user.body, 'user'), parseJson(candidate.body, 'candidate')];
      return compare.kind === 'numeric' ? compareNumeric(path, tolerance, u, c) : compareLabel(path, u, c);
    }
    case 'oip':
      return grpc
        ? compareOutputs(tolerance, outputsFromGrpc(unframe(user.body, 'user'), 'user'), outputsFromGrpc(unframe(candidate.body, 'candidate'), 'candidate'))
        : compareOutputs(tolerance, outputsFromJson(parseJson(user.body, 'user'), 'user'), outputsFromJson(parseJson(candidate.body, 'candidate'), 'candidate'));
    default:
      return { outcome: 'incomparable', detail: `unknown comparison ${show((compare as { kind: unknown }).kind)}` };
  }
}

/**
 * Compares the candidate's answer with the user's. Only a successful user answer is judged; then a
 * failed candidate is a `candidate-error`; then the comparison's kind decides `agree` or
 * `disagree`. Anything that cannot be read is `incomparable`; nothing throws.
 */
export function compareAnswers(compare: ShadowCompare, user: Answer, candidate: Answer): Comparison {
  let result: Comparison;
  try {
    result = judge(compare, user, candidate);
  } catch (error) {
    const detail = error instanceof Unreadable ? error.detail : `the answers could not be compared (${error instanceof Error ? error.message : String(error)})`;
    result = { outcome: 'incomparable', detail };
  }
  return 'detail' in result ? { ...result, detail: clip(result.detail) } : result;
}
