/**
 * What a router makes FreeSWITCH do per call, measured from the emulated FreeSWITCH (whose frames are
 * the real ones) on calls placed one at a time, the CRM answering at once. These drive FreeSWITCH's own
 * CPU per call and the caller's post-dial delay on a real FreeSWITCH (scripts/bench/freeswitch-cost.ts
 * measures those), without the noise of a shared machine:
 *
 *  - bytes FreeSWITCH sends the router for the whole call (every event it serialises and writes);
 *  - header bytes the router sends FreeSWITCH: mod_event_socket reads a header block one byte per
 *    recv() and yields after each (read_packet), a body in one, so these are what its reading costs;
 *  - commands FreeSWITCH executes: each `sendmsg` with `call-command: execute`, and each `api`;
 *  - round trips before the `bridge` goes out: how many of FreeSWITCH's answers the bridge waited for.
 *    Every byte FreeSWITCH writes is held back `replyDelayMs` (order kept); the bridge then comes that
 *    much later per answer it waited for. Round trips = (connect→bridge with the delay − without) ÷ delay,
 *    of the fastest call of each (noise on a shared machine only ever adds time), rounded: whatever the
 *    router sends and however it overlaps its set-up with the CRM request;
 *  - connect → bridge written, ms, without the delay (loopback, instant CRM).
 *
 * Whatever the router sends is measured, so the same figures follow any change to its exchange.
 */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { EmulatedCall } from '../../spec/emulator/call.ts';
import type { CallScript, SocketMode } from '../../spec/emulator/index.ts';
import { spread, type Spread } from './stats.ts';

export interface ProxySample {
  /** FreeSWITCH → router, the whole call. */
  readonly bytesToRouter: number;
  readonly bytesFromRouter: number;
  /** Router → FreeSWITCH, header blocks only: what FreeSWITCH reads one byte per recv() (bodies it reads at once). */
  readonly headerBytesFromRouter: number;
  readonly eventsToRouter: number;
  readonly executes: number;
  /** Applications executed and api commands, in order (e.g. `multiset ring_ready bridge`). */
  readonly executed: readonly string[];
  /** Every command the router sent, by name, in order. */
  readonly commands: readonly string[];
  /** ms from TCP connect to the bridge sendmsg read; NaN when there was none. */
  readonly bridgeMs: number;
  readonly bridged: boolean;
}

export interface ProxyFigures {
  readonly calls: number;
  readonly bytesToRouter: Spread;
  readonly bytesFromRouter: Spread;
  readonly headerBytesFromRouter: Spread;
  readonly eventsToRouter: Spread;
  readonly executes: Spread;
  readonly roundTrips: number;
  /** Connect → bridge, ms, at no added delay: median and spread over the calls. */
  readonly bridgeMs: Spread;
  readonly bridgeMsDelayed: Spread;
  readonly replyDelayMs: number;
  /** The first call's command sequence and executed applications, as a reader would check them. */
  readonly commands: string;
  readonly executed: string;
  readonly lost: number;
}

const CALL_TIMEOUT_MS = 10_000;

