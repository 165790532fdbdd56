// Runs the real Envoy binary (install it with `bash scripts/install-envoy.sh`): bootstrap
// rendering and validation, and the process harness against an xDS port where nothing listens.
// Starts only its own Envoys and leaves none running.

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT, envoyBinary } from './envoy-binary.js';
import { DEFAULT_BOOTSTRAP, renderBootstrap, startEnvoy, type EnvoyProcess } from './envoy-process.js';
import { freePort } from './ports.js';
import { createTestPki } from './test-pki.js';

const run = promisify(execFile);
const ENVOY_DIR = join(REPO_ROOT, 'envoy');
const bootstraps = readdirSync(ENVOY_DIR).filter((f) => f.endsWith('.yaml'));
const scratch = mkdtempSync(join(tmpdir(), 'sluice-envoy-test-'));
const started: EnvoyProcess[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.stop()));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('envoyBinary', () => {
  it('says how to install Envoy when ENVOY_BIN points nowhere', () => {
    const saved = process.env.ENVOY_BIN;
    process.env.ENVOY_BIN = '/nonexistent/envoy';
    try {
      expect(() => envoyBinary()).toThrow(/scripts\/install-envoy\.sh/);
    } finally {
      if (saved === undefined) delete process.env.ENVOY_BIN;
      else process.env.ENVOY_BIN = saved;
    }
  });
});

describe('envoy/*.yaml bootstraps', () => {
  it('ships the SotW and delta ADS bootstraps', () => {
    expect(bootstraps).toEqual(expect.arrayContaining(['bootstrap-ads.yaml', 'bootstrap-ads-delta.yaml']));
  });

  it.each(bootstraps)('%s passes `envoy --mode validate`', async (file) => {
    // A TLS bootstrap names certificate files Envoy reads while validating: give it real ones.
    const pki = file.includes('mtls') ? createTestPki() : undefined;
    try {
      let path = join(ENVOY_DIR, file);
      if (pki) {
        const proxy = pki.client('proxy', { commonName: 'sluice-demo' });
        path = join(scratch, file);
        writeFileSync(path, renderBootstrap(join(ENVOY_DIR, file), { tls: { certFile: proxy.certFile, keyFile: proxy.keyFile, caFile: pki.caFile } }));
      }
      const { stdout } = await run(envoyBinary(), ['--mode', 'validate', '-c', path, '-l', 'error']);
      expect(stdout).toContain('OK');
    } finally {
      pki?.remove();
    }
  });
});

describe('renderBootstrap', () => {
  it('replaces the xDS address, admin port and node, keeping the rest', () => {
    const rendered = parse(
      renderBootstrap(join(ENVOY_DIR, 'bootstrap-ads-delta.yaml'), {
        xdsHost: '127.0.0.2',
        xdsPort: 18123,
        adminPort: 19901,
        nodeId: 'node-a',
        nodeCluster: 'cluster-a',
      }),
    );
    expect(rendered.node).toEqual({ id: 'node-a', cluster: 'cluster-a' });
    expect(rendered.admin.address.socket_address).toEqual({ address: '127.0.0.1', port_value: 19901 });
    expect(rendered.dynamic_resources.ads_config.api_type).toBe('DELTA_GRPC');
    const [xds] = rendered.static_resources.clusters;
    expect(xds.name).toBe('xds_cluster');
    expect(xds.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address).toEqual({
      address: '127.0.0.2',
      port_value: 18123,
    });
  });

  it('leaves values that are not overridden as they are', () => {
    const rendered = parse(renderBootstrap(DEFAULT_BOOTSTRAP, { xdsPort: 1 }));
    expect(rendered.node).toEqual({ id: 'sluice-demo-envoy', cluster: 'sluice-demo' });
    expect(rendered.admin.address.socket_address.port_value).toBe(9901);
  });

  it('fails clearly when the ADS cluster is not a static cluster', () => {
    const file = join(scratch, 'no-static-cluster.yaml');
    writeFileSync(file, 'dynamic_resources: { ads_config: { grpc_services: [ { envoy_grpc: { cluster_name: x } } ] } }\n');
    expect(() => renderBootstrap(file, { xdsPort: 1 })).toThrow(/no static cluster named x/);
  });
});

describe('startEnvoy', () => {
  it('runs Envoy 1.40 with its admin up while no control plane answers, and stops it', async () => {
    const xdsPort = await freePort();
    const envoy = await startEnvoy({ xdsPort, nodeId: 'harness-test' });
    started.push(envoy);
    expect(isRunning(envoy.pid)).toBe(true);

    const info = (await (await fetch(`${envoy.adminUrl}/server_info`)).json()) as {
      version: string;
      node: { id: string; cluster: string };
    };
    expect(info.version).toMatch(/\/1\.40\.\d+\//);
    expect(info.node).toMatchObject({ id: 'harness-test', cluster: 'sluice-demo' });

    const dump = await envoy.configDump('static_clusters');
    const xds = dump.configs.find((c: { cluster: { name: string } }) => c.cluster.name === 'xds_cluster');
    expect(JSON.stringify(xds.cluster.load_assignment)).toContain(`"port_value":${xdsPort}`);

    const stats = await envoy.stats('^control_plane\\.connected_state$');
    expect(stats).toEqual({ 'control_plane.connected_state': 0 });

    await expect(envoy.waitLive(300)).rejects.toThrow(/not LIVE after 300 ms/);

    await envoy.stop();
    expect(isRunning(envoy.pid)).toBe(false);
    await envoy.stop();
  });

  it('reports Envoy output when Envoy exits during start-up', async () => {
    const file = join(scratch, 'bad-timeout.yaml');
    writeFileSync(file, renderBootstrap(DEFAULT_BOOTSTRAP, {}).replace('connect_timeout: 1s', 'connect_timeout: soon'));
    const start = startEnvoy({ bootstrapFile: file, xdsPort: await freePort() });
    await expect(start).rejects.toThrow(/exited with code 1 before its admin interface answered[\s\S]*connect_timeout/);
  });
});
