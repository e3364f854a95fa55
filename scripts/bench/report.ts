/**
 * The benchmark's output: one table per socket mode — crm-router's figure, the baseline's, the ratio,
 * the issue's target — and the same figures, with every run, as JSON under bench-results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SocketMode } from '../../spec/emulator/index.ts';
import type { RouterKind } from './actors.ts';
import type { LatencyAtRate, MemoryFigures, ThroughputResult } from './phases.ts';
import type { Plan } from './plan.ts';
import type { ProxyFigures } from './proxies.ts';
import type { Spread } from './stats.ts';

export interface RouterResults {
  proxies?: ProxyFigures;
  throughput?: ThroughputResult;
  latency?: LatencyAtRate[];
  memory?: MemoryFigures;
}

export interface BenchResults {
  readonly date: string;
  readonly node: string;
  readonly cores: number;
  readonly cpu: string;
  readonly placement: string;
  readonly fileLimit: number;
  readonly plan: Plan;
  /** Memory levels actually used (capped by the open-file limit: a waiting call holds 2 of the router's sockets). */
  readonly memoryLevels: readonly number[];
  readonly notes: string[];
  readonly results: Partial<Record<SocketMode, Partial<Record<RouterKind, RouterResults>>>>;
  seconds: number;
  /** CPU time other processes took during the run (core-seconds), when known. */
  otherProcessesCpuSeconds?: number;
}

type Better = 'higher' | 'lower';

/** How long the throughput figure was held: the held runs', or the ramp steps' when there were none. */
const heldFor = (x: RouterResults | undefined, r: BenchResults): string => {
  const held = x?.throughput?.heldSeconds ?? 0;
  return held > 0 ? `held ${held} s` : `knee of ${r.plan.throughput.stepSeconds} s steps`;
};

interface Row {
  readonly label: string;
  readonly unit: string;
  readonly router: Spread | undefined;
  readonly baseline: Spread | undefined;
  readonly better: Better;
  /** The issue's target for crm-router's own figure, as text, and whether it is met. */
  readonly target?: { readonly text: string; readonly met: (median: number) => boolean };
  readonly digits?: number;
}

const fmt = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : '—');
const cell = (s: Spread | undefined, digits: number): string =>
  s === undefined ? '—' : s.runs.length <= 1 ? fmt(s.median, digits) : `${fmt(s.median, digits)} [${fmt(s.min, digits)}–${fmt(s.max, digits)}]`;

/** router ÷ baseline, and whether that is within the issue's bound (≥ 0.8 when higher is better, ≤ 1.25 when lower is). */
function ratio(row: Row): { text: string; ok: boolean | undefined } {
  if (row.router === undefined || row.baseline === undefined) return { text: '—', ok: undefined };
  const r = row.router.median / row.baseline.median;
  if (!Number.isFinite(r)) return { text: '—', ok: undefined };
  return { text: `${r.toFixed(2)}×`, ok: row.better === 'higher' ? r >= 0.8 : r <= 1.25 };
}

const KB = 1024;
const MIB = 2 ** 20;
const scaled = (s: Spread | undefined, by: number): Spread | undefined =>
  s === undefined ? undefined : { median: s.median / by, min: s.min / by, max: s.max / by, runs: s.runs.map((v) => v / by) };

/**
 * crm-router's bytes per call from FreeSWITCH before issue 13's levers (2026-12-01, `npm run bench`),
 * whose target is 40% of it.
 */
const BYTES_BEFORE: Readonly<Record<SocketMode, number>> = { sync: 86_148, async: 126_914 };

const single = (n: number | undefined): Spread | undefined => (n === undefined ? undefined : { median: n, min: n, max: n, runs: [n] });

