// compareAnswers() as a table: a comparison, the user's answer, the candidate's, and the one
// verdict that must follow (each row names the mistake it catches). gRPC answers are real
// ModelInferResponse messages encoded by protobufjs from demo/proto/open-inference.proto and framed.
// Then properties: an answer always agrees with itself, and no bytes make compareAnswers throw.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import type { ShadowCompare } from '../model/types.js';
import { MAX_COMPARED_ELEMENTS, MAX_DETAIL_LENGTH, compareAnswers, type Answer, type Comparison } from './compare.js';

const PROTO = fileURLToPath(new URL('../../demo/proto/open-inference.proto', import.meta.url));
/** protobufjs packs proto3 repeated numbers by default. */
const packed = protobuf.loadSync(PROTO);
/** The same messages with fp32_contents and shape written one field per element, as older encoders do. */
const unpacked = protobuf.parse(
  readFileSync(PROTO, 'utf8')
    .replace('repeated float fp32_contents = 6;', 'repeated float fp32_contents = 6 [packed = false];')
    .replaceAll('repeated int64 shape = 3;', 'repeated int64 shape = 3 [packed = false];'),
).root;

/** A ModelInferResponse (protobufjs's camelCase field names) encoded with the given schema. */
function inferResponse(body: object, root: protobuf.Root = packed): Buffer {
  const type = root.lookupType('inference.ModelInferResponse');
  return Buffer.from(type.encode(type.fromObject(body)).finish());
}

