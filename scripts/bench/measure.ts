/**
 * One measured run: the load generator places `rate` calls per second for `seconds` on a router, the
 * CRM answers at once, and each call's router-added latency is computed:
 *
 *   added = (bridge sendmsg read − TCP connect), as the emulated FreeSWITCH saw it
 *         − the CRM's own time for that call (request handed over → answer flushed), as the CRM saw it
 *
 * tied by the call uuid the router sends to the CRM.
 */
import type { Crm, LoadGenerator, Router } from './actors.ts';
import type { CallStatus, LoadResult } from './messages.ts';
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

export async function measureRun(stage: Stage, rate: number, seconds: number): Promise<RunStats> {
  const count = Math.max(1, Math.round(rate * seconds));
  await stage.crm.setDelay(0);
  await stage.crm.collect();
  const cpuBefore = stage.router.cpuMs();
  const running = stage.load.run(
    { host: stage.router.host, port: stage.router.port, mode: stage.mode, rate, count, callTimeoutMs: CALL_TIMEOUT_MS },
    seconds * 1000 * 3 + CALL_TIMEOUT_MS + 10_000,
  );
  const result = await running.done;
  const cpuMs = stage.router.cpuMs() - cpuBefore;
  return summarize(result, await stage.crm.collect(), rate, seconds, cpuMs);
}
