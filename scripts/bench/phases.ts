/**
 * The three measurements, each on one router in one socket mode:
 *  - throughput: a ramp finds the knee, then `runs` runs hold it for `sustainSeconds`;
 *  - latency: router-added latency at fixed rates;
 *  - memory: calls held waiting on a slow CRM, the router's memory sampled at each level.
 */
import type { Memory, Router } from './actors.ts';
import { measureRun, type RunStats, type Stage } from './measure.ts';
import type { Plan } from './plan.ts';
import { spread, type Spread } from './stats.ts';
import { performance } from 'node:perf_hooks';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- throughput and latency ----------------------------------------------------------------------

/**
 * One ramp: the latency rates (100, 500, 1000/s) in turn — each is also a latency measurement, so they
 * run whether or not a lower rate failed — then growing by `growth` while steps pass, then
 * `bisections` halvings between the knee (the highest rate below the first failure) and that failure.
 */
export interface Ramp {
  readonly knee: number;
  /** The knee was not found: the load generator could not open calls any faster. */
  readonly generatorBound: boolean;
  readonly steps: readonly RunStats[];
}

export interface ThroughputResult {
  /** Held runs' achieved rates (0 for a run that failed); without holding, the ramps' knees. */
  readonly sustained: Spread;
  /** Seconds each run held its rate; 0 when the figure is the ramps' knees. */
  readonly heldSeconds: number;
  readonly generatorBound: boolean;
  readonly ramps: readonly Ramp[];
  readonly held: readonly RunStats[];
  /** Held runs skipped to stay within the time budget. */
  readonly skipped: number;
}

export const passes = (s: RunStats, p99LimitMs: number): boolean =>
  s.stoppedAfterSeconds === undefined && s.lost === 0 && s.added.p99 < p99LimitMs && s.generatorKeptUp;

/** The router was fine; only the generator fell behind. */
const onlyGeneratorFailed = (s: RunStats, p99LimitMs: number): boolean => !s.generatorKeptUp && s.lost === 0 && s.added.p99 < p99LimitMs;

const roundRate = (r: number): number => (r >= 1000 ? Math.round(r / 50) * 50 : Math.round(r / 10) * 10);

export const describeRun = (s: RunStats): string =>
  `${s.bridged}/${s.placed} bridged, added p50 ${s.added.p50.toFixed(2)} p99 ${s.added.p99.toFixed(2)} ms` +
  (s.lost > 0 ? `, LOST ${s.lost} ${JSON.stringify(s.lostBy)}` : '') +
  (s.generatorKeptUp ? '' : `, generator behind (${s.achievedRate.toFixed(0)}/s, loop p99 ${s.generatorLoopP99Ms.toFixed(1)} ms)`) +
  (s.stoppedAfterSeconds === undefined ? '' : `, stopped after ${s.stoppedAfterSeconds.toFixed(1)} s: it could no longer pass`);

type Log = (line: string) => void;

async function ramp(stage: Stage, plan: Plan['throughput'], latencyRates: readonly number[], log: Log): Promise<Ramp> {
  const limit = plan.p99LimitMs;
  const steps: RunStats[] = [];
  // The knee is the highest rate that passed; one noisy failure at a lower rate does not hide it.
  let knee = 0;
  const failures: number[] = [];
  let generatorBound = false;
  const step = async (rate: number, ramping: boolean): Promise<boolean> => {
    const s = await measureRun(stage, rate, plan.stepSeconds);
    steps.push(s);
    const ok = passes(s, limit);
    log(`    ${rate}/s: ${describeRun(s)}${ok ? '' : '  ✗'}`);
    if (ok) knee = Math.max(knee, rate);
    else {
      failures.push(rate);
      if (ramping) generatorBound = onlyGeneratorFailed(s, limit);
    }
    return ok;
  };
  const fixed = [...latencyRates].sort((a, b) => a - b);
  let last = true;
  for (const rate of fixed) last = await step(rate, false);
  for (let rate = roundRate(knee * plan.growth); last && knee > 0 && rate <= plan.maxRate; rate = roundRate(rate * plan.growth)) {
    last = await step(rate, true);
  }
  // Even the lowest rate failed: come down until one passes.
  for (let rate = roundRate((fixed[0] ?? 100) / 2); knee === 0 && rate >= 20; rate = roundRate(rate / 2)) await step(rate, false);
  const above = (): number | undefined => failures.filter((f) => f > knee).sort((a, b) => a - b)[0];
  for (let i = 0; i < plan.bisections && knee > 0 && !generatorBound; i++) {
    const high = above();
    if (high === undefined) break;
    const mid = roundRate((knee + high) / 2);
    if (mid <= knee || mid >= high) break;
    await step(mid, false);
  }
  return { knee, generatorBound, steps };
}

