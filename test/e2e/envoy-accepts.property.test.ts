// Whatever sluice accepts, a real Envoy accepts. fast-check generates service bodies full of edge
// values (durations at and past Envoy's range, long cookie names and values, lone surrogates, NUL,
// CR and LF, odd prefixes, hosts, header names, numbers at and past their bounds), PUTs each
// through the admin API of a real sluice with a real Envoy connected, and every accepted body
// must be ACKed by that Envoy (a NACK fails with Envoy's message and the body); every refused one
// must change nothing. Then each known bad example is refused with its code and path.

import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { startStack, type SluiceStack } from '../support/sluice-stack.js';

const NODE_ID = 'property-envoy';
/** Fixed so a failure reproduces; PROPERTY_SEED picks another. */
const SEED = Number(process.env['PROPERTY_SEED'] ?? 71_040);
const RUNS = 150;
const ACK_TIMEOUT_MS = 10_000;
/** How often the wait for the Envoy's verdict reads /v1/proxies. */
const POLL_MS = 20;

let stack: SluiceStack;
/** Loopback ports nothing listens on: health checks fail at once instead of waiting out a long timeout. */
let closedPorts: number[];

beforeAll(async () => {
  closedPorts = [await freePort(), await freePort(), await freePort()];
  // Refused bodies come back in milliseconds: the usual 60 changes a second would refuse runs.
  stack = await startStack({ nodeId: NODE_ID, config: { adminRateLimit: 100_000 } });
});

afterAll(async () => {
  await stack?.stop();
});

/** Mostly values sluice should take, now and then an edge one: enough bodies get through to Envoy. */
function mostly<T>(usual: fc.Arbitrary<T>, edge: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof({ weight: 24, arbitrary: usual }, { weight: 1, arbitrary: edge });
}

const troubleText = fc.constantFrom('', 'é', '🟦', '\ud800', '\udc00', '\u0000', '\r', '\n', ' ', '\t', ';', '=', '.*', '\\', '%00', 'x'.repeat(80));
/** Text that is usually plain, sometimes long, sometimes carrying trouble. */
const textUnit = fc.constantFrom('a', 'b', 'Z', '0', '-', '_', '.', '*', '(', '\\', '=', ' ', 'é', '🟦');
const text = (maxLength: number) =>
  mostly(fc.string({ unit: textUnit, minLength: 1, maxLength }), fc.tuple(fc.string({ maxLength: 4 }), troubleText, fc.string({ maxLength: 4 })).map((parts) => parts.join('')));
const cookieChars = "abcXYZ019!#$%&'*+.^_`|~-";
const cookieName = mostly(fc.string({ unit: fc.constantFrom(...cookieChars), minLength: 1, maxLength: 70 }), text(8));
const headerName = mostly(
  fc.constantFrom('x-user', 'x-beta', 'x-tenant', 'host', 'user-agent', "x-!#$%&'*+.^_`|~", 'x'.repeat(128)),
  fc.constantFrom('cookie', 'X-Upper', ':path', 'x y', '', 'x'.repeat(129), 'x\u0000'),
);
const duration = mostly(
  fc.oneof(fc.constantFrom('1s', '30s', '1m30s', '1.5h', '500ms', '2562047h', '9223369200s', '153722820m'), fc.integer({ min: 1, max: 100_000 }).map((ms) => `${ms}ms`)),
  fc.constantFrom('0s', '2562048h', '999999999999s', '9223372035s', '9223372036s', '153722868m', '0.0001s', '-1s', '1d', '99999999999999999999h'),
);
/** Health checks run against closed ports; an interval under 10ms would only make Envoy spin. */
const checkInterval = mostly(fc.constantFrom('0.5s', '5s', '1m', '2562047h'), fc.constantFrom('0s', '2562048h', '999999999999s', '9223372036s'));
/** At most the shortest usual interval, so the pair is usually consistent. */
const checkTimeout = mostly(fc.constantFrom('10ms', '0.5s'), fc.constantFrom('0s', '2562048h', '999999999999s', '1m'));
const endpointAddress = mostly(fc.constantFrom('127.0.0.1', '127.0.0.2', 'localhost', '::1'), fc.constantFrom('not a host', '', '127.0.0.1.', '[::1]'));