/** What the router makes FreeSWITCH do per call (proxies.ts), medians over calls placed one at a time. */
function proxyRows(router: RouterResults | undefined, baseline: RouterResults | undefined, mode: SocketMode): Row[] {
  const p = (x: RouterResults | undefined): ProxyFigures | undefined => x?.proxies;
  const before = BYTES_BEFORE[mode];
  return [
    {
      label: 'bytes FreeSWITCH sends the router per call',
      unit: 'B',
      router: p(router)?.bytesToRouter,
      baseline: p(baseline)?.bytesToRouter,
      better: 'lower',
      target: { text: `≤ ${(0.4 * before).toFixed(0)} (40% of ${before})`, met: (m) => m <= 0.4 * before },
      digits: 0,
    },
    {
      label: 'header bytes the router sends FreeSWITCH per call (read one byte per recv)',
      unit: 'B',
      router: p(router)?.headerBytesFromRouter,
      baseline: p(baseline)?.headerBytesFromRouter,
      better: 'lower',
      digits: 0,
    },
    { label: 'events FreeSWITCH sends per call', unit: '', router: p(router)?.eventsToRouter, baseline: p(baseline)?.eventsToRouter, better: 'lower', digits: 0 },
    { label: 'commands FreeSWITCH executes per call (sendmsg execute, api)', unit: '', router: p(router)?.executes, baseline: p(baseline)?.executes, better: 'lower', digits: 0 },
    { label: 'round trips before the bridge goes out', unit: '', router: single(p(router)?.roundTrips), baseline: single(p(baseline)?.roundTrips), better: 'lower', digits: 0 },
    { label: 'connect → bridge written (instant CRM, one call at a time)', unit: 'ms', router: p(router)?.bridgeMs, baseline: p(baseline)?.bridgeMs, better: 'lower', digits: 2 },
  ];
}

const perCore = (s: Spread | undefined): Spread | undefined =>
  s === undefined ? undefined : { median: 1e6 / s.median, min: 1e6 / s.max, max: 1e6 / s.min, runs: s.runs.map((v) => 1e6 / v) };

function rowsFor(router: RouterResults | undefined, baseline: RouterResults | undefined, r: BenchResults, mode: SocketMode): Row[] {
  const rows: Row[] = [...proxyRows(router, baseline, mode)];
  const tp = (x: RouterResults | undefined): Spread | undefined => x?.throughput?.sustained;
  rows.push({
    label: `throughput (0 lost, p99 < ${r.plan.throughput.p99LimitMs} ms, ${heldFor(router ?? baseline, r)})`,
    unit: 'calls/s',
    router: tp(router),
    baseline: tp(baseline),
    better: 'higher',
    target: { text: '≥ 2000', met: (m) => m >= 2000 },
    digits: 0,
  });
  const fastest = r.plan.latency.rates[r.plan.latency.rates.length - 1];
  if (fastest !== undefined) {
    const at = (x: RouterResults | undefined): LatencyAtRate | undefined => x?.latency?.find((l) => l.rate === fastest);
    rows.push({
      label: `capacity per core implied by the CPU per call at ${fastest}/s (1 / CPU per call)`,
      unit: 'calls/s',
      router: perCore(at(router)?.cpuUsPerCall),
      baseline: perCore(at(baseline)?.cpuUsPerCall),
      better: 'higher',
      digits: 0,
    });
  }
  for (const rate of r.plan.latency.rates) {
    const at = (x: RouterResults | undefined): LatencyAtRate | undefined => x?.latency?.find((l) => l.rate === rate);
    for (const [key, name] of [['p50', 'p50'], ['p99', 'p99'], ['p999', 'p99.9']] as const) {
      rows.push({
        label: `added latency ${name} at ${rate}/s`,
        unit: 'ms',
        router: at(router)?.[key],
        baseline: at(baseline)?.[key],
        better: 'lower',
        ...(rate === 500 && key === 'p99' ? { target: { text: '≤ 2', met: (m: number) => m <= 2 } } : {}),
        digits: 2,
      });
    }
  }
  for (const rate of r.plan.latency.rates) {
    const at = (x: RouterResults | undefined): LatencyAtRate | undefined => x?.latency?.find((l) => l.rate === rate);
    rows.push({ label: `router CPU per call at ${rate}/s (user+system)`, unit: 'µs', router: at(router)?.cpuUsPerCall, baseline: at(baseline)?.cpuUsPerCall, better: 'lower', digits: 0 });
  }
  const mem = (x: RouterResults | undefined): MemoryFigures | undefined => x?.memory;
  if (mem(router) !== undefined || mem(baseline) !== undefined) {
    rows.push({ label: 'idle RSS', unit: 'MiB', router: scaled(mem(router)?.idleRss, MIB), baseline: scaled(mem(baseline)?.idleRss, MIB), better: 'lower', digits: 1 });
    const top = r.memoryLevels[r.memoryLevels.length - 1];
    for (const level of r.memoryLevels) {
      const at = (x: RouterResults | undefined) => mem(x)?.levels.find((l) => l.level === level);
      // Fewer calls than meant were waiting when the router could not take them all within the CRM's delay.
      const waiting = (x: RouterResults | undefined): string => {
        const w = at(x)?.waiting.median;
        return w !== undefined && w < level ? ` ${x === router ? 'crm-router' : 'baseline'}: ${w.toFixed(0)} waiting` : '';
      };
      const short = `${waiting(router)}${waiting(baseline)}`;
      rows.push({
        label: `RSS per waiting call at ${level}${short === '' ? '' : ` (${short.trim()})`}`,
        unit: 'KiB',
        router: scaled(at(router)?.rssPerCall, KB),
        baseline: scaled(at(baseline)?.rssPerCall, KB),
        better: 'lower',
        ...(level === top ? { target: { text: '≤ 20', met: (m: number) => m <= 20 } } : {}),
        digits: 1,
      });
      rows.push({ label: `heap per waiting call at ${level}`, unit: 'KiB', router: scaled(at(router)?.heapPerCall, KB), baseline: scaled(at(baseline)?.heapPerCall, KB), better: 'lower', digits: 1 });
    }
    rows.push({
      label: `RSS after the calls end − idle (settled, ≤ ${r.plan.memory.settleMs / 1000} s)`,
      unit: 'MiB',
      router: scaled(mem(router)?.afterRssDelta, MIB),
      baseline: scaled(mem(baseline)?.afterRssDelta, MIB),
      better: 'lower',
      target: { text: '≈ 0 (≤ 10% of the peak growth)', met: (m) => backToIdle(mem(router), m * MIB) },
      digits: 1,
    });
    rows.push({ label: 'time until the RSS settled', unit: 's', router: scaled(mem(router)?.afterMs, 1000), baseline: scaled(mem(baseline)?.afterMs, 1000), better: 'lower', digits: 1 });
    rows.push({ label: 'heap after the calls end − idle', unit: 'MiB', router: scaled(mem(router)?.afterHeapDelta, MIB), baseline: scaled(mem(baseline)?.afterHeapDelta, MIB), better: 'lower', digits: 2 });
  }
  return rows;
}

