/**
 * `npm run bench:cpu -- [--router-dir DIR]... [--node-flags "FLAGS"]... [--baseline-node-flags "FLAGS"]... [--rate 1000] [--seconds 3] [--rounds 5] [--mode sync|async] [--warm-up S]`:
 * the router's CPU per call, crm-router of each checkout given (default: this one) and the baseline,
 * measured in turn, round after round, on the same load generator and CRM: a before/after comparison
 * within one run, so that the machine's other load falls on all of them alike. Each round starts every
 * router afresh, warms it up as `npm run bench` does (5 s at 1000 calls/s; `--warm-up S`: S seconds), then places `rate` calls per second for `seconds`;
 * the figure is the router process's user + system CPU over those calls, divided by them. Each
 * `--node-flags` adds crm-router of the first checkout once more, its node started with those flags;
 * `--baseline-node-flags` does the same for the baseline. Ratios are to the plain baseline. Medians of the
 * rounds, with min and max, and each router's ratio to the baseline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SocketMode } from '../../spec/emulator/index.ts';
import { buildRouter, transpile } from './compile.ts';
import { startCrm, startLoadGenerator, startRouter, type RouterKind } from './actors.ts';
import { measureRun } from './measure.ts';
import { WARM_UP } from './plan.ts';
import { pinSelf, placement, REPO } from './procs.ts';
import { spread } from './stats.ts';

interface Contender {
  readonly name: string;
  readonly kind: RouterKind;
  readonly dir?: string;
  readonly nodeFlags?: readonly string[];
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dirs: string[] = [];
  const flagSets: string[][] = [];
  const baselineFlagSets: string[][] = [];
  let rate = 1000;
  let seconds = 3;
  let rounds = 5;
  let mode: SocketMode = 'sync';
  let warmSeconds = WARM_UP.seconds;
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--router-dir': dirs.push(resolve(v ?? '.')); i++; break;
      case '--node-flags': flagSets.push((v ?? '').split(' ').filter((f) => f !== '')); i++; break;
      case '--baseline-node-flags': baselineFlagSets.push((v ?? '').split(' ').filter((f) => f !== '')); i++; break;
      case '--rate': rate = Number(v); i++; break;
      case '--seconds': seconds = Number(v); i++; break;
      case '--rounds': rounds = Number(v); i++; break;
      case '--mode': mode = v === 'async' ? 'async' : 'sync'; i++; break;
      case '--warm-up':
        warmSeconds = Number(v);
        if (!Number.isFinite(warmSeconds) || warmSeconds < 0) throw new Error(`--warm-up takes seconds, not ${String(v)}`);
        i++;
        break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (dirs.length === 0) dirs.push(REPO);
  const contenders: Contender[] = [
    ...dirs.map((dir, i): Contender => ({ name: dirs.length === 1 ? 'crm-router' : `crm-router ${String.fromCharCode(65 + i)} (${dir})`, kind: 'crm-router', dir })),
    ...flagSets.map((nodeFlags): Contender => ({ name: `crm-router ${nodeFlags.join(' ')}`, kind: 'crm-router', dir: dirs[0]!, nodeFlags })),
    { name: 'baseline', kind: 'baseline' },
    ...baselineFlagSets.map((nodeFlags): Contender => ({ name: `baseline ${nodeFlags.join(' ')}`, kind: 'baseline', nodeFlags })),
  ];
  const place = placement();
  pinSelf(place);
  const scratch = mkdtempSync(join(tmpdir(), 'crm-router-cpu-'));
  for (const dir of dirs) buildRouter(dir);
  transpile('baseline-router', scratch);
  transpile('router-probe', scratch);
  const crm = await startCrm(place);
  const load = await startLoadGenerator(place);
  const cpu = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const c of contenders) {
        const router = await startRouter(c.kind, place, crm.url, scratch, { routerDir: c.dir, nodeFlags: c.nodeFlags });
        try {
          const stage = { router, crm, load, mode };
          if (warmSeconds > 0) await measureRun(stage, WARM_UP.rate, warmSeconds);
          const s = await measureRun(stage, rate, seconds);
          cpu.get(c.name)!.push(s.cpuUsPerCall);
          process.stderr.write(`round ${round} ${c.name}: ${s.cpuUsPerCall.toFixed(0)} µs per call (${s.bridged}/${s.placed} bridged, p99 ${s.added.p99.toFixed(1)} ms)\n`);
        } finally {
          await router.stop();
        }
      }
    }
  } finally {
    await load.stop();
    await crm.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  const base = spread(cpu.get('baseline')!).median;
  process.stdout.write(`router CPU per call, ${mode} mode, ${rate} calls/s for ${seconds} s after ${warmSeconds} s at ${WARM_UP.rate}/s, ${rounds} rounds (median [min–max]); ${place.note}\n`);
  for (const c of contenders) {
    const s = spread(cpu.get(c.name)!);
    process.stdout.write(`  ${c.name}: ${s.median.toFixed(0)} µs [${s.min.toFixed(0)}–${s.max.toFixed(0)}] = ${(s.median / base).toFixed(2)}× the baseline; capacity ${(1e6 / s.median).toFixed(0)} calls/s per core\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`compare-cpu failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
