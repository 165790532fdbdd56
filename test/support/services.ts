// The service body most real-traffic tests define: `/predict` served by a blue and a green model
// server on loopback, all traffic to blue (stable) unless `extra` says otherwise.

export function blueGreenService(blue: { port: number }, green: { port: number }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    match: { prefix: '/predict' },
    versions: [
      { name: 'blue', endpoints: [{ address: '127.0.0.1', port: blue.port }] },
      { name: 'green', endpoints: [{ address: '127.0.0.1', port: green.port }] },
    ],
    weights: { blue: 100, green: 0 },
    stable: 'blue',
    ...extra,
  };
}
