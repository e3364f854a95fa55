/**
 * The three measurements, each on one router in one socket mode:
 *  - throughput: a ramp finds the knee, then `runs` runs hold it for `sustainSeconds`;
 *  - latency: router-added latency at fixed rates;
 *  - memory: calls held waiting on a slow CRM, the router's memory sampled at each level.
 */
import type { Memory } from './actors.ts';
import { measureRun, type RunStats, type Stage } from './measure.ts';
import type { Plan } from './plan.ts';
import { spread, type Spread } from './stats.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- throughput -----------------------------------------------------------------------------------

export interface ThroughputResult {
  /** The sustained rate of each run (0 when even the lowest rate failed). */
  readonly sustained: Spread;
  /** The knee was not found: the load generator could not open calls any faster. */
  readonly generatorBound: boolean;
  readonly steps: readonly RunStats[];
  readonly runs: readonly RunStats[];
}

export const passes = (s: RunStats, p99LimitMs: number): boolean => s.lost === 0 && s.added.p99 < p99LimitMs && s.generatorKeptUp;

/** The router was fine; only the generator fell behind. */
const onlyGeneratorFailed = (s: RunStats, p99LimitMs: number): boolean => !s.generatorKeptUp && s.lost === 0 && s.added.p99 < p99LimitMs;

const roundRate = (r: number): number => (r >= 1000 ? Math.round(r / 50) * 50 : Math.round(r / 10) * 10);

export async function throughput(stage: Stage, plan: Plan['throughput'], runs: number, log: (line: string) => void): Promise<ThroughputResult> {
  const sustainSeconds = plan.sustainSeconds[stage.mode];
  const steps: RunStats[] = [];
  const step = async (rate: number, seconds: number): Promise<RunStats> => {
    const s = await measureRun(stage, rate, seconds);
    log(`    ${rate}/s for ${seconds}s: ${describeRun(s)}${passes(s, plan.p99LimitMs) ? '' : '  ✗'}`);
    return s;
  };
  let pass: number | undefined;
  let fail: number | undefined;
  let generatorBound = false;
  for (let rate = plan.startRate; rate <= plan.maxRate; rate = roundRate(rate * plan.growth)) {
    const s = await step(rate, plan.stepSeconds);
    steps.push(s);
    if (passes(s, plan.p99LimitMs)) {
      pass = rate;
      continue;
    }
    fail = rate;
    generatorBound = onlyGeneratorFailed(s, plan.p99LimitMs);
    break;
  }
  // Even the first rate failed: come down until one passes.
  for (let rate = roundRate(plan.startRate / 2); pass === undefined && rate >= 20; rate = roundRate(rate / 2)) {
    const s = await step(rate, plan.stepSeconds);
    steps.push(s);
    if (passes(s, plan.p99LimitMs)) pass = rate;
    else fail = rate;
  }
  for (let i = 0; i < plan.bisections && pass !== undefined && fail !== undefined && !generatorBound; i++) {
    const mid = roundRate((pass + fail) / 2);
    if (mid === pass || mid === fail) break;
    const s = await step(mid, plan.stepSeconds);
    steps.push(s);
    if (passes(s, plan.p99LimitMs)) pass = mid;
    else fail = mid;
  }

  // Hold the knee; a run that does not pass throughout comes down 10% and runs again (at most 3 times).
  const held: RunStats[] = [];
  const sustained: number[] = [];
  let rate = pass ?? 0;
  for (let drops = 0; held.length < runs && rate > 0; ) {
    const s = await step(rate, sustainSeconds);
    if (passes(s, plan.p99LimitMs) || drops >= 3) {
      held.push(s);
      sustained.push(passes(s, plan.p99LimitMs) ? s.achievedRate : 0);
    } else {
      drops++;
      rate = roundRate(rate * 0.9);
    }
  }
  return { sustained: spread(sustained.length > 0 ? sustained : [0]), generatorBound, steps, runs: held };
}

