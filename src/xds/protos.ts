// Loads Envoy's API schema (pinned in the @grpc/grpc-js-xds package) into one protobufjs Root. The only place that knows where schema files live;
// it encodes nothing itself (see codec.ts).

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);

/** Every message sluice encodes or decodes, including each `typed_config` it emits. */
const ENTRY_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/load_balancing_policies/round_robin/v3/round_robin.proto',
  'envoy/extensions/load_balancing_policies/least_request/v3/least_request.proto',
  'envoy/extensions/load_balancing_policies/ring_hash/v3/ring_hash.proto',
  'envoy/extensions/load_balancing_policies/maglev/v3/maglev.proto',
];

function schemaRoots(): string[] {
  const xdsPackageDir = dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  const deps = join(xdsPackageDir, 'deps');
  // protobufjs ships google/protobuf/descriptor.proto, which the annotation files extend.
  const protobufjsDir = dirname(require.resolve('protobufjs/package.json'));
  return [
    join(deps, 'envoy-api'),
    join(deps, 'xds'),
    join(deps, 'googleapis'),
    join(deps, 'protoc-gen-validate'),
    protobufjsDir,
  ];
}

let loaded: protobuf.Root | undefined;

/** The shared, fully resolved Root. Loaded once per process. */
export function envoyRoot(): protobuf.Root {
  if (loaded) return loaded;
  const roots = schemaRoots();
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string | null => {
    if (existsSync(target)) return target;
    for (const base of roots) {
      const candidate = join(base, target);
      if (existsSync(candidate)) return candidate;
    }
    return null;
  };
  root.loadSync(ENTRY_FILES, { keepCase: true });
  root.resolveAll();
  loaded = root;
  return root;
}

export function lookupMessage(fullName: string): protobuf.Type {
  const type = envoyRoot().lookupType(fullName);
  if (!type) throw new Error(`message type ${fullName} is not loaded`);
  return type;
}
