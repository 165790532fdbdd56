// The translator's output: Envoy resources in proto3 JSON form (Envoy's YAML shape), grouped by
// kind and sorted by name. Plain data that the xds side encodes; nothing here encodes.

export type ResourceJson = { [key: string]: unknown };

export interface NamedResource {
  name: string;
  resource: ResourceJson;
}

export interface TranslatedResources {
  listeners: NamedResource[];
  routes: NamedResource[];
  clusters: NamedResource[];
  endpoints: NamedResource[];
}

export function byName(a: NamedResource, b: NamedResource): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Milliseconds as a proto3 JSON duration ("30s", "1.5s"). */
export function durationJson(milliseconds: number): string {
  return `${Number((milliseconds / 1000).toFixed(3))}s`;
}
