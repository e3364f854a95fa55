/**
 * One measured run: the load generator places `rate` calls per second for `seconds` on a router, the
 * CRM answers at once, and each call's router-added latency is computed:
 *
 *   added = (bridge sendmsg read − TCP connect), as the emulated FreeSWITCH saw it
 *         − the CRM's own time for that call (request handed over → answer flushed), as the CRM saw it
 *
 * tied by the call uuid the router sends to the CRM.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { Crm, LoadGenerator, Router, RunningLoad } from './actors.ts';
import type { CallSample, CallStatus, LoadResult } from './messages.ts';
import type { SocketMode } from '../../spec/emulator/index.ts';
import { percentiles, type Percentiles } from './stats.ts';

export interface RunStats {
  readonly rate: number;
  readonly seconds: number;
  readonly achievedRate: number;
  readonly placed: number;
  readonly bridged: number;
  /** Calls that never got their bridge (refused, timed out, handed back): must be 0. */
  readonly lost: number;
  readonly lostBy: Partial<Record<CallStatus, number>>;
  /** Bridged calls the router then left lingering without `exit`. */
  readonly gaveUp: number;
  readonly added: Percentiles;
  /** The generator opened calls on time: its figures can be trusted. */
  readonly generatorKeptUp: boolean;
  readonly generatorLoopP99Ms: number;
  /**
   * The router process's CPU time (user + system) during the run, per call placed, in µs: steadier than
   * any latency percentile, and what bounds throughput on one core.
   */
  readonly cpuUsPerCall: number;
  /** Set when a held run was stopped as soon as it had failed, after this long. */
  readonly stoppedAfterSeconds?: number;
}

/** A call still going this long after its connect is destroyed and counted lost. */
const CALL_TIMEOUT_MS = 15_000;

/**
 * The generator counts as keeping up when it achieved 97% of the rate and never had more than 50 ms
 * worth of calls (at least 10) due but unopened: a single GC pause of its own is tolerated.
 */
export const keptUp = (result: LoadResult, rate: number): boolean =>
  result.achievedRate >= rate * 0.97 && result.maxBacklog <= Math.max(10, rate * 0.05);

export function summarize(result: LoadResult, crmMs: ReadonlyMap<string, number>, rate: number, seconds: number, cpuMs: number): RunStats {
  const added: number[] = [];
  const lostBy: Partial<Record<CallStatus, number>> = {};
  let bridged = 0;
  let gaveUp = 0;
  for (const call of result.calls) {
    if (call.gaveUp) gaveUp++;
    if (call.status !== 'bridged') {
      lostBy[call.status] = (lostBy[call.status] ?? 0) + 1;
      continue;
    }
    bridged++;
    const crm = crmMs.get(call.uuid);
    // A bridged call the CRM never saw answered would be a bug of the benchmark: count it lost.
    if (crm === undefined) lostBy['not-bridged'] = (lostBy['not-bridged'] ?? 0) + 1;
    else added.push(call.bridgeMs - crm);
  }
  return {
    rate,
    seconds,
    achievedRate: result.achievedRate,
    placed: result.calls.length,
    bridged,
    lost: result.calls.length - added.length,
    lostBy,
    gaveUp,
    added: percentiles(added),
    generatorKeptUp: keptUp(result, rate),
    generatorLoopP99Ms: result.loopDelayP99Ms,
    cpuUsPerCall: result.calls.length > 0 ? (cpuMs * 1000) / result.calls.length : Number.NaN,
  };
}

export interface Stage {
  readonly router: Router;
  readonly crm: Crm;
  readonly load: LoadGenerator;
  readonly mode: SocketMode;
}

const PROGRESS_MS = 1000;

/**
 * Watches a running load and stops it as soon as it cannot pass any more: a call lost, or more calls
 * over `p99LimitMs` than a nearest-rank p99 of `count` calls allows. Resolves with every CRM time
 * collected on the way (the CRM hands each out once) and when it stopped the run, if it did.
 */
async function failEarly(
  running: RunningLoad,
  crm: Crm,
  count: number,
  p99LimitMs: number,
): Promise<{ crmMs: Map<string, number>; stoppedAtMs: number | undefined }> {
  const crmMs = new Map<string, number>();
  const allowedOver = count - Math.ceil(0.99 * count);
  const start = performance.now();
  let finished = false;
  const done = running.done.then(
    () => (finished = true),
    () => (finished = true),
  );
  let unmatched: CallSample[] = [];
  let over = 0;
  while (!finished) {
    // The run's end ends the wait too: a hold is not stretched by a progress interval.
    await Promise.race([sleep(PROGRESS_MS), done]);
    if (finished) break;
    // Samples first: every call that has ended had its CRM answer recorded before, so the collect
    // that follows holds it.
    const ended = [...unmatched, ...(await running.progress())];
    for (const [uuid, ms] of await crm.collect()) crmMs.set(uuid, ms);
    unmatched = [];
    let lost = false;
    for (const call of ended) {
      if (call.status !== 'bridged') lost = true;
      else if (!crmMs.has(call.uuid)) unmatched.push(call);
      else if (call.bridgeMs - (crmMs.get(call.uuid) ?? 0) >= p99LimitMs) over++;
    }
    if (lost || over > allowedOver) {
      await running.stop();
      return { crmMs, stoppedAtMs: performance.now() - start };
    }
  }
  return { crmMs, stoppedAtMs: undefined };
}

/**
 * `failAbove`: a held run that is stopped once it has failed (see `failEarly`), so that a router that
 * cannot hold a rate does not spend the whole hold proving it.
 */
export async function measureRun(stage: Stage, rate: number, seconds: number, failAbove?: { p99LimitMs: number }): Promise<RunStats> {
  const count = Math.max(1, Math.round(rate * seconds));
  await stage.crm.setDelay(0);
  await stage.crm.collect();
  const cpuBefore = stage.router.cpuMs();
  const running = stage.load.run(
    { host: stage.router.host, port: stage.router.port, mode: stage.mode, rate, count, callTimeoutMs: CALL_TIMEOUT_MS },
    seconds * 1000 * 3 + CALL_TIMEOUT_MS + 10_000,
  );
  const watching = failAbove === undefined ? undefined : failEarly(running, stage.crm, count, failAbove.p99LimitMs);
  const result = await running.done;
  const watched = await watching;
  const cpuMs = stage.router.cpuMs() - cpuBefore;
  const crmMs = new Map([...(watched?.crmMs ?? []), ...(await stage.crm.collect())]);
  const stats = summarize(result, crmMs, rate, seconds, cpuMs);
  return watched?.stoppedAtMs === undefined ? stats : { ...stats, stoppedAfterSeconds: watched.stoppedAtMs / 1000 };
}
