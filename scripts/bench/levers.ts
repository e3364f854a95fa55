/**
 * `npm run bench:levers [-- --quick] [--router-dir DIR]`: what each set-up lever of issue 13 would spare FreeSWITCH, before
 * crm-router is changed. The baseline router speaks crm-router's exchange; each variant changes it the
 * way one lever would (baseline-router.ts, Variant), and the emulated FreeSWITCH measures the proxies
 * (proxies.ts) for it, in both socket modes, next to crm-router as it is. A lever's gain is its row
 * against the baseline's own "today" row (same dialplan), which matches crm-router's today.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CallScript, SocketMode } from '../../spec/emulator/index.ts';
import { prepareRouters, startCrm, startRouter, type RouterKind } from './actors.ts';
import { pinSelf, placement } from './procs.ts';
import { measureProxies, PROXY_FULL, PROXY_QUICK, type ProxyFigures } from './proxies.ts';

/** The types `myevents` turns on (mod_event_socket.c): a nix of all but what the router reads. */
const MYEVENTS = [
  'CHANNEL_ANSWER', 'CHANNEL_APPLICATION', 'CHANNEL_BRIDGE', 'CHANNEL_CREATE', 'CHANNEL_DATA', 'CHANNEL_DESTROY',
  'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_ORIGINATE',
  'CHANNEL_UUID', 'CHANNEL_OUTGOING', 'CHANNEL_PARK', 'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_STATE',
  'CHANNEL_UNBRIDGE', 'CHANNEL_UNPARK', 'DETECTED_SPEECH', 'DTMF', 'NOTALK', 'TALK',
];
/** The five types crm-router read when the levers were weighed. */
const READ_BEFORE = new Set(['CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_BRIDGE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_PARK']);
const NIX_UNREAD = MYEVENTS.filter((t) => !READ_BEFORE.has(t));
/** What the nix- captures kept: EXECUTE_COMPLETE and HANGUP only (crm-router also reads BRIDGE and HANGUP_COMPLETE). */
const NIX_CAPTURE = MYEVENTS.filter((t) => t !== 'CHANNEL_EXECUTE_COMPLETE' && t !== 'CHANNEL_HANGUP');

/** The README's dialplan line sets both before `socket`: the case where the conditional multiset pays. */
const DIALPLAN_SETS_BOTH: CallScript = { variables: { hangup_after_bridge: 'true', continue_on_fail: 'true' } };

interface Case {
  readonly name: string;
  readonly router: RouterKind;
  readonly variant?: object;
  readonly script?: CallScript;
  /** The row this one is compared with. */
  readonly against?: string;
}

const ALL_LEVERS = { nix: NIX_UNREAD, multiset: 'if-unset', ringReady: 'after-ms', ringbackAfterMs: 200, bridge: 'early' };

const CASES: readonly Case[] = [
  { name: 'crm-router today', router: 'crm-router' },
  { name: 'crm-router today, dialplan sets both variables', router: 'crm-router', script: DIALPLAN_SETS_BOTH },
  { name: 'baseline = the exchange before issue 13', router: 'baseline' },
  { name: 'baseline today, dialplan sets both variables', router: 'baseline', script: DIALPLAN_SETS_BOTH },
  { name: 'nixevent of every type but the five crm-router read before the per-mode list', router: 'baseline', variant: { nix: NIX_UNREAD }, against: 'baseline = the exchange before issue 13' },
  { name: "nixevent as the captures (keeps EXECUTE_COMPLETE, HANGUP only)", router: 'baseline', variant: { nix: NIX_CAPTURE }, against: 'baseline = the exchange before issue 13' },
  { name: 'multiset only when unset (dialplan sets both)', router: 'baseline', variant: { multiset: 'if-unset' }, script: DIALPLAN_SETS_BOTH, against: 'baseline today, dialplan sets both variables' },
  { name: 'ring_ready only after 200 ms (instant CRM: never)', router: 'baseline', variant: { ringReady: 'after-ms', ringbackAfterMs: 200 }, against: 'baseline = the exchange before issue 13' },
  { name: "bridge written at the CRM's answer", router: 'baseline', variant: { bridge: 'early' }, against: 'baseline = the exchange before issue 13' },
  { name: 'no linger (FreeSWITCH closes after the hang-up)', router: 'baseline', variant: { linger: false }, against: 'baseline = the exchange before issue 13' },
  { name: 'linger, then close instead of exit', router: 'baseline', variant: { end: 'close' }, against: 'baseline = the exchange before issue 13' },
  { name: 'the four set-up levers together (dialplan sets both)', router: 'baseline', variant: ALL_LEVERS, script: DIALPLAN_SETS_BOTH, against: 'baseline today, dialplan sets both variables' },
  { name: 'the four set-up levers, dialplan sets neither', router: 'baseline', variant: ALL_LEVERS, against: 'baseline = the exchange before issue 13' },
  { name: 'the four set-up levers + close instead of exit (dialplan sets both)', router: 'baseline', variant: { ...ALL_LEVERS, end: 'close' }, script: DIALPLAN_SETS_BOTH, against: 'baseline today, dialplan sets both variables' },
];

