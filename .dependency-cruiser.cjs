// Import rules that keep sluice's one-way data flow (see ARCHITECTURE.md in this repository).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'translate-is-pure',
      comment: 'translate turns desired state into resources: it may import only model (and itself).',
      severity: 'error',
      from: { path: '^src/translate/' },
      to: { path: '^src/', pathNot: ['^src/translate/', '^src/model/', '^src/errors\\.ts$'] },
    },
    {
      name: 'model-stands-alone',
      comment: 'model is the vocabulary: no I/O, no other layer.',
      severity: 'error',
      from: { path: '^src/model/' },
      to: { path: '^src/', pathNot: ['^src/model/', '^src/errors\\.ts$'] },
    },
    {
      name: 'xds-knows-no-state',
      comment: 'xds serves snapshots; it knows neither the desired state nor how it is translated.',
      severity: 'error',
      from: { path: '^src/xds/' },
      to: { path: '^src/(state|translate|sync|admin|model|fleet|config)/' },
    },
    {
      name: 'state-knows-no-envoy',
      comment: 'state stores desired state; it knows nothing of Envoy.',
      severity: 'error',
      from: { path: '^src/state/' },
      to: { path: '^src/(xds|translate|sync|admin|fleet)/' },
    },
    {
      name: 'admin-goes-through-state',
      comment: 'the admin API writes only through state and reads the fleet; it never touches xds or translate.',
      severity: 'error',
      from: { path: '^src/admin/' },
      to: { path: '^src/(xds|translate|sync)/' },
    },
    {
      name: 'fleet-is-written-by-streams-only',
      comment: 'fleet status depends on the stream callbacks only.',
      severity: 'error',
      from: { path: '^src/fleet/' },
      to: { path: '^src/(state|translate|sync|admin)/' },
    },
    {
      name: 'rollout-writes-through-the-store-it-is-given',
      comment: 'rollouts decide from the model alone: they read the fleet and write the state only through interfaces passed in.',
      severity: 'error',
      from: { path: '^src/rollout/' },
      to: { path: '^src/', pathNot: ['^src/rollout/', '^src/model/', '^src/errors\\.ts$'] },
    },
    {
      name: 'event-journal-stands-alone',
      comment: 'the event journal numbers, keeps and hands out events; it knows nothing of where they come from.',
      severity: 'error',
      from: { path: '^src/events/journal\\.ts$' },
      to: { path: '^src/', pathNot: ['^src/events/journal\\.ts$'] },
    },
    {
      name: 'event-sources-only-read',
      comment: 'event sources read commits and stream callbacks; they never reach the admin API, translation, sync or the xDS server itself.',
      severity: 'error',
      from: { path: '^src/events/' },
      to: { path: '^src/(admin|translate|sync|config|rollout|fleet|observability)/|^src/xds/(?!type-urls\\.ts$|server/callbacks\\.ts$|server/messages\\.ts$)' },
    },
    {
      name: 'admin-reads-events-through-an-interface',
      comment: 'the events route gets its events as an interface through AdminDeps.',
      severity: 'error',
      from: { path: '^src/admin/' },
      to: { path: '^src/events/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
