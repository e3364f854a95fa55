/**
 * Every router process measured runs plain JavaScript, as in production: crm-router's `dist/` is built
 * from the checkout measured, and the baseline and the memory probe are type-stripped into the run's
 * scratch folder. Nothing measured goes through tsx's loader, whose keepNames would give every named
 * closure an extra property (several KiB per waiting call) to one router and not the other.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { benchFile, REPO } from './procs.ts';

/** `tsc -p tsconfig.build.json` in `checkout`, with this repository's TypeScript. */
export function buildRouter(checkout: string): void {
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const built = spawnSync(process.execPath, [tsc, '-p', join(checkout, 'tsconfig.build.json')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building crm-router in ${checkout} failed:\n${built.stdout}${built.stderr}`);
}

/** `scripts/bench/<name>.ts` as `<dir>/<name>.mjs`; only type-only imports may be relative. */
export function transpile(name: string, dir: string): string {
  const source = readFileSync(benchFile(`${name}.ts`), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    fileName: `${name}.ts`,
  });
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, outputText);
  return file;
}