export interface LatencyAtRate {
  readonly rate: number;
  readonly p50: Spread;
  readonly p99: Spread;
  readonly p999: Spread;
  /** The router's CPU time per call at this rate, µs. */
  readonly cpuUsPerCall: Spread;
  /** Calls per run: p99.9 of fewer than 1000 calls is their maximum. */
  readonly callsPerRun: number;
  readonly lost: number;
}

/** Latency at each fixed rate, from the ramps' steps at that rate. */
function latencyOf(ramps: readonly Ramp[], rates: readonly number[], seconds: number): LatencyAtRate[] {
  return rates.map((rate) => {
    const all = ramps.map((r) => r.steps.find((s) => s.rate === rate)).filter((s): s is RunStats => s !== undefined);
    return {
      rate,
      p50: spread(all.map((s) => s.added.p50)),
      p99: spread(all.map((s) => s.added.p99)),
      p999: spread(all.map((s) => s.added.p999)),
      cpuUsPerCall: spread(all.map((s) => s.cpuUsPerCall)),
      callsPerRun: Math.round(rate * seconds),
      lost: all.reduce((n, s) => n + s.lost, 0),
    };
  });
}

/**
 * `runs` ramps (each also measuring latency at the fixed rates), then, when `holdSeconds` > 0, `runs`
 * runs holding the ramps' median knee; a run that fails brings the next one down 10%. Held runs that
 * would end after `holdDeadline()` (ms, performance.now(), asked when the holds begin) are skipped and
 * counted.
 */
export async function throughputAndLatency(
  stage: Stage,
  plan: Plan,
  holdSeconds: number,
  holdDeadline: () => number,
  log: Log,
): Promise<{ throughput: ThroughputResult; latency: LatencyAtRate[] }> {
  const ramps: Ramp[] = [];
  for (let run = 0; run < plan.runs; run++) {
    log(`    ramp ${run + 1}/${plan.runs}`);
    ramps.push(await ramp(stage, plan.throughput, plan.latency.rates, log));
  }
  const knees = spread(ramps.map((r) => r.knee));
  const generatorBound = ramps.some((r) => r.generatorBound);
  const held: RunStats[] = [];
  const rates: number[] = [];
  let skipped = 0;
  let rate = knees.median;
  const deadline = holdSeconds > 0 ? holdDeadline() : 0;
  for (let run = 0; holdSeconds > 0 && run < plan.runs && rate > 0; run++) {
    if (performance.now() + (holdSeconds + 1) * 1000 > deadline) {
      skipped++;
      continue;
    }
    const s = await measureRun(stage, rate, holdSeconds, { p99LimitMs: plan.throughput.p99LimitMs });
    const ok = passes(s, plan.throughput.p99LimitMs);
    log(`    hold ${rate}/s for ${holdSeconds} s: ${describeRun(s)}${ok ? '' : '  ✗'}`);
    held.push(s);
    rates.push(ok ? s.achievedRate : 0);
    if (!ok) rate = roundRate(rate * 0.9);
  }
  const sustained = holdSeconds > 0 && rates.length > 0 ? spread(rates) : knees;
  return {
    throughput: { sustained, heldSeconds: holdSeconds > 0 && rates.length > 0 ? holdSeconds : 0, generatorBound, ramps, held, skipped },
    latency: latencyOf(ramps, plan.latency.rates, plan.throughput.stepSeconds),
  };
}

// ---- memory -------------------------------------------------------------------------------------------

export interface MemoryLevel {
  /** Calls meant to wait. */
  readonly level: number;
  /** Requests the CRM held when the router was sampled (equal to level unless some were answered). */
  readonly waiting: number;
  readonly rss: number;
  readonly heapUsed: number;
}

export interface MemoryRun {
  readonly idle: Memory;
  readonly levels: readonly MemoryLevel[];
  /** After every waiting call has ended, once the RSS has settled (see `settled`). */
  readonly after: Memory;
  /** How long after the calls ended `after` was sampled. */
  readonly afterMs: number;
  readonly lost: number;
}

export interface MemoryResult {
  readonly level: number;
  /** Calls actually waiting on the CRM when sampled. */
  readonly waiting: Spread;
  readonly rssPerCall: Spread;
  readonly heapPerCall: Spread;
  readonly rss: Spread;
  readonly heap: Spread;
}

export interface MemoryFigures {
  readonly idleRss: Spread;
  readonly idleHeap: Spread;
  readonly levels: readonly MemoryResult[];
  /** RSS and heap after the calls ended, minus idle. */
  readonly afterRssDelta: Spread;
  readonly afterHeapDelta: Spread;
  /** How long after the calls ended the "after" sample was taken (`settleMs`: it had not settled). */
  readonly afterMs: Spread;
  readonly lost: number;
  readonly runs: readonly MemoryRun[];
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(20);
  }
  return false;
}

