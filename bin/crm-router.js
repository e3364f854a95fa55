#!/usr/bin/env node
// Runs the compiled router: `npm install` builds dist/ (the `prepare` script), `npm start` rebuilds it.
// Compiled rather than loaded through a TypeScript loader at run time: no transpiler in production,
// and tsx's keepNames would give every per-call closure an extra property (4 KiB per waiting call).
try {
  await import('../dist/main.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('/dist/main.js')) {
    process.stderr.write('crm-router: not built yet; run `npm run build` (npm install does it) and try again\n');
    process.exit(1);
  }
  throw error;
}
