// Reasons sluice cannot start that the person starting it can fix (a port taken, a state file held
// by another process, an unreadable certificate), as StartupError: `sluice serve` prints the
// message alone and exits 2. Also checks, before anything is opened, that the ports sluice will
// listen on can be bound and that the admin TLS files make a key pair, naming the setting to
// change when not. Opens nothing it does not close at once.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSecureContext } from 'node:tls';
import { SETTINGS, fileKey, type SluiceConfig } from './config/config.js';

export class StartupError extends Error {
  override name = 'StartupError';
}

type PortSetting = 'xdsPort' | 'adminPort';

const WHAT: Record<PortSetting, { label: string; host: 'xdsHost' | 'adminHost' }> = {
  xdsPort: { label: 'xDS', host: 'xdsHost' },
  adminPort: { label: 'admin API', host: 'adminHost' },
};

/** How a person sets `key`: flag, variable and config key. */
function howToSet(key: keyof SluiceConfig): string {
  const setting = SETTINGS.find((s) => s.key === key);
  return setting === undefined ? key : `--${setting.flag} (${setting.env}, or ${fileKey(setting)} in the config file)`;
}

function tryBind(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** Throws a StartupError naming the setting when a configured address cannot be bound (port 0: any port). */
export async function checkPortsFree(config: SluiceConfig): Promise<void> {
  for (const key of Object.keys(WHAT) as PortSetting[]) {
    const port = config[key];
    const { label, host: hostKey } = WHAT[key];
    const host = config[hostKey];
    const error = await tryBind(host, port);
    if (error === undefined) continue;
    if (error.code === 'EADDRINUSE') {
      throw new StartupError(
        `the ${label} port ${port} on ${host} is already in use by another process: stop that process, ` +
          `or give sluice another port with ${howToSet(key)}.`,
      );
    }
    throw new StartupError(
      `sluice cannot listen for the ${label} on ${host}:${port} (${error.message}): ` +
        `check ${howToSet(hostKey)} and ${howToSet(key)}.`,
    );
  }
}

type AdminTlsSetting = 'adminTlsCert' | 'adminTlsKey' | 'adminClientCa';

function readPem(config: SluiceConfig, key: AdminTlsSetting): string {
  const path = config[key]!;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new StartupError(`cannot read ${path}, given by ${howToSet(key)}: ${(error as Error).message}`);
  }
}

/** The admin API's PEM certificate, key and client CA, read and checked as a pair; undefined without TLS. */
export function readAdminTls(config: SluiceConfig): { cert: string; key: string; clientCa?: string } | undefined {
  if (config.adminTlsCert === undefined || config.adminTlsKey === undefined) return undefined;
  const cert = readPem(config, 'adminTlsCert');
  const key = readPem(config, 'adminTlsKey');
  const clientCa = config.adminClientCa === undefined ? undefined : readPem(config, 'adminClientCa');
  try {
    createSecureContext({ cert, key, ...(clientCa === undefined ? {} : { ca: clientCa }) });
  } catch (error) {
    // OpenSSL's reason (e.g. "key values mismatch"), never the files' contents.
    throw new StartupError(
      `the admin TLS files cannot be used (${(error as Error).message}): check ${howToSet('adminTlsCert')}` +
        `${clientCa === undefined ? '' : `, ${howToSet('adminClientCa')}`} and ${howToSet('adminTlsKey')}.`,
    );
  }
  return { cert, key, ...(clientCa === undefined ? {} : { clientCa }) };
}
