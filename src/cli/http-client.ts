// The CLI's HTTP client for the admin API: one JSON request at a time with the bearer token and
// If-Match, turning "no sluice there" into a one-line CliError (exit 2) and the server's error
// answers into RejectedError. Knows the wire, not what any command means.

import { CliError, EXIT_USAGE, RejectedError, type ErrorBody } from './cli-error.js';

const TIMEOUT_MS = 30_000;

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
};

export interface RequestOptions {
  body?: unknown;
  /** Sent as `If-Match: "<revision>"`: the server refuses the change (412) if the state moved on. */
  ifMatch?: number;
}

/** Why fetch failed, from its cause (an AggregateError when every address of a host refused). */
function failure(error: unknown): { code?: string; reason: string } {
  if (error instanceof DOMException && error.name === 'TimeoutError') return { reason: `no answer within ${TIMEOUT_MS / 1000} s` };
  const cause = (error as { cause?: { code?: unknown; message?: unknown; errors?: { code?: unknown }[] } }).cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  if (typeof code === 'string') return { code, reason: REASONS[code] ?? code };
  return { reason: typeof cause?.message === 'string' ? cause.message : String(error) };
}

function isErrorBody(value: unknown): value is { error: ErrorBody } {
  const error = (value as { error?: Partial<ErrorBody> } | null)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string';
}

export class AdminClient {
  constructor(
    /** The admin API's base URL, without a trailing slash. */
    readonly server: string,
    private readonly token: string | undefined,
  ) {}

  async request<T>(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    if (options.ifMatch !== undefined) headers['if-match'] = `"${options.ifMatch}"`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.server}${path}`, {
        method,
        headers,
        body: options.body === undefined ? null : JSON.stringify(options.body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      text = await response.text();
    } catch (error) {
      throw this.unreachable(error);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CliError(`${this.server} answered ${method} ${path} with HTTP ${response.status} and no JSON: is it sluice's admin API?`, EXIT_USAGE);
    }
    if (response.ok) return json as T;
    if (isErrorBody(json)) {
      const { error } = json;
      const hint = error.code === 'SLUICE_UNAUTHORIZED' && this.token === undefined ? ' Give the token with --token or SLUICE_TOKEN.' : '';
      throw new RejectedError({ ...error, message: `${error.message}${hint}` }, json);
    }
    throw new CliError(`${this.server} answered ${method} ${path} with HTTP ${response.status}: ${text}`, EXIT_USAGE);
  }

  /**
   * A long GET (e.g. the event stream) as a byte stream, or undefined when the server answers it
   * with an error (an older sluice without it). Ends when `signal` aborts.
   */
  async stream(path: string, signal: AbortSignal): Promise<ReadableStream<Uint8Array> | undefined> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await fetch(`${this.server}${path}`, { headers, signal });
    } catch (error) {
      throw this.unreachable(error);
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      return undefined;
    }
    return response.body;
  }

  private unreachable(error: unknown): CliError {
    const { code, reason } = failure(error);
    const hint = code === 'ECONNREFUSED' ? ' — is `sluice serve` running?' : ' — check --server or SLUICE_SERVER';
    return new CliError(`cannot reach sluice at ${this.server}: ${reason}${hint}`, EXIT_USAGE);
  }
}