const pct = (now: number, before: number): string => (before > 0 ? `${((100 * now) / before).toFixed(0)}%` : '—');

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const at = process.argv.indexOf('--router-dir');
  // crm-router of another checkout (a branch with the levers applied) in the crm-router rows.
  const routerDir = at >= 0 && process.argv[at + 1] !== undefined ? resolve(process.argv[at + 1]!) : undefined;
  const plan = quick ? PROXY_QUICK : PROXY_FULL;
  const place = placement();
  pinSelf(place);
  const dir = mkdtempSync(join(tmpdir(), 'crm-router-levers-'));
  prepareRouters(dir, routerDir);
  const crm = await startCrm(place);
  const results = new Map<string, Partial<Record<SocketMode, ProxyFigures>>>();
  try {
    for (const c of CASES) {
      const router = await startRouter(c.router, place, crm.url, dir, { baselineVariant: c.variant, routerDir });
      try {
        const row: Partial<Record<SocketMode, ProxyFigures>> = {};
        for (const mode of ['sync', 'async'] as const) {
          // A few calls first: JIT and the keep-alive pool, as the benchmark's warm-up.
          await measureProxies(router.host, router.port, mode, { calls: 5, delayedCalls: 2, replyDelayMs: plan.replyDelayMs }, c.script);
          row[mode] = await measureProxies(router.host, router.port, mode, plan, c.script);
        }
        results.set(c.name, row);
        process.stderr.write(`${c.name}: done\n`);
      } finally {
        await router.stop();
      }
    }
  } finally {
    await crm.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const out: string[] = [];
  out.push(`levers (emulated FreeSWITCH, instant CRM, ${plan.calls} calls one at a time per row and mode; round trips with every FreeSWITCH write delayed ${plan.replyDelayMs} ms, ${plan.delayedCalls} calls)`);
  out.push('');
  out.push('| exchange | mode | bytes FS→router | vs | events | executes | round trips | connect→bridge ms | executed |');
  out.push('|---|---|---|---|---|---|---|---|---|');
  for (const c of CASES) {
    for (const mode of ['sync', 'async'] as const) {
      const p = results.get(c.name)?.[mode];
      if (p === undefined) continue;
      const ref = c.against === undefined ? undefined : results.get(c.against)?.[mode];
      const vs = ref === undefined ? '' : `${pct(p.bytesToRouter.median, ref.bytesToRouter.median)}, ${p.executes.median - ref.executes.median >= 0 ? '+' : ''}${p.executes.median - ref.executes.median} exec, ${p.roundTrips - ref.roundTrips >= 0 ? '+' : ''}${p.roundTrips - ref.roundTrips} RT`;
      out.push(`| ${c.name} | ${mode} | ${p.bytesToRouter.median.toFixed(0)} | ${vs} | ${p.eventsToRouter.median} | ${p.executes.median} | ${p.roundTrips} | ${p.bridgeMs.median.toFixed(2)} | ${p.executed}${p.lost > 0 ? ` (${p.lost} NOT BRIDGED)` : ''} |`);
    }
  }
  out.push('');
  out.push(`nix of every unread type: ${NIX_UNREAD.join(' ')}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`levers failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
