/**
 * `npm run bench [-- --quick]`: crm-router measured as a whole process, against a minimal baseline
 * router on the same load, in both socket modes. See scripts/bench/README.md for what each figure
 * means and what it leaves out.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { prepareRouters, startCrm, startLoadGenerator, startRouter, type Crm, type LoadGenerator, type RouterKind } from './actors.ts';
import { measureRun, type Stage } from './measure.ts';
import { memory, throughputAndLatency } from './phases.ts';
import { parsePlan, type Plan } from './plan.ts';
import { watchMachineLoad } from './machine-load.ts';
import { pinSelf, placement, REPO, type Placement } from './procs.ts';
import { describeProxies, measureProxies } from './proxies.ts';
import { renderReport, writeResults, type BenchResults, type RouterResults } from './report.ts';
import type { SocketMode } from '../../spec/emulator/index.ts';

const loaded = performance.now();

/** Progress, each line with the seconds since start: where the 5-minute budget goes. */
const log = (line: string): void => {
  process.stderr.write(`${((performance.now() - loaded) / 1000).toFixed(0).padStart(3)} s ${line}\n`);
};

/** A waiting call holds two of the router's sockets (FreeSWITCH's and the CRM request's). */
function memoryLevels(plan: Plan, place: Placement, notes: string[]): number[] {
  const most = Math.floor((place.fileLimit - 200) / 2 / 100) * 100;
  const levels = [...new Set(plan.memory.levels.map((l) => Math.min(l, most)))];
  if (levels.some((l, i) => l !== plan.memory.levels[i])) {
    notes.push(
      `open-file limit ${place.fileLimit} (hard; this machine will not raise it): a waiting call holds 2 router sockets, ` +
        `so the memory levels were capped at ${most} calls`,
    );
  }
  return levels;
}

async function measureRouter(
  kind: RouterKind,
  mode: SocketMode,
  plan: Plan,
  levels: number[],
  holdDeadline: () => number,
  place: Placement,
  crm: Crm,
  load: LoadGenerator,
  dir: string,
): Promise<RouterResults> {
  const results: RouterResults = {};
  const router = await startRouter(kind, place, crm.url, dir, { profileDir: plan.profileDir, routerDir: plan.routerDir });
  const stage: Stage = { router, crm, load, mode };
  try {
    await measureRun(stage, plan.warmup.rate, plan.warmup.seconds);
    results.proxies = await measureProxies(router.host, router.port, mode, plan.proxies);
    log(`  ${kind} ${mode}: ${describeProxies(results.proxies)}`);
    // Memory first, so that its idle level follows only the warm-up, not a load test.
    if (plan.memory.modes.includes(mode)) {
      log(`  ${kind} ${mode}: memory, CRM answering after ${plan.memory.crmDelayMs} ms`);
      results.memory = await memory(stage, plan.memory, levels, plan.runs, log);
    }
    const hold = plan.throughput.sustainSeconds[mode];
    log(`  ${kind} ${mode}: ramps (latency at ${plan.latency.rates.join(', ')} calls/s, then the knee)${hold > 0 ? `, then holding the knee ${hold} s` : ''}`);
    const measured = await throughputAndLatency(stage, plan, hold, holdDeadline, log);
    results.throughput = measured.throughput;
    results.latency = measured.latency;
  } finally {
    await router.stop();
  }
  return results;
}

async function main(): Promise<void> {
  const plan = parsePlan(process.argv.slice(2));
  const started = performance.now();
  const othersLoad = watchMachineLoad();
  const place = placement();
  pinSelf(place);
  const notes: string[] = [];
  const levels = memoryLevels(plan, place, notes);
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version?: string }).version ?? '?';
  if (plan.routerDir !== undefined) notes.push(`crm-router run from ${plan.routerDir}`);
  log(`crm-router ${version} benchmark (${plan.name}); ${place.note}`);
  const dir = mkdtempSync(join(tmpdir(), 'crm-router-bench-'));
  prepareRouters(dir, plan.routerDir);
  const crm = await startCrm(place, plan.profileDir);
  const load = await startLoadGenerator(place, plan.profileDir);
  const results: BenchResults = {
    date: new Date().toISOString(),
    node: process.versions.node,
    cores: place.cores,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    placement: place.note,
    fileLimit: place.fileLimit,
    plan,
    memoryLevels: levels,
    notes,
    results: {},
    seconds: 0,
  };
  try {
    // The time budget is shared out as the work goes. Warm-ups, memory runs and ramps always run; holds
    // get what is left once the (router, mode)s still to come have theirs reserved (as measured on 2
    // cores). A router's holds may use all but what the later routers' full holds need;
    // when even that does not fit, the holds' time is shared equally, so that a short budget costs each
    // router the same and never one router all of its holds.
    const end = started + plan.budgetSeconds * 1000;
    const unskippableMs = (mode: SocketMode): number =>
      plan.warmup.seconds * 1000 + (plan.memory.modes.includes(mode) ? 55_000 : 0) + (mode === 'sync' ? 30_000 : 15_000);
    const holdsMs = (mode: SocketMode): number => {
      const seconds = plan.throughput.sustainSeconds[mode];
      return seconds > 0 ? plan.runs * (seconds + 1) * 1000 : 0;
    };
    const combos = plan.modes.flatMap((mode) => plan.routers.map((kind) => ({ mode, kind })));
    for (const [i, { mode, kind }] of combos.entries()) {
      const later = combos.slice(i + 1);
      const holdDeadline = (): number => {
        const now = performance.now();
        const available = end - now - later.reduce((ms, c) => ms + unskippableMs(c.mode), 0);
        const laterHolds = later.reduce((ms, c) => ms + holdsMs(c.mode), 0);
        const holding = 1 + later.filter((c) => holdsMs(c.mode) > 0).length;
        return now + Math.max(available - laterHolds, available / holding);
      };
      const byRouter: Partial<Record<RouterKind, RouterResults>> = (results.results[mode] ??= {});
      byRouter[kind] = await measureRouter(kind, mode, plan, levels, holdDeadline, place, crm, load, dir);
      const skipped = byRouter[kind]?.throughput?.skipped ?? 0;
      if (skipped > 0) notes.push(`${kind} ${mode}: ${skipped} held throughput run(s) skipped to stay within ${plan.budgetSeconds} s`);
    }
  } finally {
    await load.stop();
    await crm.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  results.seconds = (performance.now() - started) / 1000;
  const others = othersLoad();
  if (others !== undefined) {
    results.otherProcessesCpuSeconds = others;
    const share = others / (results.seconds * place.cores);
    if (share > 0.02) notes.push(`other processes used ${others.toFixed(1)} CPU-seconds (${(100 * share).toFixed(0)}% of the machine) during the run: figures are noisier than on a quiet machine`);
  }
  const file = writeResults(results, join(REPO, 'bench-results'));
  process.stdout.write(`${renderReport(results)}\nresults: ${file}\n`);
  if (plan.profileDir !== undefined) process.stdout.write(`CPU profiles of every process in ${plan.profileDir}/<process>/ (summary: npx tsx scripts/bench/profile-summary.ts <file>)\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
