/**
 * What the orchestrator and its child processes (CRM, load generator, router probe) say to each other
 * over Node's IPC channel. Plain JSON-able objects; each child answers a request with the same `id`.
 */
import type { SocketMode } from '../../spec/emulator/index.ts';

// ---- CRM process ------------------------------------------------------------------------------

export type CrmRequest =
  | { readonly type: 'answer'; readonly id: number; readonly delayMs: number }
  | { readonly type: 'status'; readonly id: number }
  | { readonly type: 'collect'; readonly id: number };

export type CrmReply =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'answer'; readonly id: number }
  | { readonly type: 'status'; readonly id: number; readonly waiting: number; readonly answered: number }
  /** Every request answered since the last collect: the call uuid and the CRM's own ms for it. */
  | { readonly type: 'collect'; readonly id: number; readonly uuids: string[]; readonly ms: number[] };

// ---- load generator ---------------------------------------------------------------------------

export interface LoadPlan {
  readonly host: string;
  readonly port: number;
  readonly mode: SocketMode;
  /** New calls per second, opened at a steady pace. */
  readonly rate: number;
  readonly count: number;
  /** A call not over this long after its connect is destroyed and counted as timed out. */
  readonly callTimeoutMs: number;
}

export type LoadRequest =
  | { readonly type: 'run'; readonly id: number; readonly plan: LoadPlan }
  /** The samples of run `run`'s calls that have ended since the last ask. */
  | { readonly type: 'progress'; readonly id: number; readonly run: number }
  /** Run `run` opens no more calls; it is done once the calls it opened have ended. */
  | { readonly type: 'stop'; readonly id: number; readonly run: number };

/** How one call went, seen from the emulated FreeSWITCH. */
export type CallStatus = 'bridged' | 'not-bridged' | 'refused' | 'timeout';

export interface CallSample {
  readonly uuid: string;
  readonly status: CallStatus;
  /** TCP connect to the bridge `sendmsg` read, ms; NaN when there was none. */
  readonly bridgeMs: number;
  /** The router let go without `exit` after lingering (the emulator gave up on it). */
  readonly gaveUp: boolean;
}

export interface LoadResult {
  readonly calls: CallSample[];
  /** Calls opened per second, measured from the first open to the last. */
  readonly achievedRate: number;
  /** Largest number of calls that were due but not yet opened: the generator falling behind. */
  readonly maxBacklog: number;
  /** The generator's own event-loop delay p99, ms: high means its numbers are suspect. */
  readonly loopDelayP99Ms: number;
}

export type LoadReply =
  | { readonly type: 'ready' }
  /** Every call of the run is connected (or failed to): the memory phase samples after this. */
  | { readonly type: 'opened'; readonly id: number }
  | { readonly type: 'done'; readonly id: number; readonly result: LoadResult }
  | { readonly type: 'progress'; readonly id: number; readonly samples: CallSample[] }
  | { readonly type: 'stop'; readonly id: number };

// ---- router probe -------------------------------------------------------------------------------

export type ProbeRequest = { readonly type: 'memory'; readonly id: number };
export type ProbeReply =
  | { readonly type: 'memory'; readonly id: number; readonly rss: number; readonly heapUsed: number; readonly heapTotal: number; readonly external: number }
  /** Sent by the baseline router once it listens (crm-router says so in its log). */
  | { readonly type: 'listening' };
