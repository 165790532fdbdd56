// Free TCP port lookup for tests that must tell a server (sluice, a model server) its port up
// front. Owns nothing beyond a throw-away socket; callers bind the port themselves.

import { createServer } from 'node:net';

/** A loopback port that was free a moment ago (bind 0, read the port, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read the bound port'))));
    });
  });
}