/** One call, FreeSWITCH's writes (and its close) held back `replyDelayMs` each. */
export function proxyCall(host: string, port: number, script: CallScript, replyDelayMs = 0): Promise<ProxySample> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, noDelay: true });
    let t0 = Number.NaN;
    let bridgeMs = Number.NaN;
    let bytesToRouter = 0;
    let bytesFromRouter = 0;
    let headerBytesFromRouter = 0;
    let eventsToRouter = 0;
    let executes = 0;
    const executed: string[] = [];
    const commands: string[] = [];
    let done = false;
    const later = (fn: () => void): void => {
      if (replyDelayMs > 0) setTimeout(fn, replyDelayMs);
      else fn();
    };
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytesToRouter, bytesFromRouter, headerBytesFromRouter, eventsToRouter, executes, executed, commands, bridgeMs, bridged: !Number.isNaN(bridgeMs) });
    };
    const timer = setTimeout(finish, CALL_TIMEOUT_MS);
    socket.once('error', finish);
    socket.once('connect', () => {
      t0 = performance.now();
      const call = new EmulatedCall(
        {
          parkDelayMs: 0,
          ...script,
          onCommand: (command) => {
            commands.push(command.name);
            headerBytesFromRouter += command.raw.indexOf('\n\n') + 2;
            const app = command.headers['execute-app-name'];
            if (command.name === 'sendmsg' && (command.headers['call-command'] ?? '').toLowerCase() === 'execute') {
              executes++;
              executed.push(app ?? '?');
              if (app === 'bridge' && Number.isNaN(bridgeMs)) bridgeMs = performance.now() - t0;
            } else if (command.name === 'api') {
              executes++;
              executed.push(`api ${command.raw.split('\n')[0]!.slice(4).split(' ')[0] ?? ''}`);
            }
          },
        },
        {
          write: (data) => {
            bytesToRouter += data.length;
            if (data.includes('\nContent-Type: text/event-plain\n')) eventsToRouter++;
            later(() => {
              if (!socket.destroyed) socket.write(data, 'latin1');
            });
          },
          end: () => later(() => socket.end()),
          reset: () => socket.resetAndDestroy(),
        },
      );
      socket.on('data', (b: Buffer) => {
        bytesFromRouter += b.length;
        call.onData(b);
      });
      socket.on('end', () => call.onRouterClose());
      socket.on('close', () => {
        call.onRouterClose();
        finish();
      });
      void call.result.then(() => later(finish));
    });
  });
}

export interface ProxyPlan {
  /** Calls at no added delay (bytes, executes, connect→bridge). */
  readonly calls: number;
  /** Calls with every FreeSWITCH write delayed (round trips). */
  readonly delayedCalls: number;
  readonly replyDelayMs: number;
}

export const PROXY_FULL: ProxyPlan = { calls: 40, delayedCalls: 15, replyDelayMs: 25 };
export const PROXY_QUICK: ProxyPlan = { calls: 12, delayedCalls: 5, replyDelayMs: 25 };

/** Calls placed one after another on the router at host:port. */
export async function measureProxies(host: string, port: number, mode: SocketMode, plan: ProxyPlan, script: CallScript = {}): Promise<ProxyFigures> {
  const plain: ProxySample[] = [];
  const delayed: ProxySample[] = [];
  for (let i = 0; i < plan.calls; i++) plain.push(await proxyCall(host, port, { mode, ...script }));
  for (let i = 0; i < plan.delayedCalls; i++) delayed.push(await proxyCall(host, port, { mode, ...script }, plan.replyDelayMs));
  const ok = plain.filter((s) => s.bridged);
  const bridgeMs = spread(ok.map((s) => s.bridgeMs));
  const bridgeMsDelayed = spread(delayed.filter((s) => s.bridged).map((s) => s.bridgeMs));
  const first = ok[0];
  return {
    calls: plain.length,
    bytesToRouter: spread(ok.map((s) => s.bytesToRouter)),
    bytesFromRouter: spread(ok.map((s) => s.bytesFromRouter)),
    headerBytesFromRouter: spread(ok.map((s) => s.headerBytesFromRouter)),
    eventsToRouter: spread(ok.map((s) => s.eventsToRouter)),
    executes: spread(ok.map((s) => s.executes)),
    roundTrips: Math.round((bridgeMsDelayed.min - bridgeMs.min) / plan.replyDelayMs),
    bridgeMs,
    bridgeMsDelayed,
    replyDelayMs: plan.replyDelayMs,
    commands: first?.commands.join(' ') ?? '',
    executed: first?.executed.join(' ') ?? '',
    lost: plain.length + delayed.length - ok.length - delayed.filter((s) => s.bridged).length,
  };
}

export const describeProxies = (p: ProxyFigures): string =>
  `${p.bytesToRouter.median.toFixed(0)} B to the router, ${p.headerBytesFromRouter.median.toFixed(0)} header B from it, ${p.eventsToRouter.median} events, ${p.executes.median} executes (${p.executed}), ` +
  `${p.roundTrips} round trips before the bridge, connect→bridge ${p.bridgeMs.median.toFixed(2)} ms` +
  (p.lost > 0 ? `, ${p.lost} NOT BRIDGED` : '');
