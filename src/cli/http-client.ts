// The CLI's HTTP(S) client for the admin API: one JSON request at a time with the bearer token
// and If-Match, over HTTPS trusting the system's CAs or the one given (--cacert) and showing a
// client certificate when given one (--cert/--key), turning "no sluice there", an untrusted
// certificate or a refused client certificate into a one-line CliError (exit 2) and the server's
// error answers into RejectedError. Knows the wire, not what any command means.

import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
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

/** TLS failures that mean the server's certificate is not trusted (or not for this host). */
const UNTRUSTED_CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** TLS alerts by which the server refuses the client's certificate, or its lack of one. */
const CLIENT_CERTIFICATE_REFUSALS: Readonly<Record<string, string>> = {
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'the admin API asks for a client certificate',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'the admin API refused the TLS handshake (it may ask for a client certificate)',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'the admin API does not trust the client certificate',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'the admin API refused the client certificate',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'the admin API refused the client certificate as expired',
};

/** What an https:// request shows of itself: the CA it trusts, its certificate and key (PEM). */
export interface ClientTls {
  ca?: string;
  cert?: string;
  key?: string;
}

/** The PEM CA bundle in `path` (`--cacert`), or a usage error naming the file. */
export function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the CA file ${path} (--cacert or SLUICE_CACERT): ${(error as Error).message}`, EXIT_USAGE);
  }
}

/** The client certificate and key (`--cert`/`--key`), checked to make a pair, or a usage error naming the files. */
export function readClientCertificate(certFile: string, keyFile: string): { cert: string; key: string } {
  const read = (path: string, flag: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read the ${flag === 'cert' ? 'client certificate' : 'client key'} file ${path} (--${flag} or SLUICE_${flag.toUpperCase()}): ${(error as Error).message}`, EXIT_USAGE);
    }
  };
  const pair = { cert: read(certFile, 'cert'), key: read(keyFile, 'key') };
  try {
    createSecureContext(pair);
  } catch (error) {
    throw new CliError(`the client certificate ${certFile} and key ${keyFile} cannot be used together (--cert and --key): ${(error as Error).message}`, EXIT_USAGE);
  }
  return pair;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as `If-Match: "<revision>"`: the server refuses the change (412) if the state moved on. */
  ifMatch?: number;
}

/** Why a request failed (an AggregateError when every address of a host refused). */
function failure(error: unknown, signal: AbortSignal): { code?: string; reason: string } {
  if (signal.aborted && (signal.reason as { name?: unknown } | undefined)?.name === 'TimeoutError') {
    return { reason: `no answer within ${TIMEOUT_MS / 1000} s` };
  }
  const failed = error as { code?: unknown; message?: unknown; errors?: { code?: unknown }[] };
  const code = failed.code ?? failed.errors?.[0]?.code;
  const message = typeof failed.message === 'string' ? failed.message : String(error);
  if (typeof code === 'string') return { code, reason: REASONS[code] ?? (UNTRUSTED_CERTIFICATE_CODES.has(code) ? message : code) };
  return { reason: message };
}

async function readText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
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
    /** The CA the server's certificate must chain to (the system's CAs without it) and the client certificate. */
    private readonly tls: ClientTls = {},
  ) {}

  /** Sends one request and resolves with the answer's head (its body still to be read). */
  private send(method: string, path: string, headers: OutgoingHttpHeaders, body: string | undefined, signal: AbortSignal): Promise<IncomingMessage> {
    const url = new URL(`${this.server}${path}`);
    return new Promise((resolve, reject) => {
      const request =
        url.protocol === 'https:'
          ? httpsRequest(url, { method, headers, signal, ...this.tls }, resolve)
          : httpRequest(url, { method, headers, signal }, resolve);
      request.once('error', reject);
      request.end(body);
    });
  }

  async request<T>(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    if (options.ifMatch !== undefined) headers['if-match'] = `"${options.ifMatch}"`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const signal = AbortSignal.timeout(TIMEOUT_MS);
    let status: number;
    let text: string;
    try {
      const response = await this.send(method, path, headers, options.body === undefined ? undefined : JSON.stringify(options.body), signal);
      status = response.statusCode ?? 0;
      text = await readText(response);
    } catch (error) {
      throw this.unreachable(error, signal);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CliError(`${this.server} answered ${method} ${path} with HTTP ${status} and no JSON: is it sluice's admin API?`, EXIT_USAGE);
    }
    if (status >= 200 && status < 300) return json as T;
    if (isErrorBody(json)) {
      const { error } = json;
      const hint = error.code === 'SLUICE_UNAUTHORIZED' && this.token === undefined ? ' Give the token with --token or SLUICE_TOKEN.' : '';
      throw new RejectedError({ ...error, message: `${error.message}${hint}` }, json);
    }
    throw new CliError(`${this.server} answered ${method} ${path} with HTTP ${status}: ${text}`, EXIT_USAGE);
  }

  /**
   * A long GET (e.g. the event stream) as a byte stream, or undefined when the server answers it
   * with an error (an older sluice without it). Ends when `signal` aborts.
   */
  async stream(path: string, signal: AbortSignal): Promise<ReadableStream<Uint8Array> | undefined> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    let response: IncomingMessage;
    try {
      response = await this.send('GET', path, headers, undefined, signal);
    } catch (error) {
      throw this.unreachable(error, signal);
    }
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      response.destroy();
      return undefined;
    }
    return Readable.toWeb(response) as ReadableStream<Uint8Array>;
  }

  private unreachable(error: unknown, signal: AbortSignal): CliError {
    const { code, reason } = failure(error, signal);
    const certificateFix =
      this.tls.cert === undefined
        ? 'give one with --cert and --key (or SLUICE_CERT and SLUICE_KEY)'
        : 'give one issued by the CA the admin API trusts for clients (--admin-client-ca)';
    const refusal = code === undefined ? undefined : CLIENT_CERTIFICATE_REFUSALS[code];
    if (refusal !== undefined) return new CliError(`cannot reach sluice at ${this.server}: ${refusal} — ${certificateFix}`, EXIT_USAGE);
    // A server that refuses the certificate after TLS 1.3's handshake may just close the connection.
    if (code === 'ECONNRESET' && this.tls.cert !== undefined && this.server.startsWith('https:')) {
      return new CliError(`cannot reach sluice at ${this.server}: ${reason}, perhaps over the client certificate — ${certificateFix}`, EXIT_USAGE);
    }
    const hint =
      code === 'ECONNREFUSED'
        ? ' — is `sluice serve` running?'
        : code !== undefined && UNTRUSTED_CERTIFICATE_CODES.has(code)
          ? " — give the CA of the admin API's certificate with --cacert or SLUICE_CACERT"
          : ' — check --server or SLUICE_SERVER';
    return new CliError(`cannot reach sluice at ${this.server}: ${reason}${hint}`, EXIT_USAGE);
  }
}
