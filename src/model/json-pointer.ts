// JSON pointers (RFC 6901) to the fields of a request body, as errors carry them. Pure text.

/** Escapes one JSON-pointer reference token. */
export function pointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}