function bodyArbitrary(): fc.Arbitrary<Record<string, unknown>> {
  const versionName = mostly(fc.constantFrom('blue', 'green', 'v2', 'a-b', 'x'.repeat(32)), fc.constantFrom('Bad', 'x'.repeat(33), '-a'));
  const port = mostly(fc.constantFrom(...closedPorts), fc.constantFrom(0, 1, 65535, 65536));
  const version = (address: fc.Arbitrary<string>) => fc.record({ name: versionName, endpoints: fc.array(fc.record({ address, port }), { minLength: 1, maxLength: 2 }) });
  // Host names make STRICT_DNS clusters: a service of those only leaves Envoy asking for no
  // endpoints, and the revision must still count as applied.
  const versions = fc
    .tuple(version(endpointAddress), fc.array(version(endpointAddress), { maxLength: 2 }))
    .map(([first, rest]) => [first, ...rest].filter((v, i, all) => all.findIndex((w) => w.name === v.name) === i));
  return versions.chain((vs) => {
    const names = vs.map((v) => v.name);
    const versionRef = mostly(fc.constantFrom(...names), fc.constant('nope'));
    const weights = mostly(
      fc.integer({ min: 0, max: 10_000 }).map((hundredths) => (names.length === 1 ? { [names[0]!]: 100 } : { [names[0]!]: hundredths / 100, [names[1]!]: 100 - hundredths / 100 })),
      fc.dictionary(fc.constantFrom(...names), fc.oneof(fc.double({ min: -1, max: 101, noNaN: true }), fc.constantFrom(0, 100, 0.001))),
    );
    const matchValues = (name: fc.Arbitrary<string>) => fc.dictionary(name, text(70), { minKeys: 1, maxKeys: 2 });
    const ruleMatch = fc.oneof(
      fc.record({ headers: matchValues(headerName) }),
      fc.record({ cookies: matchValues(cookieName) }),
      fc.record({ headers: matchValues(headerName), cookies: matchValues(cookieName) }),
    );
    const rule = fc.record({ match: ruleMatch, to: versionRef });
    const hashKey = fc.oneof(
      fc.record({ header: headerName }),
      fc.record({ cookie: cookieName, ttl: duration, path: mostly(fc.constantFrom('/', '/app', '/' + 'p'.repeat(1023)), text(8).map((t) => `/${t}`)) }, { requiredKeys: ['cookie'] }),
      fc.constant({ sourceIp: true }),
      fc.record({ queryParameter: mostly(fc.constantFrom('user', 'q', 'x'.repeat(128)), text(8)) }),
    );
    const versionAffinity = fc.oneof(
      fc.record({ by: fc.constantFrom('none', 'sourceIp') }),
      fc.record({ by: fc.constantFrom('header', 'query'), name: headerName }),
      fc.record({ by: fc.constant('cookie'), name: cookieName }),
      fc.record({ by: fc.constant('cohortCookie'), name: cookieName, ttl: duration }, { requiredKeys: ['by', 'name'] }),
    );
    const affinity = fc.oneof(
      fc.record({ version: versionAffinity, lb: fc.constantFrom('ringHash', 'maglev') }, { requiredKeys: ['version'] }),
      fc.record({ hash: fc.array(hashKey, { minLength: 1, maxLength: 2 }), lb: fc.constantFrom('ringHash', 'maglev') }, { requiredKeys: ['hash'] }),
      fc.record({ version: versionAffinity, hash: fc.array(hashKey, { maxLength: 2 }) }),
    );
    const prefix = mostly(
      fc.oneof(fc.constantFrom('/', '/predict', '/a/b/', '/*', '/%2F', '/é', '/🟦', '/' + 'p'.repeat(1023)), fc.webPath().map((p) => `/${p.replace(/^\/+/, '')}`)),
      fc.oneof(fc.constantFrom('/\ud800', '/a\u0000b', '/a\nb', 'predict', '/?x=1', '/#frag'), text(8).map((t) => `/${t}`)),
    );
    const host = mostly(fc.constantFrom('*', 'a.example', '*.example.com', 'example.*', '[::1]', 'host:8080', 'UPPER.example', 'x'.repeat(255)), fc.constantFrom('a b', '*a*', '', 'x'.repeat(256), 'é.example'));
    const body = fc.record(
      {
        match: fc.record({ prefix }),
        hosts: mostly(fc.uniqueArray(host, { minLength: 1, maxLength: 3 }), fc.array(host, { minLength: 1, maxLength: 3 })),
        versions: fc.constant(vs),
        weights,
        stable: versionRef,
        pinHeader: headerName,
        timeout: duration,
        affinity,
        mirror: fc.record({ to: versionRef, percent: mostly(fc.integer({ min: 0, max: 10_000 }).map((h) => h / 100), fc.constantFrom(100.5, 0.001, -1)) }),
        shadow: fc.record(
          {
            to: versionRef,
            percent: mostly(fc.integer({ min: 0, max: 10_000 }).map((h) => h / 100), fc.constantFrom(100.5, 0.001, -1)),
            compare: fc.oneof(
              fc.record({ kind: fc.constantFrom('json-equal', 'oip') }),
              fc.record(
                {
                  kind: fc.constantFrom('numeric', 'label'),
                  path: mostly(fc.constantFrom('', '/prediction', '/outputs/0/data', '/a~1b/~0', '/é/🟦'), fc.constantFrom('prediction', '/\u0000', 'x'.repeat(257))),
                },
              ),
              fc.record({ kind: fc.constant('numeric'), path: fc.constant('/p'), absolute: mostly(fc.constantFrom(0, 0.001, 1e12), fc.constantFrom(-1, 1e13)), relative: fc.constantFrom(0, 0.5) }),
            ),
            keep: mostly(fc.constantFrom('answers', 'hashes'), fc.constantFrom('all', '')),
          },
          { requiredKeys: ['to', 'percent', 'compare'] },
        ),
        rules: fc.array(rule, { maxLength: 3 }),
        protocol: mostly(fc.constantFrom('http1', 'http2', 'grpc'), fc.constantFrom('h2', 'GRPC', '')),
        outlierDetection: fc.record(
          {
            consecutive5xx: mostly(fc.constantFrom(1, 5, 1000), fc.constantFrom(0, 1001)),
            interval: duration,
            baseEjectionTime: duration,
            maxEjectionPercent: mostly(fc.constantFrom(1, 50, 100), fc.constantFrom(0, 101)),
          },
          { requiredKeys: [] },
        ),
        healthCheck: fc.record(
          {
            path: mostly(fc.constantFrom('/healthz', '/', '/' + 'h'.repeat(1023), "/h?x=1&y=%20!$'()*+,;=:@"), fc.constantFrom('/health\u0000z', '/health\r\nz', '/h\ud800', 'healthz', '/h z')),
            grpcService: mostly(fc.constantFrom('', 'inference.GRPCInferenceService', 'x'.repeat(256)), fc.constantFrom('a b', 'x'.repeat(257), 'é', '/x')),
            interval: checkInterval,
            timeout: checkTimeout,
            unhealthyThreshold: mostly(fc.constantFrom(1, 2, 100), fc.constantFrom(0, 101)),
            healthyThreshold: mostly(fc.constantFrom(1, 100), fc.constantFrom(0, 101)),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: ['match', 'versions'] },
    );
    // A health check's target mostly suits the protocol (a path for HTTP, a gRPC service name for grpc).
    // A shadow mostly stands alone (not beside a mirror) and names a version that is not the stable one.
    // Half the time there is none, so enough bodies without its own troubles get through.
    const alone = fc.tuple(body, fc.boolean()).map(([b, keepShadow]) => {
      const { shadow: generated, ...withoutShadow } = b;
      const shadow = keepShadow ? (generated as Record<string, unknown> | undefined) : undefined;
      if (shadow === undefined) return withoutShadow;
      const { mirror: _mirror, ...rest } = b;
      const stable = (b['stable'] as string | undefined) ?? names[0];
      const other = names.find((n) => n !== stable);
      if (other === undefined) return rest;
      return { ...rest, shadow: { ...shadow, to: shadow['to'] === stable ? other : shadow['to'] } };
    });
    const suited = fc.tuple(mostly(alone, body), fc.integer({ min: 0, max: 24 })).map(([b, dice]) => {
      const check = b['healthCheck'] as Record<string, unknown> | undefined;
      if (check === undefined || dice === 0) return b;
      const { path, grpcService, ...rest } = check;
      return { ...b, healthCheck: b['protocol'] === 'grpc' ? { ...rest, ...(grpcService === undefined ? {} : { grpcService }) } : { ...rest, ...(path === undefined ? {} : { path }) } };
    });
    return suited as fc.Arbitrary<Record<string, unknown>>;
  });
}

/** The Envoy's proxy entry in /v1/proxies. */
async function proxy(): Promise<any> {
  const { json } = await stack.admin('GET', '/v1/proxies');
  return json.proxies.find((p: any) => p.node.id === NODE_ID);
}

/** Each type's last NACK, as `<type>: <Envoy's message> (<when>)`. */
function nacks(entry: any): string[] {
  return Object.entries(entry?.resources ?? {}).flatMap(([type, status]: [string, any]) =>
    status.lastNack ? [`${type}: ${status.lastNack.message} (${status.lastNack.at})`] : [],
  );
}

/** Waits (bounded) until the Envoy has applied `revision` or NACKed anything new; returns the new NACKs. */
async function envoyVerdict(revision: number, nacksBefore: string[]): Promise<string[]> {
  const deadline = Date.now() + ACK_TIMEOUT_MS;
  let last: any;
  while (Date.now() < deadline) {
    last = await proxy();
    const rejected = nacks(last).filter((nack) => !nacksBefore.includes(nack));
    if (rejected.length > 0) return rejected;
    if (last?.appliedRevision !== null && last?.appliedRevision >= revision) return [];
    await sleep(POLL_MS);
  }
  return [`neither ACK nor NACK of revision ${revision} within ${ACK_TIMEOUT_MS} ms: ${JSON.stringify(last)}`];
}

describe('a real Envoy accepts every service body sluice accepts', () => {
  it(`generated bodies (${RUNS} runs, seed ${SEED})`, async () => {
    let accepted = 0;
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(bodyArbitrary(), async (body) => {
        const before = stack.sluice.store.current();
        const nacksBefore = nacks(await proxy());
        const put = await stack.admin('PUT', '/v1/services/prop', body);
        const shown = JSON.stringify(body);
        codes.set(put.json.error?.code ?? 'accepted', (codes.get(put.json.error?.code ?? 'accepted') ?? 0) + 1);
        if (put.status !== 200) {
          expect(put.status, `${shown} → ${JSON.stringify(put.json)}`).toBeGreaterThanOrEqual(400);
          expect(put.status, `${shown} → ${JSON.stringify(put.json)}`).toBeLessThan(500);
          expect(put.json.error.code).toMatch(/^SLUICE_/);
          expect(stack.sluice.store.current()).toBe(before);
          return;
        }
        accepted += 1;
        const rejected = await envoyVerdict(put.json.revision, nacksBefore);
        expect(rejected, `seed ${SEED}: Envoy rejected the accepted body ${shown}`).toEqual([]);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    // Many bodies carry some trouble, but the property must also have seen accepted ones.
    expect(accepted, JSON.stringify([...codes])).toBeGreaterThanOrEqual(RUNS / 5);
  }, 120_000);
});

describe('the known bad examples are refused with their code and path, and change nothing', () => {
  const good = (): Record<string, unknown> => ({
    match: { prefix: '/known' },
    versions: [
      { name: 'blue', endpoints: [{ address: '127.0.0.1', port: closedPorts[0] }] },
      { name: 'green', endpoints: [{ address: '127.0.0.1', port: closedPorts[1] }] },
    ],
  });
  const cookie60 = 'c'.repeat(60);

  it.each<[string, () => Record<string, unknown>, string, string]>([
    ['a timeout of 2562048h', () => ({ ...good(), timeout: '2562048h' }), 'SLUICE_DURATION_TOO_LONG', '/timeout'],
    ['an outlier-detection interval of 999999999999s', () => ({ ...good(), outlierDetection: { interval: '999999999999s' } }), 'SLUICE_DURATION_TOO_LONG', '/outlierDetection/interval'],
    ['a health-check interval of 999999999999s', () => ({ ...good(), healthCheck: { interval: '999999999999s' } }), 'SLUICE_DURATION_TOO_LONG', '/healthCheck/interval'],
    ['a hash-cookie ttl of 999999999999s', () => ({ ...good(), affinity: { hash: [{ cookie: 'session', ttl: '999999999999s' }] } }), 'SLUICE_DURATION_TOO_LONG', '/affinity/hash/0/ttl'],
    ['a health-check path with NUL', () => ({ ...good(), healthCheck: { path: '/health\u0000z' } }), 'SLUICE_INVALID_TEXT', '/healthCheck/path'],
    ['a long cookie name and value in a rule', () => ({ ...good(), rules: [{ match: { cookies: { [cookie60]: 'gold1' } }, to: 'green' }] }), 'SLUICE_COOKIE_MATCH_TOO_LONG', `/rules/0/match/cookies/${cookie60}`],
    ['a long cohort cookie name', () => ({ ...good(), affinity: { version: { by: 'cohortCookie', name: cookie60 } } }), 'SLUICE_COOKIE_MATCH_TOO_LONG', '/affinity/version/name'],
    ['a lone surrogate in a header value', () => ({ ...good(), rules: [{ match: { headers: { 'x-beta': 'yes\ud800' } }, to: 'green' }] }), 'SLUICE_INVALID_TEXT', '/rules/0/match/headers/x-beta'],
    ['a lone surrogate in a cookie value', () => ({ ...good(), rules: [{ match: { cookies: { tier: '\udc00' } }, to: 'green' }] }), 'SLUICE_INVALID_TEXT', '/rules/0/match/cookies/tier'],
    ['a lone surrogate in match.prefix', () => ({ ...good(), match: { prefix: '/known\ud800' } }), 'SLUICE_INVALID_TEXT', '/match/prefix'],
  ])('%s', async (_name, body, code, path) => {
    const before = stack.sluice.store.current();
    const put = await stack.admin('PUT', '/v1/services/known', body());
    expect(put.status).toBe(422);
    expect(put.json.error).toMatchObject({ code, path });
    expect(stack.sluice.store.current()).toBe(before);
  });

  it('the same service at the limits is accepted and ACKed', async () => {
    const atLimits = {
      ...good(),
      timeout: '2562047h',
      outlierDetection: { interval: '2562047h', baseEjectionTime: '2562047h' },
      affinity: { version: { by: 'cohortCookie', name: 'c'.repeat(59), ttl: '2562047h' } },
      rules: [{ match: { cookies: { [cookie60]: 'gold' } }, to: 'green' }],
    };
    const nacksBefore = nacks(await proxy());
    const put = await stack.admin('PUT', '/v1/services/known', atLimits);
    expect(put.status, JSON.stringify(put.json)).toBe(200);
    expect(await envoyVerdict(put.json.revision, nacksBefore)).toEqual([]);
  });
});
