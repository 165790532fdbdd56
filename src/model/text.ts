// Text sluice can pass on: no string or key anywhere in a request body may hold a lone UTF-16
// surrogate (a JSON "\ud800" escape carries one; it is not Unicode and has no UTF-8 encoding, so
// Envoy could not even decode the resource) or NUL (no proxy field takes it). One walk over a
// parsed body, whatever its route; pure, and it knows nothing of HTTP.

import { SluiceError } from '../errors.js';
import { pointerToken } from './json-pointer.js';

const LONE_SURROGATE = /\p{Cs}/u;

function problem(text: string): string | undefined {
  const surrogate = LONE_SURROGATE.exec(text);
  if (surrogate) {
    const unit = surrogate[0].charCodeAt(0).toString(16);
    return `holds a lone UTF-16 surrogate (\\u${unit} at character ${surrogate.index + 1}), which is not Unicode text and cannot be sent as UTF-8`;
  }
  const nul = text.indexOf('\u0000');
  return nul === -1 ? undefined : `holds a NUL character (at character ${nul + 1}), which no proxy field takes`;
}

/** Throws SLUICE_INVALID_TEXT with the pointer of the first offending string or key, in document order. */
export function checkText(body: unknown): void {
  // An explicit stack: a hostile body may nest deeper than the call stack goes.
  const pending: [unknown, string][] = [[body, '']];
  while (pending.length > 0) {
    const [value, path] = pending.pop()!;
    if (typeof value === 'string') {
      const found = problem(value);
      if (found) throw new SluiceError('SLUICE_INVALID_TEXT', `The string at "${path}" ${found}.`, path);
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) pending.push([value[i], `${path}/${i}`]);
    } else if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value);
      for (const [key] of entries) {
        const found = problem(key);
        if (found) throw new SluiceError('SLUICE_INVALID_TEXT', `The key at "${path}/${pointerToken(key)}" ${found}.`, `${path}/${pointerToken(key)}`);
      }
      for (let i = entries.length - 1; i >= 0; i--) pending.push([entries[i]![1], `${path}/${pointerToken(entries[i]![0])}`]);
    }
  }
}
