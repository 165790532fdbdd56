// What a change would send to proxies, from a dry run's answer: per node group, each resource
// added, removed or changed with the changed fields' readable labels and old → new values (the
// list of changed paths is also the revision diff's).

import type { DryRunAnswer, PathChange } from '../../src/api/dry-run.js';

const shown = (value: unknown): string => (value === undefined ? '—' : JSON.stringify(value));

/** The changed paths of one changed thing: its readable label, old → new. */
export function ChangedPaths({ paths, morePaths }: { paths: PathChange[]; morePaths: number | undefined }) {
  return (
    <ul>
      {paths.map((path) => (
        <li key={path.path}>
          <code>{path.label}</code>: <span class="old">{shown(path.old)}</span> → <span class="new">{shown(path.new)}</span>
        </li>
      ))}
      {morePaths === undefined ? null : <li class="muted">and {morePaths} more</li>}
    </ul>
  );
}

export function DryRunDiff({ answer }: { answer: DryRunAnswer }) {
  if (answer.unchanged) return <p class="diff-none">This changes nothing.</p>;
  if (answer.changes.length === 0) return <p class="diff-none">No proxy is connected: the change reaches proxies when they connect.</p>;
  return (
    <ul class="diff" aria-label="What proxies would receive">
      {answer.changes.map((change) => (
        <li key={`${change.group}/${change.kind}/${change.name}`}>
          <span class={`change ${change.change}`}>{change.change}</span> {change.kind} <code>{change.name}</code>{' '}
          <span class="muted">({change.group})</span>
          {change.paths === undefined ? null : <ChangedPaths paths={change.paths} morePaths={change.morePaths} />}
        </li>
      ))}
    </ul>
  );
}
