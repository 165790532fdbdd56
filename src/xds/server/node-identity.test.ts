import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { identityName, identityOf, subjectAltNames } from './node-identity.js';

const cert = (subjectaltname: string | undefined, CN?: string): PeerCertificate =>
  ({ subject: CN === undefined ? {} : { CN }, ...(subjectaltname === undefined ? {} : { subjectaltname }) }) as unknown as PeerCertificate;

describe('a certificate identity', () => {
  it('is the SPIFFE URI SAN, else the common name', () => {
    expect(identityOf(cert('DNS:edge.local, URI:spiffe://example.org/ns/ml/sa/edge', 'edge-cn'))).toBe('spiffe://example.org/ns/ml/sa/edge');
    expect(identityOf(cert('DNS:edge.local, URI:https://example.org/x', 'edge-cn'))).toBe('edge-cn');
    expect(identityOf(cert(undefined, 'core'))).toBe('core');
  });

  it('is none with two SPIFFE IDs, no name, or no certificate', () => {
    expect(identityOf(cert('URI:spiffe://a/x, URI:spiffe://a/y', 'cn'))).toBeUndefined();
    expect(identityOf(cert(undefined))).toBeUndefined();
    expect(identityOf(undefined)).toBeUndefined();
  });

  it("cannot be forged by a quoted SAN entry holding a comma (Node quotes it as JSON)", () => {
    const names = subjectAltNames('DNS:"a, URI:spiffe://evil/x", URI:spiffe://good/y');
    expect(names).toEqual([
      { kind: 'DNS', value: 'a, URI:spiffe://evil/x' },
      { kind: 'URI', value: 'spiffe://good/y' },
    ]);
    expect(identityOf(cert('DNS:"a, URI:spiffe://evil/x", URI:spiffe://good/y'))).toBe('spiffe://good/y');
  });

  it("has a name: a SPIFFE ID's last segment, a common name itself", () => {
    expect(identityName('spiffe://example.org/ns/ml/sa/edge')).toBe('edge');
    expect(identityName('core')).toBe('core');
  });
});
