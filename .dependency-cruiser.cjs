/**
 * The folder layout is the architecture: each layer may import only the
 * layers before it (core ← config ← crm ← routing ← esl, telephony ← the
 * process's wiring in lib/server.ts and lib/main.ts), so the folder graph has
 * no cycle. lib/log.ts and lib/delay.ts are leaves any layer may use.
 * `npm test` runs this as `npm run check:layout`.
 */
const LAYERS = ['core', 'config', 'crm', 'routing', 'esl|telephony'];

const upward = LAYERS.map((layer, i) => ({
  name: `layer-${layer.replace('|', '-or-')}`,
  comment: `lib/${layer} may import only lower layers (${LAYERS.slice(0, i).join(', ') || 'none'})`,
  severity: 'error',
  from: { path: `^lib/(${layer})/` },
  to: { path: [...LAYERS.slice(i + 1).map((l) => `^lib/(${l})/`), '^lib/(server|main)\\.ts$'].join('|') },
}));

module.exports = {
  forbidden: [
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
