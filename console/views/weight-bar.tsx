// A service's weights as one horizontal bar: a segment per version in the service's version
// order, its share as width (set through the style object, so no inline style text is needed
// under the page's CSP), labelled for screen readers; stable and candidate are named in the legend.

import type { ServiceAnswer } from '../../src/api/desired-state.js';

type Weights = ServiceAnswer['weights'];

export interface WeightBarProps {
  versions: readonly string[];
  weights: Weights;
  stable: string;
  candidate?: string;
}

export function versionClass(versions: readonly string[], version: string): string {
  return `v${Math.max(0, versions.indexOf(version)) % 6}`;
}

function role(version: string, stable: string, candidate: string | undefined): string {
  if (version === stable) return ' (stable)';
  return version === candidate ? ' (candidate)' : '';
}

export function WeightBar({ versions, weights, stable, candidate }: WeightBarProps) {
  const label = versions.map((version) => `${version}${role(version, stable, candidate)} ${weights[version] ?? 0}%`).join(', ');
  return (
    <div class="weights">
      <div class="weight-bar" role="img" aria-label={`weights: ${label}`}>
        {versions.map((version) =>
          (weights[version] ?? 0) > 0 ? (
            <span key={version} class={`segment ${versionClass(versions, version)}`} style={{ width: `${weights[version]}%` }} data-version={version} />
          ) : null,
        )}
      </div>
      <ul class="legend">
        {versions.map((version) => (
          <li key={version} data-version={version}>
            <span class={`swatch ${versionClass(versions, version)}`} aria-hidden="true" />
            <strong>{version}</strong> <span class="percent">{weights[version] ?? 0}%</span>
            {version === stable ? <span class="tag stable">stable</span> : null}
            {version === candidate ? <span class="tag candidate">candidate</span> : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