function frame(message: Uint8Array, flag = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

const grpc = (message: Uint8Array, grpcStatus = 0): Answer => ({ status: 200, grpcStatus, contentType: 'application/grpc', body: frame(message) });
const grpcBody = (body: Buffer): Answer => ({ status: 200, grpcStatus: 0, contentType: 'application/grpc', body });
const json = (value: unknown, status = 200): Answer => ({ status, contentType: 'application/json', body: Buffer.from(JSON.stringify(value)) });
const text = (body: string): Answer => ({ status: 200, contentType: 'application/json', body: Buffer.from(body) });

function le(write: (buf: Buffer, value: number, offset: number) => void, size: number, values: number[]): Buffer {
  const buf = Buffer.alloc(size * values.length);
  values.forEach((value, i) => write(buf, value, i * size));
  return buf;
}
const fp32le = (...values: number[]) => le((b, v, o) => b.writeFloatLE(v, o), 4, values);
const int64le = (...values: number[]) => le((b, v, o) => b.writeBigInt64LE(BigInt(v), o), 8, values);

const scores = (contents: object) => ({ outputs: [{ name: 'scores', datatype: 'FP32', shape: [1, 3], contents }] });
const rawScores = (...values: number[]) => ({ outputs: [{ name: 'scores', datatype: 'FP32', shape: [1, 3] }], rawOutputContents: [fp32le(...values)] });
const oipJson = (...outputs: object[]) => ({ model_name: 'iris', outputs });

const jsonEqual: ShadowCompare = { kind: 'json-equal' };
const prediction = (tolerance: Partial<ShadowCompare> = {}): ShadowCompare => ({ kind: 'numeric', path: '/prediction', ...tolerance });
const numericAt = (path: string, tolerance: Partial<ShadowCompare> = {}): ShadowCompare => ({ kind: 'numeric', path, ...tolerance });
const labelAt = (path: string): ShadowCompare => ({ kind: 'label', path });
const oip = (tolerance: Partial<ShadowCompare> = {}): ShadowCompare => ({ kind: 'oip', ...tolerance });

interface Case {
  name: string;
  /** The mistake this row catches. */
  catches: string;
  compare: ShadowCompare;
  user: Answer;
  candidate: Answer;
  verdict: Comparison;
}

const cases: Case[] = [
  // Who failed.
  {
    name: 'the user got a 500: incomparable, however the candidate did',
    catches: 'judging a candidate against an answer that was itself an error',
    compare: jsonEqual,
    user: json({ error: 'boom' }, 500),
    candidate: json({ prediction: 1 }),
    verdict: { outcome: 'incomparable', detail: "the user's answer failed (HTTP 500)" },
  },
  {
    name: 'both failed: the user\'s failure is reported, not a candidate error',
    catches: 'checking the candidate before the user',
    compare: jsonEqual,
    user: json({}, 502),
    candidate: json({}, 503),
    verdict: { outcome: 'incomparable', detail: "the user's answer failed (HTTP 502)" },
  },
  {
    name: 'the candidate answered 503',
    catches: 'comparing an error body with a good answer (a disagreement instead of a candidate error)',
    compare: prediction(),
    user: json({ prediction: 1 }),
    candidate: json({ error: 'unavailable' }, 503),
    verdict: { outcome: 'candidate-error', detail: 'the candidate failed (HTTP 503)' },
  },
  {
    name: 'the candidate answered 404: not 2xx is a failure too, not only 5xx',
    catches: 'treating only status ≥ 500 as a failure',
    compare: jsonEqual,
    user: json({ prediction: 1 }),
    candidate: json({ prediction: 1 }, 404),
    verdict: { outcome: 'candidate-error', detail: 'the candidate failed (HTTP 404)' },
  },
  {
    name: 'a 201 is a success like a 200',
    catches: 'treating only 200 as a success',
    compare: jsonEqual,
    user: json({ prediction: 1 }, 201),
    candidate: json({ prediction: 1 }),
    verdict: { outcome: 'agree' },
  },
  {
    name: 'the candidate answered HTTP 200 carrying gRPC status 13 (INTERNAL)',
    catches: 'reading only :status for a gRPC answer',
    compare: oip(),
    user: grpc(inferResponse(scores({ fp32Contents: [0.5, 0.25, 0.125] }))),
    candidate: grpc(Buffer.alloc(0), 13),
    verdict: { outcome: 'candidate-error', detail: 'the candidate failed (gRPC status 13)' },
  },
  {
    name: "the user's gRPC call failed with status 14 (UNAVAILABLE)",
    catches: 'ignoring grpc-status on the user side',
    compare: oip(),
    user: grpc(Buffer.alloc(0), 14),
    candidate: grpc(inferResponse(scores({ fp32Contents: [0.5, 0.25, 0.125] }))),
    verdict: { outcome: 'incomparable', detail: "the user's answer failed (gRPC status 14)" },
  },
  {
    name: 'one answer gRPC, the other JSON',
    catches: 'reading a JSON body as a gRPC frame (or the reverse)',
    compare: jsonEqual,
    user: json({ prediction: 1 }),
    candidate: grpc(inferResponse(scores({ fp32Contents: [1, 2, 3] }))),
    verdict: { outcome: 'incomparable', detail: "the candidate's answer is gRPC, the user's is not" },
  },

  // json-equal
  {
    name: 'json-equal: key order and number spelling do not matter',
    catches: 'comparing the bodies as text',
    compare: jsonEqual,
    user: text('{"a":1,"b":[1,2],"c":{"x":null}}'),
    candidate: text('{ "c": {"x": null}, "b": [1.0, 2e0], "a": 1 }'),
    verdict: { outcome: 'agree' },
  },
  {
    name: 'json-equal: the first differing pointer, its tokens escaped',
    catches: 'pointers built from raw keys ("/a/x/y" for the key "x/y")',
    compare: jsonEqual,
    user: json({ a: { 'm~n': 2, 'x/y': 1 } }),
    candidate: json({ a: { 'm~n': 2, 'x/y': 2 } }),
    verdict: { outcome: 'disagree', detail: 'bodies differ at /a/x~1y' },
  },
  {
    name: 'json-equal: of several differences, the first in sorted key order',
    catches: 'reporting whichever key the body happened to list first',
    compare: jsonEqual,
    user: json({ b: 1, a: 1 }),
    candidate: json({ b: 2, a: 2 }),
    verdict: { outcome: 'disagree', detail: 'bodies differ at /a' },
  },
  {
    name: 'json-equal: a key present (even as null) on one side only',
    catches: 'reading a missing key as undefined and null as equal to it, or skipping keys only the candidate has',
    compare: jsonEqual,
    user: json({ a: 1 }),
    candidate: json({ a: 1, z: null }),
    verdict: { outcome: 'disagree', detail: 'bodies differ at /z' },
  },
  {
    name: 'json-equal: arrays compare in order',
    catches: 'comparing arrays as sets',
    compare: jsonEqual,
    user: json({ list: [1, 2] }),
    candidate: json({ list: [2, 1] }),
    verdict: { outcome: 'disagree', detail: 'bodies differ at /list/0' },
  },
  {
    name: 'json-equal: a longer array differs at its first extra element',
    catches: 'comparing only the common prefix of two arrays',
    compare: jsonEqual,
    user: json({ list: [1, 2] }),
    candidate: json({ list: [1, 2, 3] }),
    verdict: { outcome: 'disagree', detail: 'bodies differ at /list/2' },
  },
  {
    name: 'json-equal: an empty array is not an empty object',
    catches: 'comparing by typeof alone',
    compare: jsonEqual,
    user: json({ a: [] }),
    candidate: json({ a: {} }),
    verdict: { outcome: 'disagree', detail: 'bodies differ at /a' },
  },
  {
    name: 'json-equal: two different scalars at the top level',
    catches: 'an empty pointer printed as nothing',
    compare: jsonEqual,
    user: json(1),
    candidate: json(2),
    verdict: { outcome: 'disagree', detail: 'bodies differ at (root)' },
  },
  {
    name: 'json-equal: a candidate body that is not JSON',
    catches: 'JSON.parse throwing out of compareAnswers',
    compare: jsonEqual,
    user: json({ prediction: 1 }),
    candidate: text('<html>oops</html>'),
    verdict: { outcome: 'incomparable', detail: "the candidate's answer is not JSON" },
  },
  {
    name: 'json-equal over gRPC: the same message bytes',
    catches: 'parsing gRPC messages as JSON',
    compare: jsonEqual,
    user: grpc(inferResponse(scores({ fp32Contents: [1, 2, 3] }))),
    candidate: grpc(inferResponse(scores({ fp32Contents: [1, 2, 3] }))),
    verdict: { outcome: 'agree' },
  },
  {
    name: 'json-equal over gRPC: different message bytes',
    catches: 'comparing the frames without their messages, or not at all',
    compare: jsonEqual,
    user: grpc(inferResponse(scores({ fp32Contents: [1, 2, 3] }))),
    candidate: grpc(inferResponse({ ...scores({ fp32Contents: [1, 2, 3] }), id: 'x' })),
    verdict: { outcome: 'disagree', detail: 'messages differ (36 vs 39 bytes)' },
  },

  // numeric
  {
    name: 'numeric: no tolerance means exact equality',
    catches: 'a default tolerance other than 0',
    compare: prediction(),
    user: json({ prediction: 1 }),
    candidate: json({ prediction: 1.0000001 }),
    verdict: { outcome: 'disagree', difference: Math.abs(1 - 1.0000001), detail: `/prediction 1 vs 1.0000001 (|Δ| ${Math.abs(1 - 1.0000001)} > 0)` },
  },
  {
    name: 'numeric: equal numbers agree with difference 0',
    catches: 'a missing or non-zero difference on agreement',
    compare: prediction(),
    user: json({ prediction: 1.25, version: 'blue' }),
    candidate: json({ prediction: 1.25, version: 'green' }),
    verdict: { outcome: 'agree', difference: 0 },
  },
  {
    name: 'numeric: |Δ| exactly the absolute tolerance agrees',
    catches: '< instead of ≤ at the boundary',
    compare: prediction({ absolute: 0.25 }),
    user: json({ prediction: 1.25 }),
    candidate: json({ prediction: 1.5 }),
    verdict: { outcome: 'agree', difference: 0.25 },
  },
  {
    name: 'numeric: |Δ| over the absolute tolerance disagrees, with both values',
    catches: 'a tolerance ignored, or a detail without the numbers',
    compare: prediction({ absolute: 0.125 }),
    user: json({ prediction: 1.25 }),
    candidate: json({ prediction: 1.5 }),
    verdict: { outcome: 'disagree', difference: 0.25, detail: '/prediction 1.25 vs 1.5 (|Δ| 0.25 > 0.125)' },
  },
  {
    name: "numeric: |Δ| exactly relative × the user's answer agrees",
    catches: '< instead of ≤ for the relative tolerance',
    compare: prediction({ relative: 0.5 }),
    user: json({ prediction: 4 }),
    candidate: json({ prediction: 6 }),
    verdict: { outcome: 'agree', difference: 2 },
  },
  {
    name: "numeric: the relative tolerance scales with the user's answer, not the candidate's",
    catches: "relative × |candidate| (3.125 here, which would agree) or × the larger of the two",
    compare: prediction({ relative: 0.5 }),
    user: json({ prediction: 4 }),
    candidate: json({ prediction: 6.25 }),
    verdict: { outcome: 'disagree', difference: 2.25, detail: '/prediction 4 vs 6.25 (|Δ| 2.25 > 2)' },
  },
  {
    name: 'numeric: either tolerance suffices',
    catches: 'requiring both the absolute and the relative tolerance',
    compare: prediction({ absolute: 0.5, relative: 0.5 }),
    user: json({ prediction: 4 }),
    candidate: json({ prediction: 6 }),
    verdict: { outcome: 'agree', difference: 2 },
  },
  {
    name: "numeric: a negative user answer's magnitude scales the tolerance",
    catches: "relative × the signed user's answer (a negative allowance)",
    compare: prediction({ relative: 0.5 }),
    user: json({ prediction: -4 }),
    candidate: json({ prediction: -6 }),
    verdict: { outcome: 'agree', difference: 2 },
  },
  {
    name: 'numeric: nested arrays agree element by element; difference is the largest |Δ|',
    catches: 'comparing only the first element, or reporting the last |Δ| instead of the largest',
    compare: numericAt('/scores', { absolute: 0.125 }),
    user: json({ scores: [[0.5, 0.25], [1, 2]] }),
    candidate: json({ scores: [[0.5, 0.375], [1, 2.0625]] }),
    verdict: { outcome: 'agree', difference: 0.125 },
  },
  {
    name: 'numeric: nested arrays disagree, naming the first element out and counting the rest',
    catches: 'element pointers without their outer indices',
    compare: numericAt('/scores', { absolute: 0.125 }),
    user: json({ scores: [[0.5, 0.25], [1, 2]] }),
    candidate: json({ scores: [[0.75, 0.25], [1, 3]] }),
    verdict: { outcome: 'disagree', difference: 1, detail: '/scores/0/0 0.5 vs 0.75 (|Δ| 0.25 > 0.125); 1 more element(s) differ' },
  },
  {
    name: 'numeric: different shapes disagree',
    catches: 'comparing the common elements of arrays of different lengths',
    compare: numericAt('/scores', { absolute: 100 }),
    user: json({ scores: [[1, 2, 3]] }),
    candidate: json({ scores: [[1, 2, 3, 4]] }),
    verdict: { outcome: 'disagree', detail: '/scores shape [1,3] vs [1,4]' },
  },
  {
    name: 'numeric: a number is not a one-element array',
    catches: 'flattening both sides before comparing them',
    compare: numericAt('/scores', { absolute: 100 }),
    user: json({ scores: 1 }),
    candidate: json({ scores: [1] }),
    verdict: { outcome: 'disagree', detail: '/scores shape [] vs [1]' },
  },
  {
    name: 'numeric: ragged arrays whose first rows match differ where a later row does',
    catches: 'shapes read from the first elements only',
    compare: numericAt('/scores'),
    user: json({ scores: [[1, 2], [3]] }),
    candidate: json({ scores: [[1, 2], [3, 4]] }),
    verdict: { outcome: 'disagree', detail: '/scores shapes differ at /scores/1' },
  },
  {
    name: 'numeric: the empty path is the whole document',
    catches: '"" read as a key named ""',
    compare: numericAt('', { absolute: 0.5 }),
    user: text('3'),
    candidate: text('3.5'),
    verdict: { outcome: 'agree', difference: 0.5 },
  },
  {
    name: 'numeric: pointer tokens unescape ~1 to / and ~0 to ~, in that order',
    catches: 'unescaping ~0 first (so "~01" would read as "/" instead of "~1")',
    compare: numericAt('/a~1b/m~0n/~01'),
    user: json({ 'a/b': { 'm~n': { '~1': 7 } } }),
    candidate: json({ 'a/b': { 'm~n': { '~1': 7 } } }),
    verdict: { outcome: 'agree', difference: 0 },
  },
  {
    name: 'numeric: an array index in the path',
    catches: 'array indices read as object keys',
    compare: numericAt('/scores/1'),
    user: json({ scores: [9, 2] }),
    candidate: json({ scores: [8, 2] }),
    verdict: { outcome: 'agree', difference: 0 },
  },
  {
    name: 'numeric: an index with a leading zero is not an index',
    catches: 'Number("01") accepted as index 1',
    compare: numericAt('/scores/01'),
    user: json({ scores: [9, 2] }),
    candidate: json({ scores: [9, 2] }),
    verdict: { outcome: 'incomparable', detail: "the user's answer has nothing at /scores/01" },
  },
  {
    name: "numeric: the path is missing from the candidate's answer",
    catches: 'undefined compared as a value',
    compare: prediction(),
    user: json({ prediction: 1 }),
    candidate: json({ predictions: [1] }),
    verdict: { outcome: 'incomparable', detail: "the candidate's answer has nothing at /prediction" },
  },
  {
    name: 'numeric: a path naming an inherited property finds nothing',
    catches: 'a path resolved with `in` or a plain lookup (finding Object.prototype.constructor)',
    compare: numericAt('/constructor'),
    user: json({}),
    candidate: json({}),
    verdict: { outcome: 'incomparable', detail: "the user's answer has nothing at /constructor" },
  },
  {
    name: 'numeric: a number written as a string is not a number',
    catches: 'coercing strings with Number()',
    compare: prediction(),
    user: json({ prediction: '1.5' }),
    candidate: json({ prediction: 1.5 }),
    verdict: { outcome: 'incomparable', detail: 'the user\'s answer has "1.5" at /prediction, not a number' },
  },
  {
    name: 'numeric: a null inside an array is named by its pointer',
    catches: 'null read as 0',
    compare: numericAt('/scores'),
    user: json({ scores: [1, 2] }),
    candidate: json({ scores: [1, null] }),
    verdict: { outcome: 'incomparable', detail: "the candidate's answer has null at /scores/1, not a number" },
  },
  {
    name: 'numeric: a path that is not a JSON pointer',
    catches: 'a path without its leading slash read as a key',
    compare: numericAt('prediction'),
    user: json({ prediction: 1 }),
    candidate: json({ prediction: 1 }),
    verdict: { outcome: 'incomparable', detail: 'path "prediction" is not a JSON pointer' },
  },
  {
    name: 'numeric over gRPC points to oip',
    catches: 'parsing a gRPC frame as JSON',
    compare: prediction(),
    user: grpc(inferResponse(scores({ fp32Contents: [1, 2, 3] }))),
    candidate: grpc(inferResponse(scores({ fp32Contents: [1, 2, 3] }))),
    verdict: { outcome: 'incomparable', detail: 'numeric compares JSON answers; use oip for gRPC' },
  },

  // label
  {
    name: 'label: the same class name',
    catches: 'labels compared by reference or with the wrong path',
    compare: labelAt('/label'),
    user: json({ label: 'cat', score: 0.9 }),
    candidate: json({ label: 'cat', score: 0.7 }),
    verdict: { outcome: 'agree' },
  },
  {
    name: 'label: different class names',
    catches: 'a label comparison that ignores the value',
    compare: labelAt('/label'),
    user: json({ label: 'cat' }),
    candidate: json({ label: 'dog' }),
    verdict: { outcome: 'disagree', detail: 'label "cat" vs "dog"' },
  },
  {
    name: 'label: an array of scores gives the index of the largest',
    catches: 'comparing the scores instead of the top-1 class',
    compare: labelAt('/probabilities'),
    user: json({ probabilities: [0.1, 0.7, 0.2] }),
    candidate: json({ probabilities: [0.2, 0.3, 0.5] }),
    verdict: { outcome: 'disagree', detail: 'label 1 vs 2' },
  },
  {
    name: 'label: a tie in an array goes to the first index, matching an integer label',
    catches: 'taking the last of equal scores (>= instead of >)',
    compare: labelAt('/label'),
    user: json({ label: [0.5, 0.5] }),
    candidate: json({ label: 0 }),
    verdict: { outcome: 'agree' },
  },
  {
    name: 'label: an object of scores gives the name of the largest',
    catches: 'taking the first key rather than the largest score',
    compare: labelAt('/scores'),
    user: json({ scores: { cat: 0.2, dog: 0.8 } }),
    candidate: json({ scores: { cat: 0.9, dog: 0.1 } }),
    verdict: { outcome: 'disagree', detail: 'label "dog" vs "cat"' },
  },
  {
    name: 'label: a tie in an object goes to the name first in sorted order, not in the body',
    catches: 'ties broken by the order the model wrote its keys in',
    compare: labelAt('/scores'),
    user: json({ scores: { dog: 0.5, cat: 0.5 } }),
    candidate: json({ scores: 'cat' }),
    verdict: { outcome: 'agree' },
  },
  {
    name: 'label: an integer label is not the same as its digits in a string',
    catches: 'loose equality (1 == "1")',
    compare: labelAt('/label'),
    user: json({ label: 1 }),
    candidate: json({ label: '1' }),
    verdict: { outcome: 'disagree', detail: 'label 1 vs "1"' },
  },
  {
    name: 'label: booleans',
    catches: 'false treated as "no label"',
    compare: labelAt('/spam'),
    user: json({ spam: true }),
    candidate: json({ spam: false }),
    verdict: { outcome: 'disagree', detail: 'label true vs false' },
  },
  {
    name: 'label: a fractional number is not a class',
    catches: 'a score taken for a label',
    compare: labelAt('/label'),
    user: json({ label: 0.5 }),
    candidate: json({ label: 0.5 }),
    verdict: {
      outcome: 'incomparable',
      detail: "the user's answer has 0.5 at /label: not a string, integer, boolean, array of numbers or object of numbers",
    },
  },
  {
    name: 'label: an empty array has no top-1',
    catches: 'index 0 returned for an empty array',
    compare: labelAt('/label'),
    user: json({ label: [0.1] }),
    candidate: json({ label: [] }),
    verdict: {
      outcome: 'incomparable',
      detail: "the candidate's answer has an array of 0 at /label: not a string, integer, boolean, array of numbers or object of numbers",
    },
  },

  // oip over JSON
  {
    name: 'oip JSON: outputs matched by name whatever their order; nested data flattened',
    catches: 'matching outputs by position, or comparing nested data as written',
    compare: oip(),
    user: json(oipJson({ name: 'scores', datatype: 'FP32', shape: [1, 3], data: [[0.5, 0.25, 0.125]] }, { name: 'label', datatype: 'BYTES', shape: [1], data: ['cat'] })),
    candidate: json(oipJson({ name: 'label', datatype: 'BYTES', shape: [1], data: ['cat'] }, { name: 'scores', datatype: 'FP32', shape: [1, 3], data: [0.5, 0.25, 0.125] })),
    verdict: { outcome: 'agree', difference: 0 },
  },
  {
    name: 'oip JSON: within the relative tolerance',
    catches: 'tolerances not applied to oip',
    compare: oip({ relative: 0.5 }),
    user: json(oipJson({ name: 'scores', datatype: 'FP32', shape: [2], data: [4, 8] })),
    candidate: json(oipJson({ name: 'scores', datatype: 'FP32', shape: [2], data: [6, 5] })),
    verdict: { outcome: 'agree', difference: 3 },
  },
  {
    name: 'oip JSON: a value out of tolerance, named by its index in the shape',
    catches: 'a flat index reported for a multi-dimensional output',
    compare: oip({ absolute: 0.0625 }),
    user: json(oipJson({ name: 'scores', datatype: 'FP32', shape: [1, 3], data: [0.5, 0.25, 0.125] })),
    candidate: json(oipJson({ name: 'scores', datatype: 'FP32', shape: [1, 3], data: [0.5, 0.25, 0.25] })),
    verdict: { outcome: 'disagree', difference: 0.125, detail: 'output "scores" [0,2] 0.125 vs 0.25 (|Δ| 0.125 > 0.0625)' },
  },
  {
    name: 'oip JSON: an output the candidate lacks',
    catches: 'comparing only the names both sides have',
    compare: oip(),
    user: json(oipJson({ name: 'scores', shape: [1], data: [1] }, { name: 'label', shape: [1], data: ['cat'] })),
    candidate: json(oipJson({ name: 'scores', shape: [1], data: [1] })),
    verdict: { outcome: 'disagree', detail: 'the candidate has no output "label"' },
  },
  {
    name: 'oip JSON: an output only the candidate has',
    catches: "looking only at the user's outputs",
    compare: oip(),
    user: json(oipJson({ name: 'scores', shape: [1], data: [1] })),
    candidate: json(oipJson({ name: 'scores', shape: [1], data: [1] }, { name: 'debug', shape: [1], data: [0] })),
    verdict: { outcome: 'disagree', detail: 'the candidate has an extra output "debug"' },
  },
  {
    name: 'oip JSON: the same number of elements in another shape',
    catches: 'comparing flattened data without the shapes',
    compare: oip(),
    user: json(oipJson({ name: 'scores', shape: [1, 4], data: [1, 2, 3, 4] })),
    candidate: json(oipJson({ name: 'scores', shape: [2, 2], data: [1, 2, 3, 4] })),
    verdict: { outcome: 'disagree', detail: 'output "scores" shape [1,4] vs [2,2]' },
  },
  {
    name: 'oip JSON: BYTES outputs compare as strings',
    catches: 'strings sent through the numeric tolerance (NaN, so never a disagreement)',
    compare: oip({ absolute: 1 }),
    user: json(oipJson({ name: 'label', datatype: 'BYTES', shape: [1], data: ['cat'] })),
    candidate: json(oipJson({ name: 'label', datatype: 'BYTES', shape: [1], data: ['dog'] })),
    verdict: { outcome: 'disagree', difference: 0, detail: 'output "label" [0] "cat" vs "dog"' },
  },
  {
    name: 'oip JSON: data that does not fill its shape',
    catches: 'trusting shape and data to agree',
    compare: oip(),
    user: json(oipJson({ name: 'scores', shape: [1, 3], data: [1, 2, 3] })),
    candidate: json(oipJson({ name: 'scores', shape: [1, 3], data: [1, 2] })),
    verdict: { outcome: 'incomparable', detail: 'the candidate\'s answer: output "scores" has 2 element(s) for shape [1,3]' },
  },
  {
    name: 'oip JSON: no outputs',
    catches: 'an answer without outputs agreeing with everything',
    compare: oip(),
    user: json({ prediction: 1 }),
    candidate: json(oipJson()),
    verdict: { outcome: 'incomparable', detail: "the user's answer has no \"outputs\" array" },
  },
  {
    name: 'oip JSON: two outputs of one name',
    catches: 'a later output silently replacing an earlier one',
    compare: oip(),
    user: json(oipJson({ name: 'scores', shape: [1], data: [1] }, { name: 'scores', shape: [1], data: [2] })),
    candidate: json(oipJson({ name: 'scores', shape: [1], data: [2] })),
    verdict: { outcome: 'incomparable', detail: 'the user\'s answer has two outputs named "scores"' },
  },

  // oip over gRPC
  {
    name: 'oip gRPC: fp64_contents, as the demo model answers, within the relative tolerance',
    catches: 'fp64 contents not read',
    compare: oip({ relative: 0.5 }),
    user: grpc(inferResponse({ modelName: 'iris', outputs: [{ name: 'prediction', datatype: 'FP64', shape: [1], contents: { fp64Contents: [4] } }] })),
    candidate: grpc(inferResponse({ modelName: 'iris', outputs: [{ name: 'prediction', datatype: 'FP64', shape: [1], contents: { fp64Contents: [5.5] } }] })),
    verdict: { outcome: 'agree', difference: 1.5 },
  },
  {
    name: 'oip gRPC: packed fp32_contents against the same values unpacked',
    catches: 'a decoder that reads only one of the two repeated encodings',
    compare: oip(),
    user: grpc(inferResponse(scores({ fp32Contents: [0.5, 0.25, 0.125] }))),
    candidate: grpc(inferResponse(scores({ fp32Contents: [0.5, 0.25, 0.125] }), unpacked)),
    verdict: { outcome: 'agree', difference: 0 },
  },
  {
    name: 'oip gRPC: raw_output_contents FP32 little-endian against the same values in fp32_contents',
    catches: 'raw_output_contents ignored or read big-endian',
    compare: oip(),
    user: grpc(inferResponse(rawScores(0.5, 0.25, 0.125))),
    candidate: grpc(inferResponse(scores({ fp32Contents: [0.5, 0.25, 0.125] }))),
    verdict: { outcome: 'agree', difference: 0 },
  },
  {
    name: 'oip gRPC: raw FP32 out of tolerance',
    catches: 'raw elements read at the wrong offsets',
    compare: oip({ absolute: 0.5 }),
    user: grpc(inferResponse(rawScores(0.5, 0.25, 0.125))),
    candidate: grpc(inferResponse(rawScores(0.5, 0.25, 1))),
    verdict: { outcome: 'disagree', difference: 0.875, detail: 'output "scores" [0,2] 0.125 vs 1 (|Δ| 0.875 > 0.5)' },
  },
  {
    name: 'oip gRPC: raw INT64 against int64_contents, negative numbers included',
    catches: 'raw 64-bit integers read unsigned, or Long values compared as objects',
    compare: oip(),
    user: grpc(inferResponse({ outputs: [{ name: 'ids', datatype: 'INT64', shape: [2] }], rawOutputContents: [int64le(-3, 5)] })),
    candidate: grpc(inferResponse({ outputs: [{ name: 'ids', datatype: 'INT64', shape: [2], contents: { int64Contents: [-3, 5] } }] })),
    verdict: { outcome: 'agree', difference: 0 },
  },
  {
    name: 'oip gRPC: NaN from both sides agrees',
    catches: 'NaN !== NaN making a model disagree with itself',
    compare: oip(),
    user: grpc(inferResponse({ outputs: [{ name: 'x', datatype: 'FP32', shape: [1] }], rawOutputContents: [fp32le(NaN)] })),
    candidate: grpc(inferResponse({ outputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32Contents: [NaN] } }] })),
    verdict: { outcome: 'agree', difference: 0 },
  },
  {
    name: "oip gRPC: an infinite user answer is not within a tolerance relative to itself",
    catches: 'Infinity ≤ relative × Infinity read as agreement',
    compare: oip({ relative: 0.5 }),
    user: grpc(inferResponse({ outputs: [{ name: 'x', datatype: 'FP32', shape: [1] }], rawOutputContents: [fp32le(Infinity)] })),
    candidate: grpc(inferResponse({ outputs: [{ name: 'x', datatype: 'FP32', shape: [1] }], rawOutputContents: [fp32le(5)] })),
    verdict: { outcome: 'disagree', difference: Infinity, detail: 'output "x" [0] Infinity vs 5' },
  },
  {
    name: 'oip gRPC: a compressed message',
    catches: 'decoding compressed bytes as protobuf',
    compare: oip(),
    user: grpcBody(frame(inferResponse(rawScores(1, 2, 3)), 1)),
    candidate: grpc(inferResponse(rawScores(1, 2, 3))),
    verdict: { outcome: 'incomparable', detail: "the user's answer is a compressed gRPC message (flag 1)" },
  },
  {
    name: 'oip gRPC: a frame shorter than its length says',
    catches: 'a truncated answer decoded as far as it goes',
    compare: oip(),
    user: grpc(inferResponse(rawScores(1, 2, 3))),
    candidate: grpcBody(frame(inferResponse(rawScores(1, 2, 3))).subarray(0, 10)),
    verdict: { outcome: 'incomparable', detail: "the candidate's answer is a bad gRPC frame (says 34 bytes, holds 5)" },
  },
  {
    name: 'oip gRPC: two messages where one is expected',
    catches: 'bytes after the first message ignored',
    compare: oip(),
    user: grpc(inferResponse(rawScores(1, 2, 3))),
    candidate: grpcBody(Buffer.concat([frame(inferResponse(rawScores(1, 2, 3))), frame(inferResponse(rawScores(1, 2, 3)))])),
    verdict: { outcome: 'incomparable', detail: "the candidate's answer holds more than one gRPC message" },
  },
  {
    name: 'oip gRPC: an output name longer than its message',
    catches: "protobufjs's Buffer string reader, which clips a string at the end of the buffer instead of failing",
    compare: oip(),
    user: grpc(inferResponse(rawScores(1, 2, 3))),
    // outputs (field 5, 3 bytes) holding name (field 1) said to be 5 bytes long, of which 1 is there.
    candidate: grpc(Buffer.from([0x2a, 0x03, 0x0a, 0x05, 0x61])),
    verdict: { outcome: 'incomparable', detail: expect.stringMatching(/^the candidate's answer is not a ModelInferResponse \(/) as string },
  },
  {
    name: 'oip gRPC: a packed run whose length splits a float',
    catches: 'a packed field read past its own length into the next field',
    compare: oip(),
    user: grpc(inferResponse(rawScores(1, 2, 3))),
    // outputs (field 5) > contents (field 5) > fp32_contents packed in 5 bytes (a float and one byte),
    // then int_contents 1 twice: a second float read across the run's end would still find 4 bytes.
    candidate: grpc(Buffer.from([0x2a, 0x0d, 0x2a, 0x0b, 0x32, 0x05, 0, 0, 0x80, 0x3f, 0, 0x10, 0x01, 0x10, 0x01])),
    verdict: { outcome: 'incomparable', detail: "the candidate's answer is not a ModelInferResponse (contents field 6 overruns its packed length)" },
  },
  {
    name: 'oip gRPC: raw contents for some outputs only',
    catches: 'raw_output_contents paired with the wrong outputs',
    compare: oip(),
    user: grpc(inferResponse({ outputs: [{ name: 'a', datatype: 'FP32', shape: [1] }, { name: 'b', datatype: 'FP32', shape: [1] }], rawOutputContents: [fp32le(1)] })),
    candidate: grpc(inferResponse(rawScores(1, 2, 3))),
    verdict: { outcome: 'incomparable', detail: "the user's answer has 1 raw_output_contents for 2 output(s)" },
  },
  {
    name: 'oip gRPC: an output with both contents and raw contents',
    catches: 'silently picking one of two contradicting encodings',
    compare: oip(),
    user: grpc(inferResponse({ ...scores({ fp32Contents: [1, 2, 3] }), rawOutputContents: [fp32le(1, 2, 3)] })),
    candidate: grpc(inferResponse(rawScores(1, 2, 3))),
    verdict: { outcome: 'incomparable', detail: 'the user\'s answer: output "scores" has both contents and raw_output_contents' },
  },
];

describe('compareAnswers', () => {
  it.each(cases)('$name', ({ compare, user, candidate, verdict }) => {
    expect(compareAnswers(compare, user, candidate)).toEqual(verdict);
  });

  it('really encodes the unpacked fixture differently (one fp32 field per element)', () => {
    const body = scores({ fp32Contents: [0.5, 0.25, 0.125] });
    const [a, b] = [inferResponse(body), inferResponse(body, unpacked)];
    expect(a.equals(b)).toBe(false);
    // fp32_contents unpacked: tag (6 << 3) | 5 once per element.
    expect([...b].filter((byte) => byte === 0x35)).toHaveLength(3);
  });

  it('keeps every detail within its bound however long the values', () => {
    const long = 'x'.repeat(10_000);
    const verdicts = [
      compareAnswers(labelAt('/label'), json({ label: long }), json({ label: `${long}y` })),
      compareAnswers(jsonEqual, json({ [long]: 1 }), json({ [long]: 2 })),
      compareAnswers(numericAt(`/${long}`), json({}), json({})),
      compareAnswers(oip(), json(oipJson({ name: long, shape: [1], data: [1] })), json(oipJson({ name: long, shape: [1], data: [2] }))),
    ];
    for (const verdict of verdicts) {
      expect(verdict.outcome).not.toBe('agree');
      expect('detail' in verdict && verdict.detail.length).toBeLessThanOrEqual(MAX_DETAIL_LENGTH);
    }
  });

  it('escapes control characters and lone surrogates in pointers', () => {
    const verdict = compareAnswers(jsonEqual, text('{"a\\n\\ud800":1}'), text('{"a\\n\\ud800":2}'));
    expect(verdict).toEqual({ outcome: 'disagree', detail: 'bodies differ at /a\\u000a\\ud800' });
  });

  it('stops at the element cap instead of comparing without bound', () => {
    const many = Buffer.from(`{"scores":[${'0,'.repeat(MAX_COMPARED_ELEMENTS)}0]}`);
    const answer: Answer = { status: 200, body: many };
    const tooMany = { outcome: 'incomparable', detail: `the user's answer has more than ${MAX_COMPARED_ELEMENTS} elements` };
    expect(compareAnswers(numericAt('/scores'), answer, answer)).toEqual(tooMany);
    expect(compareAnswers(jsonEqual, answer, answer)).toEqual({ outcome: 'incomparable', detail: `the answers have more than ${MAX_COMPARED_ELEMENTS} elements` });
  });

  it('walks deeply nested arrays without recursion', () => {
    const depth = 100_000;
    const deep: Answer = { status: 200, body: Buffer.from(`${'['.repeat(depth)}1${']'.repeat(depth)}`) };
    expect(compareAnswers(numericAt(''), deep, deep)).toEqual({ outcome: 'agree', difference: 0 });
    expect(compareAnswers(jsonEqual, deep, deep)).toEqual({ outcome: 'agree' });
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const { tensor } = fc.letrec<{ tensor: unknown }>((tie) => ({
  tensor: fc.oneof({ depthSize: 'small', withCrossShrink: true }, finite, fc.array(tie('tensor'), { maxLength: 4 })),
}));
const labelValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.boolean(),
  fc.array(finite, { minLength: 1, maxLength: 5 }),
  fc.dictionary(fc.string(), finite, { minKeys: 1, maxKeys: 5 }),
);

/** A document holding `value` under the keys (own properties, even "__proto__"), and the pointer to it. */
function placed(keys: string[], value: unknown): { document: unknown; path: string } {
  const document = keys.reduceRight<unknown>((inner, key) => Object.fromEntries([[key, inner]]), value);
  return { document, path: keys.map((key) => `/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('') };
}
const keys = fc.array(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', '~1', 'a/b', '')), { maxLength: 3 });

const shape = fc.array(fc.nat(3), { maxLength: 3 });
const count = (dims: number[]) => dims.reduce((product, dim) => product * dim, 1);
const element = fc.oneof(finite, fc.string(), fc.boolean());
const jsonOutputs = fc.uniqueArray(fc.string(), { maxLength: 3 }).chain((names) =>
  fc.tuple(
    ...names.map((name) => shape.chain((dims) => fc.array(element, { minLength: count(dims), maxLength: count(dims) }).map((data) => ({ name, shape: dims, data })))),
  ),
);
const grpcOutputs = fc.uniqueArray(fc.string(), { maxLength: 3 }).chain((names) =>
  fc.tuple(
    ...names.map((name) =>
      shape.chain((dims) =>
        fc.array(fc.double(), { minLength: count(dims), maxLength: count(dims) }).map((values) => ({ name, datatype: 'FP64', shape: dims, contents: { fp64Contents: values } })),
      ),
    ),
  ),
);

/** A successful answer and a comparison that can read it. */
const selfComparable: fc.Arbitrary<{ compare: ShadowCompare; answer: Answer }> = fc.oneof(
  fc.jsonValue().map((value) => ({ compare: jsonEqual, answer: json(value) })),
  fc.tuple(keys, tensor).map(([path, value]) => {
    const at = placed(path, value);
    return { compare: numericAt(at.path), answer: json(at.document) };
  }),
  fc.tuple(keys, labelValue).map(([path, value]) => {
    const at = placed(path, value);
    return { compare: labelAt(at.path), answer: json(at.document) };
  }),
  jsonOutputs.map((outputs) => ({ compare: oip(), answer: json(oipJson(...outputs)) })),
  grpcOutputs.map((outputs) => ({ compare: oip(), answer: grpc(inferResponse({ outputs })) })),
  grpcOutputs.map((outputs) => ({ compare: jsonEqual, answer: grpc(inferResponse({ outputs })) })),
);

const compares: fc.Arbitrary<ShadowCompare> = fc.record(
  {
    kind: fc.constantFrom('json-equal', 'numeric', 'label', 'oip'),
    path: fc.constantFrom('', '/prediction', '/outputs/0/data', '/a~1b', '/0'),
    absolute: fc.double({ min: 0, max: 10, noNaN: true }),
    relative: fc.double({ min: 0, max: 1, noNaN: true }),
  },
  { requiredKeys: ['kind'] },
);

/** Any body: random bytes, random JSON, or a real ModelInferResponse framed and then damaged. */
const anyBody = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => frame(bytes)),
  fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value))),
  fc
    .tuple(grpcOutputs, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), fc.nat())
    .map(([outputs, flips, cut]) => {
      const message = inferResponse({ outputs });
      for (const [at, byte] of flips) if (message.length > 0) message[at % message.length] = byte;
      return frame(message.subarray(0, message.length === 0 ? 0 : cut % (message.length + 1)));
    }),
);
/** Mostly successful answers of one protocol, so that most pairs get past the status and protocol checks. */
const status = fc.oneof({ weight: 4, arbitrary: fc.constant(200) }, { weight: 1, arbitrary: fc.constantFrom(204, 404, 503) });
const grpcStatus = fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(13) });
const protocol = fc.oneof(
  fc.constant({ contentType: 'application/json' }),
  grpcStatus.map((code) => ({ contentType: 'application/grpc', grpcStatus: code })),
  fc.constant({ contentType: 'application/grpc' }),
  fc.constant({}),
);
const anyPair: fc.Arbitrary<[Answer, Answer]> = fc
  .tuple(protocol, protocol, fc.boolean(), status, status, anyBody, anyBody)
  .map(([mine, theirs, same, userStatus, candidateStatus, userBody, candidateBody]) => [
    { status: userStatus, ...mine, body: userBody },
    { status: candidateStatus, ...(same ? mine : theirs), body: candidateBody },
  ]);

describe('compareAnswers properties', () => {
  it('an answer it can read always agrees with itself', () => {
    fc.assert(
      fc.property(selfComparable, ({ compare, answer }) => {
        expect(compareAnswers(compare, answer, answer).outcome).toBe('agree');
      }),
      { numRuns: 400 },
    );
  });

  it('never throws, and every detail is short, for any pair of answers', () => {
    fc.assert(
      fc.property(compares, anyPair, (compare, [user, candidate]) => {
        const verdict = compareAnswers(compare, user, candidate);
        expect(['agree', 'disagree', 'candidate-error', 'incomparable']).toContain(verdict.outcome);
        if ('detail' in verdict) expect(verdict.detail.length).toBeLessThanOrEqual(MAX_DETAIL_LENGTH);
      }),
      { numRuns: 1000 },
    );
  });
});
