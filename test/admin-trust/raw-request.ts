// One HTTP(S) request with full control of what browsers and fetch() keep out of a caller's hands:
// the Host header, the trusted CA, a client certificate. Resolves with the status and body text,
// rejects with the socket or TLS error. For tests of the admin API's guards and TLS.

import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { checkServerIdentity } from 'node:tls';

export interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** PEM files: the CA the server must chain to, and a client certificate with its key. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface RawAnswer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

export function rawRequest(url: string, options: RawRequest = {}): Promise<RawAnswer> {
  const target = new URL(url);
  const tls = {
    ...(options.caFile === undefined ? {} : { ca: readFileSync(options.caFile) }),
    ...(options.certFile === undefined ? {} : { cert: readFileSync(options.certFile) }),
    ...(options.keyFile === undefined ? {} : { key: readFileSync(options.keyFile) }),
    // The certificate is checked against the URL's host, whatever the Host header says.
    checkServerIdentity: (_host: string, certificate: Parameters<typeof checkServerIdentity>[1]) => checkServerIdentity(target.hostname, certificate),
  };
  const common = { method: options.method ?? 'GET', headers: options.headers ?? {}, signal: AbortSignal.timeout(10_000) };
  return new Promise((resolve, reject) => {
    const onAnswer = (response: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('error', reject);
      response.once('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    };
    const request = target.protocol === 'https:' ? httpsRequest(target, { ...common, ...tls }, onAnswer) : httpRequest(target, common, onAnswer);
    request.once('error', reject);
    request.end(options.body);
  });
}
