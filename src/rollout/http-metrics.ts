// The HTTP metric sources of rollout analysis: a Prometheus instant query (the first sample's
// value) and a webhook answering a number or {"value": number}. Each call is one GET that ends
// with its signal; any other answer is an error (the analysis counts it as inconclusive).

async function getJson(url: string, signal: AbortSignal): Promise<unknown> {
  const response = await fetch(url, { signal, headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
  return response.json();
}

function numberFrom(value: unknown, what: string): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || Number.isNaN(number)) throw new Error(`${what} is not a number: ${JSON.stringify(value)}`);
  return number;
}

/** `GET {url}/api/v1/query?query=…`: the value of the first sample of a vector, or the scalar. */
export async function queryPrometheus(url: string, query: string, signal: AbortSignal): Promise<number> {
  const body = (await getJson(`${url.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`, signal)) as {
    status?: string;
    error?: string;
    data?: { resultType?: string; result?: unknown };
  };
  if (body.status !== 'success') throw new Error(`the query failed: ${body.error ?? JSON.stringify(body).slice(0, 200)}`);
  const result = body.data?.result;
  if (body.data?.resultType === 'scalar' && Array.isArray(result)) return numberFrom(result[1], 'the scalar');
  if (body.data?.resultType === 'vector' && Array.isArray(result)) {
    const first = result[0] as { value?: unknown[] } | undefined;
    if (first === undefined) throw new Error('the query returned no sample');
    return numberFrom(first.value?.[1], 'the first sample');
  }
  throw new Error(`the query returned a ${body.data?.resultType ?? 'missing'} result, not a vector or scalar`);
}

/** `GET url`: a JSON number, or an object whose `value` is one. */
export async function readWebhook(url: string, signal: AbortSignal): Promise<number> {
  const body = await getJson(url, signal);
  if (typeof body === 'number') return body;
  if (typeof body === 'object' && body !== null && typeof (body as { value?: unknown }).value === 'number') {
    return (body as { value: number }).value;
  }
  throw new Error(`the answer is neither a number nor {"value": number}: ${JSON.stringify(body).slice(0, 200)}`);
}

export const httpMetricSources = { prometheus: queryPrometheus, webhook: readWebhook };
