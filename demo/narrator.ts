// The demo's running commentary, read from the admin API's event stream (`GET /v1/events`): one
// readable line per commit (weights, promote, rollback with the weights they moved; anything else by
// its summary), rollout decision, proxy connecting or leaving, and NACK with Envoy's own message.
// The line makers are pure; `narrate` is an HTTP client of the admin API and changes nothing.

import { readFrames } from '../src/api/event-frames.js';
import type { EventData, NackEvent, RevisionEvent, RolloutEvent } from '../src/api/events.js';
import type { ServicesAnswer } from '../src/api/desired-state.js';
import type { ProxiesAnswer, ProxyReport } from '../src/api/fleet.js';
import type { Weights } from '../src/model/types.js';

/** The events the narration tells (ACKs are too many to read). */
export const NARRATED_EVENT_TYPES = ['revision', 'rollout', 'proxy-connected', 'proxy-disconnected', 'nack'] as const;

/** Changes that belong to a rollout: its own `rollout` events tell them. */
const ROLLOUT_CHANGES = new Set(['startRollout', 'steerRollout', 'rolloutUpdate', 'noteRollout']);

/** How a proxy connects, as a `proxy-connected` event or a `/v1/proxies` entry tells it. */
export interface ProxyClient {
  node: string;
  cluster: string;
  envoyVersion: string;
  userAgent?: string | undefined;
  clientVersion?: string | undefined;
  transport: 'sotw' | 'delta';
  aggregated: boolean;
}

/** What the narration remembers of a service: its versions in order and its weights now. */
export interface KnownService {
  versions: string[];
  weights: Weights;
}

function byline(event: { actor: string; revision: number }): string {
  return `(by ${event.actor}, revision ${event.revision})`;
}

/** `blue 90 → 50, green 10 → 50`: every version of the service, an arrow where its weight changed. */
export function weightChanges(before: Weights | undefined, after: Weights, order: string[]): string {
  const names = [...new Set([...order, ...Object.keys(after)])];
  return names
    .map((name) => {
      const from = before?.[name] ?? 0;
      const to = after[name] ?? 0;
      return from === to ? `${name} ${to}` : `${name} ${from} → ${to}`;
    })
    .join(', ');
}

/**
 * The line for a commit, or none for a rollout's (its decisions are told as rollout events);
 * `known` is the service as it was before the commit, when the narration knew it.
 */
export function revisionLine(event: RevisionEvent, known: KnownService | undefined): string | undefined {
  if (ROLLOUT_CHANGES.has(event.change)) return undefined;
  const by = byline(event);
  const { service, weights } = event;
  if (service !== undefined && weights !== undefined && ['setWeights', 'promote', 'rollback'].includes(event.change)) {
    const moved = weightChanges(known?.weights, weights, known?.versions ?? []);
    if (event.change === 'setWeights') return `weights ${service}: ${moved} ${by}`;
    // Promote and rollback both send all traffic to the version that is stable after them.
    const stable = Object.keys(weights).find((version) => weights[version] === 100);
    if (event.change === 'promote') return `promote ${service}: ${stable} is stable; ${moved} ${by}`;
    return `rollback ${service}: all traffic back to stable ${stable}; ${moved} ${by}`;
  }
  return `${event.summary} ${by}`;
}

export function rolloutLine(event: RolloutEvent): string {
  return `rollout ${event.service}: ${event.message} ${byline(event)}`;
}

export function connectedLine(proxy: ProxyClient): string {
  const client = proxy.envoyVersion ? `envoy ${proxy.envoyVersion}` : `${proxy.userAgent ?? ''} ${proxy.clientVersion ?? ''}`.trim();
  const transport = `${proxy.aggregated ? 'ADS' : 'per-type services'}${proxy.transport === 'delta' ? ' (delta)' : ''}`;
  const parts = [client, proxy.cluster ? `node cluster ${proxy.cluster}` : '', transport].filter(Boolean);
  return `proxy ${proxy.node} connected (${parts.join(', ')})`;
}

export function nackLine(event: NackEvent): string {
  return `NACK from ${event.node}: rejected ${event.resourceType} version ${event.version}: ${event.message}`;
}

