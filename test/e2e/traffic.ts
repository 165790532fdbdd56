// Traffic helpers for real-Envoy tests: send requests through Envoy's listener and tally which
// version served each one (from the x-sluice-version response header, cross-checked with the
// body the model server wrote). Bounded in count; loopback only.

export interface Tally {
  total: number;
  failed: number;
  failures: string[];
  byVersion: Record<string, number>;
}

export async function predictOnce(url: string, headers: Record<string, string> = {}): Promise<{ status: number; version?: string; served?: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ features: [1, 2, 3] }),
  });
  const body = (await response.json().catch(() => ({}))) as { version?: string };
  return { status: response.status, version: body.version, served: response.headers.get('x-sluice-version') ?? undefined };
}

/** Sends `count` requests with `concurrency` in flight and tallies the serving versions. */
export async function sendRequests(url: string, count: number, concurrency = 16, headers: Record<string, string> = {}): Promise<Tally> {
  const tally: Tally = { total: 0, failed: 0, failures: [], byVersion: {} };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      try {
        const result = await predictOnce(url, headers);
        tally.total++;
        if (result.status !== 200 || !result.version || result.served !== result.version) {
          tally.failed++;
          tally.failures.push(`status ${result.status}, body version ${result.version}, header ${result.served}`);
          continue;
        }
        tally.byVersion[result.version] = (tally.byVersion[result.version] ?? 0) + 1;
      } catch (error) {
        tally.total++;
        tally.failed++;
        tally.failures.push(String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return tally;
}

/**
 * True when `observed` successes out of `n` are plausible for probability `p`: exact for p of 0
 * or 1, otherwise within 4.5 standard deviations (a false alarm about once in 150,000 runs).
 */
export function withinBinomialTolerance(observed: number, n: number, p: number): boolean {
  if (p === 0 || p === 1) return observed === n * p;
  const sd = Math.sqrt(n * p * (1 - p));
  return Math.abs(observed - n * p) <= 4.5 * sd;
}
