// The console's calls to the admin API on its own origin: JSON in and out with the contract's
// types, the tab's token as a bearer header, `x-sluice-actor: console` on every change (the audit
// names the console), `If-Match` when the caller gives a revision. A refusal becomes an ApiError
// with the API's stable code and message. Knows nothing of the page.

import type { ErrorBody } from '../src/api/common.js';
import { authHeaders } from './session-token.js';

/** The actor the audit log records for changes made from the console. */
export const CONSOLE_ACTOR = 'console';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

/** Called when an answer is 401: the page asks for the token. */
let onUnauthorized: (error: ApiError) => void = () => {};
export function whenUnauthorized(handler: (error: ApiError) => void): void {
  onUnauthorized = handler;
}

async function call<T>(method: string, path: string, init: { body?: unknown; ifMatch?: number } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
  if (method !== 'GET') headers['x-sluice-actor'] = CONSOLE_ACTOR;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.ifMatch !== undefined) headers['if-match'] = `"${init.ifMatch}"`;
  const response = await fetch(path, { method, headers, ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }) });
  const text = await response.text();
  const json = text === '' ? undefined : (JSON.parse(text) as unknown);
  if (!response.ok) {
    const refusal = (json as Partial<ErrorBody> | undefined)?.error;
    const error = new ApiError(response.status, refusal?.code ?? `HTTP_${response.status}`, refusal?.message ?? response.statusText, refusal?.path);
    if (response.status === 401) onUnauthorized(error);
    throw error;
  }
  return json as T;
}

export function get<T>(path: string): Promise<T> {
  return call<T>('GET', path);
}

export function send<T>(method: 'PUT' | 'POST' | 'DELETE', path: string, init: { body?: unknown; ifMatch?: number } = {}): Promise<T> {
  return call<T>(method, path, init);
}

/** A refusal in words a person can act on: what the API said, and what to do for the usual ones. */
export function explain(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  const where = error.path === undefined ? '' : ` (at ${error.path})`;
  switch (error.status) {
    case 412:
      return `Someone changed sluice since this page read it (${error.code}): ${error.message} The page now shows the current state; check it and try again.`;
    case 409:
      return `Refused (${error.code}): ${error.message}`;
    case 401:
      return `The admin token is missing or wrong (${error.code}): ${error.message}`;
    default:
      return `${error.code}: ${error.message}${where}`;
  }
}