export const describeRun = (s: RunStats): string =>
  `${s.bridged}/${s.placed} bridged, added p50 ${s.added.p50.toFixed(2)} p99 ${s.added.p99.toFixed(2)} ms` +
  (s.lost > 0 ? `, LOST ${s.lost} ${JSON.stringify(s.lostBy)}` : '') +
  (s.generatorKeptUp ? '' : `, generator behind (${s.achievedRate.toFixed(0)}/s, loop p99 ${s.generatorLoopP99Ms.toFixed(1)} ms)`);

// ---- latency ----------------------------------------------------------------------------------------

export interface LatencyAtRate {
  readonly rate: number;
  readonly p50: Spread;
  readonly p99: Spread;
  readonly p999: Spread;
  /** Calls per run: p99.9 of fewer than 1000 calls is their maximum. */
  readonly callsPerRun: number;
  readonly lost: number;
  readonly runs: readonly RunStats[];
}

export async function latency(stage: Stage, plan: Plan['latency'], runs: number, log: (line: string) => void): Promise<LatencyAtRate[]> {
  const byRate = new Map<number, RunStats[]>(plan.rates.map((r) => [r, []]));
  // Rates interleaved run by run, so that a slow drift of the machine spreads over all of them.
  for (let run = 0; run < runs; run++) {
    for (const rate of plan.rates) {
      const s = await measureRun(stage, rate, plan.seconds);
      log(`    ${rate}/s run ${run + 1}: ${describeRun(s)}`);
      byRate.get(rate)?.push(s);
    }
  }
  return plan.rates.map((rate) => {
    const all = byRate.get(rate) ?? [];
    return {
      rate,
      p50: spread(all.map((s) => s.added.p50)),
      p99: spread(all.map((s) => s.added.p99)),
      p999: spread(all.map((s) => s.added.p999)),
      callsPerRun: Math.round(rate * plan.seconds),
      lost: all.reduce((n, s) => n + s.lost, 0),
      runs: all,
    };
  });
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
  /** After every waiting call has ended and the router has had a moment. */
  readonly after: Memory;
  readonly lost: number;
}

export interface MemoryResult {
  readonly level: number;
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
      { host: router.host, port: router.port, mode: stage.mode, rate: plan.openRate, count, callTimeoutMs: plan.crmDelayMs + 15_000 },
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
  }
  const results = await Promise.all(running);
  await crm.setDelay(0);
  await crm.collect();
  // Let the calls' sockets close and their timers expire before the "after" sample.
  await sleep(1000);
  const after = await router.memory();
  const lost = results.reduce((n, r) => n + r.calls.filter((c) => c.status !== 'bridged').length, 0);
  log(`    idle rss ${mb(idle.rss)} heap ${mb(idle.heapUsed)}; after rss ${mb(after.rss)} heap ${mb(after.heapUsed)}${lost > 0 ? `; LOST ${lost}` : ''}`);
  return { idle, levels: samples, after, lost };
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export async function memory(stage: Stage, plan: Plan['memory'], levels: readonly number[], runs: number, log: (line: string) => void): Promise<MemoryFigures> {
  const all: MemoryRun[] = [];
  for (let run = 0; run < runs; run++) all.push(await memoryRun(stage, plan, levels, log));
  const per = (pick: (m: MemoryRun) => number): Spread => spread(all.map(pick));
  return {
    idleRss: per((r) => r.idle.rss),
    idleHeap: per((r) => r.idle.heapUsed),
    levels: levels.map((level, i) => ({
      level,
      rssPerCall: per((r) => ((r.levels[i]?.rss ?? Number.NaN) - r.idle.rss) / (r.levels[i]?.waiting || Number.NaN)),
      heapPerCall: per((r) => ((r.levels[i]?.heapUsed ?? Number.NaN) - r.idle.heapUsed) / (r.levels[i]?.waiting || Number.NaN)),
      rss: per((r) => r.levels[i]?.rss ?? Number.NaN),
      heap: per((r) => r.levels[i]?.heapUsed ?? Number.NaN),
    })),
    afterRssDelta: per((r) => r.after.rss - r.idle.rss),
    afterHeapDelta: per((r) => r.after.heapUsed - r.idle.heapUsed),
    lost: all.reduce((n, r) => n + r.lost, 0),
    runs: all,
  };
}
