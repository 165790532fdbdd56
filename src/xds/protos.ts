// Loads Envoy's API schema (pinned in the @grpc/grpc-js-xds package) into one protobufjs Root and
// merges the project's own overlay (proto/, fields newer than the pinned schema) into it. The only place that knows where schema files live;
// it encodes nothing itself (see codec.ts).

import { createRequire } from 'node:module';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);

/** Every message sluice encodes or decodes, including each `typed_config` it emits. */
const ENTRY_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/service/load_stats/v3/lrs.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/filters/http/ext_proc/v3/ext_proc.proto',
  'envoy/extensions/filters/http/upstream_codec/v3/upstream_codec.proto',
  'envoy/service/ext_proc/v3/external_processor.proto',
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

const OVERLAY_PACKAGE = 'sluice.overlay.';

/** The repository's proto/ folder, found from this module (in src/ or in the build output). */
function overlayDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'proto', 'README.md')) && existsSync(join(dir, 'package.json'))) return join(dir, 'proto');
    const parent = resolve(dir, '..');
    if (parent === dir) throw new Error('cannot find the proto/ overlay folder of sluice');
    dir = parent;
  }
}

/** Adds every overlay message's fields to the Envoy message it is named after. */
function mergeOverlay(root: protobuf.Root, overlay: protobuf.Root): void {
  const visit = (namespace: protobuf.NamespaceBase): void => {
    for (const nested of namespace.nestedArray) {
      if (nested instanceof protobuf.Type) mergeType(root, nested);
      else if (nested instanceof protobuf.Namespace) visit(nested);
    }
  };
  const overlayNamespace = overlay.lookup(OVERLAY_PACKAGE.slice(0, -1));
  if (overlayNamespace instanceof protobuf.Namespace) visit(overlayNamespace);
}

function mergeType(root: protobuf.Root, addition: protobuf.Type): void {
  const name = addition.fullName.replace(/^\./, '');
  if (!name.startsWith(OVERLAY_PACKAGE)) throw new Error(`overlay message ${name} is outside ${OVERLAY_PACKAGE}*`);
  const target = root.lookupType(name.slice(OVERLAY_PACKAGE.length));
  for (const field of addition.fieldsArray) {
    if (target.fields[field.name] || target.fieldsById[field.id]) {
      throw new Error(`overlay field ${field.name} = ${field.id} already exists in ${target.fullName}`);
    }
    const copy = new protobuf.Field(field.name, field.id, field.type, field.repeated ? 'repeated' : undefined);
    target.add(copy);
    if (field.partOf) {
      const oneof = target.oneofs?.[field.partOf.name];
      if (!oneof) throw new Error(`${target.fullName} has no oneof ${field.partOf.name} for overlay field ${field.name}`);
      oneof.add(copy);
    }
    copy.resolve();
  }
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
  const overlay = new protobuf.Root();
  overlay.resolvePath = root.resolvePath;
  const dir = overlayDir();
  const overlayFiles = readdirSync(dir).filter((file) => file.endsWith('.proto'));
  overlay.loadSync(overlayFiles.map((file) => join(dir, file)), { keepCase: true });
  mergeOverlay(root, overlay);
  root.resolveAll();
  loaded = root;
  return root;
}

export function lookupMessage(fullName: string): protobuf.Type {
  const type = envoyRoot().lookupType(fullName);
  if (!type) throw new Error(`message type ${fullName} is not loaded`);
  return type;
}