/** A `/v1/proxies` entry told like the `proxy-connected` event of its first stream. */
export function proxyClient(report: ProxyReport): ProxyClient {
  return {
    node: report.node.id,
    cluster: report.node.cluster,
    envoyVersion: report.envoyVersion,
    userAgent: report.userAgent,
    clientVersion: report.clientVersion,
    transport: report.streams[0]?.kind ?? 'sotw',
    aggregated: report.streams.some((stream) => stream.aggregated),
  };
}

/**
 * Turns events into lines, remembering each service's weights (from `/v1/services`, then from
 * every revision event that carries them) and which proxies it told connected.
 */
export class Narration {
  private readonly services = new Map<string, KnownService>();
  private readonly connected = new Set<string>();
  private readonly knownRevision: number;

  /** `services` as `/v1/services` answered (with its revision); `proxies` connected now. */
  constructor(
    services: ServicesAnswer,
    private readonly proxies: ProxiesAnswer['proxies'],
  ) {
    this.knownRevision = services.revision;
    for (const service of services.services) this.services.set(service.name, { versions: service.versions.map((v) => v.name), weights: service.weights });
  }

  /** The lines for the proxies connected when the narration began. */
  opening(): string[] {
    return this.proxies.map((report) => {
      this.connected.add(report.node.id);
      return connectedLine(proxyClient(report));
    });
  }

  linesFor(event: EventData): string[] {
    switch (event.type) {
      case 'revision':
        return this.revision(event);
      case 'rollout':
        return [rolloutLine(event)];
      case 'proxy-connected':
        if (this.connected.has(event.node)) return [];
        this.connected.add(event.node);
        return [connectedLine(event)];
      case 'proxy-disconnected':
        this.connected.delete(event.node);
        return [`proxy ${event.node} disconnected`];
      case 'nack':
        return [nackLine(event)];
      case 'reset':
        return [`some events were missed: ${event.message}`];
      default:
        return [];
    }
  }

  private revision(event: RevisionEvent): string[] {
    // Committed before `/v1/services` answered: its weights were already the ones remembered.
    if (event.revision <= this.knownRevision) return ROLLOUT_CHANGES.has(event.change) ? [] : [`${event.summary} ${byline(event)}`];
    const known = event.service === undefined ? undefined : this.services.get(event.service);
    const line = revisionLine(event, known);
    if (event.service !== undefined) {
      if (event.weights !== undefined) {
        const versions = [...new Set([...(known?.versions ?? []), ...Object.keys(event.weights)])];
        this.services.set(event.service, { versions, weights: event.weights });
      } else if (event.change === 'deleteService') {
        this.services.delete(event.service);
      }
    }
    return line === undefined ? [] : [line];
  }
}

async function getJson<T>(url: string, headers: Record<string, string>): Promise<T> {
  const response = await fetch(url, { headers });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/**
 * Follows the event stream of the sluice at `adminUrl`: writes a line for each proxy connected
 * now, then one per narrated event as it comes. The stream is opened before the state is read, so
 * nothing that happens in between is missed. Resolves, once following, with the function that stops.
 */
export async function narrate(adminUrl: string, write: (line: string) => void, options: { token?: string } = {}): Promise<() => void> {
  const headers: Record<string, string> = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
  const abort = new AbortController();
  const url = `${adminUrl}/v1/events?types=${NARRATED_EVENT_TYPES.join(',')}`;
  const stream = await fetch(url, { headers, signal: abort.signal });
  if (!stream.ok || stream.body === null) throw new Error(`GET ${url}: ${stream.status} ${await stream.text()}`);
  let stopped = false;
  const stop = (): void => {
    stopped = true;
    abort.abort();
  };
  try {
    const [services, proxies] = await Promise.all([
      getJson<ServicesAnswer>(`${adminUrl}/v1/services`, headers),
      getJson<ProxiesAnswer>(`${adminUrl}/v1/proxies`, headers),
    ]);
    const narration = new Narration(services, proxies.proxies);
    for (const line of narration.opening()) write(line);
    void follow(stream.body, (event) => {
      if (!stopped) for (const line of narration.linesFor(event)) write(line);
    });
  } catch (error) {
    stop();
    throw error;
  }
  return stop;
}

async function follow(body: ReadableStream<Uint8Array>, told: (event: EventData) => void): Promise<void> {
  try {
    await readFrames(body, ({ events }) => {
      for (const frame of events) told(frame.data as EventData);
    });
  } catch {
    // Stopped (the stream aborted) or sluice went away: the narration ends.
  }
}
