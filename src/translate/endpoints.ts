// ClusterLoadAssignment resources for the EDS clusters: one per service version whose
// endpoints are IP addresses, named like its cluster.

import type { Service } from '../model/types.js';
import { loadAssignment, usesEds } from './clusters.js';
import { clusterName } from './names.js';
import type { NamedResource } from './resources.js';

export function buildEndpoints(service: Service): NamedResource[] {
  return service.versions.filter(usesEds).map((version) => {
    const name = clusterName(service.name, version.name);
    return { name, resource: loadAssignment(name, version) };
  });
}
