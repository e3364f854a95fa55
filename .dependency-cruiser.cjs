/**
 * The folder layout is the architecture: each layer may import only the
 * layers before it (core ← config ← crm ← routing ← esl, telephony ← admin ←
 * the process's wiring in lib/server.ts ← lib/cli ← lib/main.ts), so the
 * folder graph has no cycle. lib/log.ts and lib/delay.ts are leaves any layer may use.
 * `npm test` runs this as `npm run check:layout`.
 */
const LAYERS = ['core', 'config', 'crm', 'routing', 'esl|telephony', 'admin'];

const upward = LAYERS.map((layer, i) => ({
  name: `layer-${layer.replace('|', '-or-')}`,
  comment: `lib/${layer} may import only lower layers (${LAYERS.slice(0, i).join(', ') || 'none'})`,
  severity: 'error',
  from: { path: `^lib/(${layer})/` },
  to: { path: [...LAYERS.slice(i + 1).map((l) => `^lib/(${l})/`), '^lib/(server|main)\\.ts$', '^lib/cli/'].join('|') },
}));

module.exports = {
  forbidden: [
    {
      name: 'server-below-cli',
      comment: 'lib/server.ts wires the layers; only lib/cli and lib/main.ts may import the command line',
      severity: 'error',
      from: { path: '^lib/server\\.ts$' },
      to: { path: '^lib/(cli/|main\\.ts$)' },
    },
    { name: 'no-module-cycle', severity: 'error', from: {}, to: { circular: true } },
    { name: 'no-folder-cycle', severity: 'error', scope: 'folder', from: {}, to: { circular: true } },
    ...upward,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
