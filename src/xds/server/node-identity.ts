// A proxy's identity, read from the client certificate its TLS handshake verified: the SPIFFE ID in
// its URI SAN (spiffe://<trust-domain>/…) when it has exactly one, else its subject common name.
// Reads only the certificate grpc-js hands over; what an identity may claim is identity-policy.ts's.

import type { PeerCertificate } from 'node:tls';

const SPIFFE_PREFIX = 'spiffe://';

/**
 * The entries of Node's `subjectaltname` text (`DNS:a, URI:spiffe://…, IP Address:…`); Node quotes
 * an entry holding a comma or quote as a JSON string, so a name cannot forge a second entry.
 */
export function subjectAltNames(text: string | undefined): { kind: string; value: string }[] {
  const names: { kind: string; value: string }[] = [];
  const entry = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (const match of (text ?? '').matchAll(entry)) {
    const raw = match[2]!;
    names.push({ kind: match[1]!, value: raw.startsWith('"') ? (JSON.parse(raw) as string) : raw });
  }
  return names;
}

/** The certificate's identity, or undefined when it names none (or several SPIFFE IDs). */
export function identityOf(certificate: PeerCertificate | undefined): string | undefined {
  if (certificate === undefined) return undefined;
  const spiffeIds = subjectAltNames(certificate.subjectaltname).filter((n) => n.kind === 'URI' && n.value.startsWith(SPIFFE_PREFIX));
  if (spiffeIds.length > 1) return undefined;
  if (spiffeIds.length === 1) return spiffeIds[0]!.value;
  const commonName = certificate.subject?.CN;
  // Node gives a repeated attribute as a list; an ambiguous name is no identity.
  return typeof commonName === 'string' && commonName !== '' ? commonName : undefined;
}

/** The identity's own name: a SPIFFE ID's last path segment (`…/sa/edge` → `edge`), a common name as it is. */
export function identityName(identity: string): string {
  if (!identity.startsWith(SPIFFE_PREFIX)) return identity;
  return identity.slice(SPIFFE_PREFIX.length).split('/').at(-1) ?? '';
}
