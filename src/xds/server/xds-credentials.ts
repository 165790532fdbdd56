// TLS for the xDS port: gRPC server credentials built from a certificate, its key and, optionally,
// the CA that client certificates must chain to (then every client must present one). Re-reads the
// files on a timer and, when they changed and form a valid pair, hands the new pair to the server
// for new handshakes (open connections keep theirs); a half-written rotation keeps the old pair.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';

export interface XdsTlsFiles {
  certFile: string;
  keyFile: string;
  /** Client certificates must chain to this CA; without it, clients are not asked for one. */
  clientCaFile?: string;
}

export const DEFAULT_TLS_RELOAD_INTERVAL_MS = 1000;

/** A certificate, key or CA file that cannot be read or used; sluice refuses to start on one. */
export class XdsTlsError extends Error {
  override name = 'XdsTlsError';
}

interface Material {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

/** Server credentials whose certificate can be replaced while the server runs. */
class ReloadableServerCredentials extends grpc.ServerCredentials {
  constructor(verifyClients: boolean, initial: SecureContextOptions) {
    super({ requestCert: verifyClients, rejectUnauthorized: verifyClients }, initial);
  }

  replace(options: SecureContextOptions): void {
    this.updateSecureContextOptions(options);
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

/** Why the material cannot serve TLS, or undefined when it can (the key matches the certificate, the CA parses). */
function materialProblem(material: Material): string | undefined {
  try {
    new X509Certificate(material.cert);
    if (material.ca) new X509Certificate(material.ca);
    createSecureContext({ cert: material.cert, key: material.key, ...(material.ca ? { ca: material.ca } : {}) });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function contextOptions(material: Material): SecureContextOptions {
  return { cert: [material.cert], key: [material.key], ...(material.ca ? { ca: material.ca } : {}) };
}

function describe(material: Material): { serial: string; fingerprint256: string; validTo: string } {
  const certificate = new X509Certificate(material.cert);
  return { serial: certificate.serialNumber, fingerprint256: certificate.fingerprint256, validTo: certificate.validTo };
}

function sameMaterial(a: Material, b: Material): boolean {
  return a.cert.equals(b.cert) && a.key.equals(b.key) && (a.ca === undefined || (b.ca !== undefined && a.ca.equals(b.ca)));
}

export interface XdsCredentials {
  credentials: grpc.ServerCredentials;
  /** Clients must present a certificate that chains to the client CA. */
  verifiesClients: boolean;
  /** Stops watching the files. */
  close(): void;
}

/** Reads and checks the files now (an XdsTlsError when they cannot serve), then re-reads them every `intervalMs`. */
export function watchXdsCredentials(files: XdsTlsFiles, logger: Logger, intervalMs = DEFAULT_TLS_RELOAD_INTERVAL_MS): XdsCredentials {
  const readNow = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new XdsTlsError(`cannot read the xDS TLS ${what} ${path}: ${(error as Error).message}`);
    }
  };
  let current: Material = {
    cert: readNow(files.certFile, 'certificate'),
    key: readNow(files.keyFile, 'key'),
    ...(files.clientCaFile ? { ca: readNow(files.clientCaFile, 'client CA') } : {}),
  };
  const problem = materialProblem(current);
  if (problem !== undefined) {
    throw new XdsTlsError(`the xDS TLS files cannot serve (${files.certFile}, ${files.keyFile}${files.clientCaFile ? `, ${files.clientCaFile}` : ''}): ${problem}`);
  }
  const verifiesClients = files.clientCaFile !== undefined;
  const credentials = new ReloadableServerCredentials(verifiesClients, contextOptions(current));
  logger.info({ ...describe(current), verifiesClients }, 'xDS serves TLS');

  let rejected: Material | undefined;
  let reading = false;
  const reload = async (): Promise<void> => {
    const [cert, key, ca] = await Promise.all([
      readFile(files.certFile),
      readFile(files.keyFile),
      files.clientCaFile ? readFile(files.clientCaFile) : Promise.resolve(undefined),
    ]);
    const next: Material = { cert, key, ...(ca ? { ca } : {}) };
    if (sameMaterial(next, current) || (rejected && sameMaterial(next, rejected))) return;
    const nextProblem = materialProblem(next);
    if (nextProblem !== undefined) {
      // Often a rotation caught between writing the certificate and the key: the next read settles it.
      rejected = next;
      logger.warn({ problem: nextProblem }, 'the xDS TLS files changed but cannot serve; new connections keep the previous certificate');
      return;
    }
    current = next;
    rejected = undefined;
    credentials.replace(contextOptions(next));
    logger.info(describe(next), 'xDS TLS certificate reloaded: new connections use it');
  };
  const timer = setInterval(() => {
    if (reading) return;
    reading = true;
    reload()
      .catch((error: Error) => logger.warn({ err: error.message }, 'cannot re-read the xDS TLS files; keeping the previous certificate'))
      .finally(() => (reading = false));
  }, intervalMs);
  timer.unref();
  return { credentials, verifiesClients, close: () => clearInterval(timer) };
}