function backToIdle(m: MemoryFigures | undefined, afterDelta: number): boolean {
  const peak = m?.levels[m.levels.length - 1]?.rss.median;
  if (m === undefined || peak === undefined) return false;
  return afterDelta <= 0.1 * (peak - m.idleRss.median);
}

function table(rows: readonly Row[]): string {
  const header = ['figure', 'unit', 'crm-router', 'baseline', 'ratio', 'target', 'met'];
  const lines = rows.map((row) => {
    const digits = row.digits ?? 2;
    const q = ratio(row);
    const met = row.target && row.router ? (row.target.met(row.router.median) ? 'yes' : 'NO') : '';
    const ratioMark = q.ok === undefined ? '' : q.ok ? '' : ' !';
    return [row.label, row.unit, cell(row.router, digits), cell(row.baseline, digits), q.text + ratioMark, row.target?.text ?? '', met];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]?.length ?? 0)));
  const render = (cols: readonly string[]): string => cols.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ');
  return [render(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...lines.map(render)].join('\n');
}

export function renderReport(r: BenchResults): string {
  const out: string[] = [];
  out.push(`crm-router benchmark (${r.plan.name}) — ${r.date}`);
  out.push(`machine: ${r.cores} cores (${r.cpu}), Node ${r.node}, open-file limit ${r.fileLimit}; ${r.placement}`);
  out.push(`figures: median [min–max] of ${r.plan.runs} run${r.plan.runs === 1 ? '' : 's'}; ratio = crm-router ÷ baseline (! = outside ≥0.8× / ≤1.25×)`);
  for (const mode of r.plan.modes) {
    const byRouter = r.results[mode] ?? {};
    out.push('');
    out.push(`socket mode: ${mode}${mode === 'sync' ? ' (recommended by the README)' : ''}`);
    out.push(table(rowsFor(byRouter['crm-router'], byRouter.baseline, r, mode)));
    for (const kind of r.plan.routers) {
      const t = byRouter[kind]?.throughput;
      if (t?.generatorBound) out.push(`  ${kind}: throughput is the load generator's limit, not the router's (it passed every rate the generator could open).`);
    }
  }
  if (r.notes.length > 0) out.push('', ...r.notes.map((n) => `note: ${n}`));
  out.push('', `took ${r.seconds.toFixed(0)} s`);
  return out.join('\n');
}

export function writeResults(r: BenchResults, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${r.plan.name}-${r.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(join(dir, `latest-${r.plan.name}.json`), `${JSON.stringify(r, null, 2)}\n`);
  return file;
}