const SETTLE_STEP_MS = 500;

/**
 * The router's memory once the calls have ended: V8 gives freed pages back to the system a few seconds
 * after a burst (its memory reducer and unmapper run on timers), so it is sampled every half second until
 * the RSS is back within a tenth of the peak's growth over idle — the target's own bound — or `settleMs`
 * has passed. A full GC comes first every time (the probe runs one).
 */
async function settled(router: Router, idle: Memory, levels: readonly MemoryLevel[], settleMs: number): Promise<{ memory: Memory; ms: number }> {
  const peak = Math.max(idle.rss, ...levels.map((l) => l.rss));
  const bound = idle.rss + 0.1 * (peak - idle.rss);
  const start = performance.now();
  for (;;) {
    await sleep(SETTLE_STEP_MS);
    const memory = await router.memory();
    const ms = Math.round(performance.now() - start);
    if (memory.rss <= bound || ms >= settleMs) return { memory, ms };
  }
}

/**
 * One run: calls are opened level by level (all within the CRM's delay, so none is answered before
 * the last sample); at each level, once the CRM holds that many requests, the router is sampled.
 */
async function memoryRun(stage: Stage, plan: Plan['memory'], levels: readonly number[], log: (line: string) => void): Promise<MemoryRun> {
  const { router, crm, load } = stage;
  await crm.setDelay(plan.crmDelayMs);
  await crm.collect();
  const idle = await router.memory();
  const samples: MemoryLevel[] = [];
  const running = [];
  let opened = 0;
  for (const level of levels) {
    const count = level - opened;
    const run = load.run(
      { host: router.host, port: router.port, mode: stage.mode, rate: plan.openRate, count, callTimeoutMs: plan.crmDelayMs + 3000 },
      plan.crmDelayMs + 60_000,
    );
    running.push(run.done);
    await run.opened;
    opened = level;
    let status = await crm.status();
    await until(async () => {
      status = await crm.status();
      return status.waiting >= level;
    }, plan.crmDelayMs);
    const memory = await router.memory();
    samples.push({ level, waiting: status.waiting, rss: memory.rss, heapUsed: memory.heapUsed });
    log(`    ${level} calls (${status.waiting} waiting on the CRM): rss ${mb(memory.rss)}, heap ${mb(memory.heapUsed)}`);
    // A router that could not take half of this level within the CRM's delay will not take more.
    if (status.waiting < level / 2) break;
  }
  const results = await Promise.all(running);
  await crm.setDelay(0);
  await crm.collect();
  const after = await settled(router, idle, samples, plan.settleMs);
  const lost = results.reduce((n, r) => n + r.calls.filter((c) => c.status !== 'bridged').length, 0);
  log(`    idle rss ${mb(idle.rss)} heap ${mb(idle.heapUsed)}; ${after.ms} ms after: rss ${mb(after.memory.rss)} heap ${mb(after.memory.heapUsed)}${lost > 0 ? `; LOST ${lost}` : ''}`);
  return { idle, levels: samples, after: after.memory, afterMs: after.ms, lost };
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export async function memory(stage: Stage, plan: Plan['memory'], levels: readonly number[], runs: number, log: (line: string) => void): Promise<MemoryFigures> {
  const all: MemoryRun[] = [];
  for (let run = 0; run < runs; run++) all.push(await memoryRun(stage, plan, levels, log));
  const per = (pick: (m: MemoryRun) => number): Spread => spread(all.map(pick));
  // A level counts only if (nearly) all its calls were waiting when sampled: otherwise the sample holds
  // calls being answered and torn down, and "per waiting call" would mean nothing.
  const perCall = (i: number, field: 'rss' | 'heapUsed', idle: (r: MemoryRun) => number): Spread =>
    per((r) => {
      const at = r.levels[i];
      if (at === undefined || at.waiting < 0.9 * at.level) return Number.NaN;
      return (at[field] - idle(r)) / at.waiting;
    });
  return {
    idleRss: per((r) => r.idle.rss),
    idleHeap: per((r) => r.idle.heapUsed),
    levels: levels.map((level, i) => ({
      level,
      waiting: per((r) => r.levels[i]?.waiting ?? Number.NaN),
      rssPerCall: perCall(i, 'rss', (r) => r.idle.rss),
      heapPerCall: perCall(i, 'heapUsed', (r) => r.idle.heapUsed),
      rss: per((r) => r.levels[i]?.rss ?? Number.NaN),
      heap: per((r) => r.levels[i]?.heapUsed ?? Number.NaN),
    })),
    afterRssDelta: per((r) => r.after.rss - r.idle.rss),
    afterHeapDelta: per((r) => r.after.heapUsed - r.idle.heapUsed),
    afterMs: per((r) => r.afterMs),
    lost: all.reduce((n, r) => n + r.lost, 0),
    runs: all,
  };
}
