/**
 * `npm run bench:freeswitch -- --freeswitch <build dir>`: what routing a call costs a REAL FreeSWITCH,
 * measured as issue 13's table: sipp places calls (caller UAC → FreeSWITCH → callee UAS, media
 * bypassed), an instant CRM, and for each route
 *
 *  - FreeSWITCH CPU per call: utime + stime of the FreeSWITCH process (/proc/<pid>/stat) over a fixed
 *    number of calls at a fixed rate, minus FreeSWITCH's idle CPU over the same time (measured first);
 *  - post-dial delay p50: the caller's INVITE sent → the callee's INVITE received, from sipp's message
 *    traces (µs timestamps, one clock), matched per call by the unique number each call dials.
 *
 * With `--strace DIR`, FreeSWITCH runs each phase under `strace -f -c`, and its system calls per call are
 * reported by name: counts that the machine's noise does not move, where its CPU time moves by a
 * millisecond between runs (FreeSWITCH reads each header byte of a command with one read() and one
 * sched_yield()).
 *
 * Routes: `floor` (the dialplan bridges by itself), `sync` and `async` (crm-router, `socket ... full` /
 * `async full`), and the baseline router's exchanges (`baseline-sync`, `levers-sync`, ...: see ROUTES),
 * run back to back, `--runs` times in turn; each figure is the median of the runs.
 *
 * Everything runs on offset ports so as not to meet other FreeSWITCH instances on the machine: event
 * socket 8221, SIP 5290 (callers) and 5291 (the gateway's side), the router on 127.0.0.1:8284, sipp on
 * 5390 (caller) and 5391 (callee); FreeSWITCH gets its own conf, log, db and run folders in a temporary
 * folder and is stopped at the end, whatever happens. Without `--freeswitch` (or without sipp) it says
 * so and exits 0.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { prepareRouters, startRouter, type Router } from './actors.ts';
import { argumentReader } from './args.ts';
import { WARM_UP } from './plan.ts';
import { REPO, type Placement } from './procs.ts';
import { proxyCall } from './proxies.ts';
import { percentile, spread, type Spread } from './stats.ts';

const ESL_PORT = 8221;
const SIP_CALLERS = 5290;
const SIP_GATEWAY = 5291;
const ROUTER_PORT = 8284;
const SIPP_CALLER = 5390;
const SIPP_CALLEE = 5391;

interface Route {
  /** The dialplan extension: the caller dials `<prefix>-<number>`. */
  readonly prefix: string;
  readonly router: 'none' | 'crm-router' | 'baseline';
  readonly variant?: object;
  readonly what: string;
}

/** The first nixevent lever: every type `myevents` turns on but the five crm-router read at the time (HANGUP, HANGUP_COMPLETE, BRIDGE, EXECUTE_COMPLETE, PARK). */
const NIX_UNREAD = [
  'CHANNEL_ANSWER', 'CHANNEL_APPLICATION', 'CHANNEL_CREATE', 'CHANNEL_DATA', 'CHANNEL_DESTROY', 'CHANNEL_EXECUTE',
  'CHANNEL_ORIGINATE', 'CHANNEL_UUID', 'CHANNEL_OUTGOING', 'CHANNEL_PARK', 'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA',
  'CHANNEL_STATE', 'CHANNEL_UNBRIDGE', 'CHANNEL_UNPARK', 'DETECTED_SPEECH', 'DTMF', 'NOTALK', 'TALK',
];
const LEVERS = { nix: NIX_UNREAD, multiset: 'if-unset', ringReady: 'after-ms', ringbackAfterMs: 200, bridge: 'early' };

const ROUTES: Readonly<Record<string, Route>> = {
  floor: { prefix: 'floor', router: 'none', what: 'static dialplan bridge (the floor)' },
  sync: { prefix: 'sync', router: 'crm-router', what: 'crm-router, sync (socket ... full)' },
  async: { prefix: 'async', router: 'crm-router', what: 'crm-router, async (socket ... async full)' },
  'sync-inline': { prefix: 'syncinline', router: 'crm-router', what: 'crm-router, sync, the dialplan setting both variables inline (the router sets neither)' },
  'async-inline': { prefix: 'asyncinline', router: 'crm-router', what: 'crm-router, async, the dialplan setting both variables inline (the router sets neither)' },
  'baseline-sync': { prefix: 'sync', router: 'baseline', what: "baseline router, crm-router's exchange before issue 13, sync" },
  'nix-sync': { prefix: 'sync', router: 'baseline', variant: { nix: NIX_UNREAD }, what: 'baseline + nixevent of every unread type, sync' },
  'multiset-syncset': { prefix: 'syncset', router: 'baseline', variant: { multiset: 'if-unset' }, what: 'baseline + multiset only if unset (dialplan sets both), sync' },
  'ringready-sync': { prefix: 'sync', router: 'baseline', variant: { ringReady: 'after-ms', ringbackAfterMs: 200 }, what: 'baseline + ring_ready only after 200 ms (instant CRM: never), sync' },
  'early-sync': { prefix: 'sync', router: 'baseline', variant: { bridge: 'early' }, what: "baseline + bridge written at the CRM's answer, sync" },
  'baseline-syncinline': { prefix: 'syncinline', router: 'baseline', what: "baseline, the exchange before issue 13, dialplan sets both variables inline (at hunting, no execute), sync" },
  'levers-syncinline': { prefix: 'syncinline', router: 'baseline', variant: LEVERS, what: 'baseline + the four set-up levers, dialplan sets both inline, sync' },
  'levers-sync': { prefix: 'syncset', router: 'baseline', variant: LEVERS, what: 'baseline + nixevent, multiset only if unset (dialplan sets both), ring_ready after 200 ms, bridge at the answer, sync' },
  'bare-sync': { prefix: 'sync', router: 'baseline', variant: { bare: 'connect-bridge' }, what: 'a bare socket router: connect, bridge, nothing else, sync' },
  'bare-myevents-sync': { prefix: 'sync', router: 'baseline', variant: { bare: 'myevents' }, what: 'the bare router plus myevents, sync' },
  'bare-nix-sync': { prefix: 'sync', router: 'baseline', variant: { bare: 'myevents-nix' }, what: 'the bare router plus myevents and one nixevent (as the nix- captures), sync' },
  'bare-myfilter-sync': { prefix: 'sync', router: 'baseline', variant: { bare: 'myevents-filter' }, what: 'the bare router plus myevents and two filters (Event-Name CHANNEL_EXECUTE_COMPLETE, CHANNEL_HANGUP), sync' },
  'bare-eventfilter-sync': { prefix: 'sync', router: 'baseline', variant: { bare: 'event-filter' }, what: 'the bare router plus filter Unique-ID <uuid> and event plain CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP, sync' },
  'bare-padheader-sync': { prefix: 'sync', router: 'baseline', variant: { bare: 'connect-bridge', pad: { bytes: 500, as: 'header' } }, what: 'the bare router, its bridge carrying 500 more bytes in a header, sync' },
  'bare-padbody-sync': { prefix: 'sync', router: 'baseline', variant: { bare: 'connect-bridge', pad: { bytes: 500, as: 'body' } }, what: 'the bare router, its bridge carrying 500 more bytes as a body, sync' },
  'baseline-syncset': { prefix: 'syncset', router: 'baseline', what: "baseline, crm-router's exchange before issue 13, dialplan sets both variables, sync" },
};

interface Options {
  readonly freeswitch: string | undefined;
  readonly calls: number;
  readonly rate: number;
  readonly holdMs: number;
  readonly runs: number;
  readonly routes: readonly string[];
  readonly idleSeconds: number;
  /** Another checkout, built and run as crm-router (e.g. a branch with the levers). */
  readonly routerDir: string | undefined;
  /** Where `perf record -g` of FreeSWITCH over each phase goes (`<route>-<ms>.data`), if anywhere. */
  readonly perfDir: string | undefined;
  /** Where `strace -f -c` of FreeSWITCH over each phase goes (`<route>-<ms>.txt`), if anywhere: system calls per call. */
  readonly straceDir: string | undefined;
  /** Where each router's `--cpu-prof` profile goes (`<dir>/<router kind>/`, warm-up included: `--cold` leaves it out), if anywhere. */
  readonly profileDir: string | undefined;
  /** Whether each router serves WARM_UP_CALLS emulated calls before the measured ones (`--cold`: not). */
  readonly warmUp: boolean;
}

const USAGE = `usage: npm run bench:freeswitch -- --freeswitch <dir with fs/bin/freeswitch> [--calls 400] [--rate 20] [--hold-ms 1000]
                                  [--runs 3] [--router-dir DIR] [--perf DIR] [--strace DIR] [--profile DIR] [--cold] [--routes floor,sync,async${Object.keys(ROUTES).slice(3).map((r) => `,${r}`).join('')}]`;

function parseOptions(argv: readonly string[]): Options {
  let o: Options = { freeswitch: undefined, calls: 400, rate: 20, holdMs: 1000, runs: 3, routes: ['floor', 'sync', 'async'], idleSeconds: 5, routerDir: undefined, perfDir: undefined, straceDir: undefined, profileDir: undefined, warmUp: true };
  const { next, value, positive } = argumentReader(argv, USAGE);
  for (let flag = next(); flag !== undefined; flag = next()) {
    switch (flag) {
      case '--freeswitch': o = { ...o, freeswitch: value() }; break;
      case '--calls': o = { ...o, calls: Math.round(positive()) }; break;
      case '--rate': o = { ...o, rate: positive() }; break;
      case '--hold-ms': o = { ...o, holdMs: Math.round(positive()) }; break;
      case '--runs': o = { ...o, runs: Math.round(positive()) }; break;
      case '--router-dir': o = { ...o, routerDir: resolve(value()) }; break;
      case '--perf': o = { ...o, perfDir: resolve(value()) }; mkdirSync(o.perfDir!, { recursive: true }); break;
      case '--strace': o = { ...o, straceDir: resolve(value()) }; mkdirSync(o.straceDir!, { recursive: true }); break;
      case '--profile': o = { ...o, profileDir: resolve(value()) }; break;
      case '--cold': o = { ...o, warmUp: false }; break;
      case '--routes': {
        const routes = value().split(',');
        const unknown = routes.filter((r) => ROUTES[r] === undefined);
        if (unknown.length > 0) throw new Error(`unknown route ${unknown.join(', ')}\n${USAGE}`);
        o = { ...o, routes };
        break;
      }
      default: throw new Error(`unknown argument ${flag}\n${USAGE}`);
    }
  }
  return o;
}

// ---- FreeSWITCH's configuration ------------------------------------------------------------------------

const xml = (strings: TemplateStringsArray, ...values: unknown[]): string => strings.reduce((s, part, i) => s + part + (i < values.length ? String(values[i]) : ''), '');

/** The whole configuration: two SIP profiles, the gateway `pstn` to the callee sipp, the bench dialplan. */
function writeConf(dir: string): void {
  const file = (name: string, text: string): void => {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  };
  const socket = `127.0.0.1:${ROUTER_PORT}`;
  file('freeswitch.xml', xml`<?xml version="1.0"?>
<document type="freeswitch/xml">
  <X-PRE-PROCESS cmd="set" data="global_codec_prefs=PCMU,PCMA"/>
  <section name="configuration" description="Various Configuration">
    <X-PRE-PROCESS cmd="include" data="autoload_configs/*.xml"/>
  </section>
  <section name="dialplan" description="Regex/XML Dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
  </section>
</document>
`);
  file('autoload_configs/modules.conf.xml', `<configuration name="modules.conf" description="Modules">
  <modules>
    <load module="mod_event_socket"/>
    <load module="mod_sofia"/>
    <load module="mod_commands"/>
    <load module="mod_dptools"/>
    <load module="mod_dialplan_xml"/>
  </modules>
</configuration>
`);
  file('autoload_configs/event_socket.conf.xml', xml`<configuration name="event_socket.conf" description="Socket Client">
  <settings>
    <param name="nat-map" value="false"/>
    <param name="listen-ip" value="127.0.0.1"/>
    <param name="listen-port" value="${ESL_PORT}"/>
    <param name="password" value="ClueCon"/>
  </settings>
</configuration>
`);
  // Logging at warning: what FreeSWITCH logs per call at info costs CPU of its own, the same for every route.
  file('autoload_configs/switch.conf.xml', `<configuration name="switch.conf" description="Core Configuration">
  <settings>
    <param name="colorize-console" value="false"/>
    <param name="max-sessions" value="4000"/>
    <param name="sessions-per-second" value="2000"/>
    <param name="loglevel" value="warning"/>
    <param name="rtp-start-port" value="39000"/>
    <param name="rtp-end-port" value="39999"/>
  </settings>
</configuration>
`);
  const profile = (name: string, port: number, context: string, gateway: string): string => `<profile name="${name}">
  <gateways>${gateway}</gateways>
  <settings>
    <param name="sip-ip" value="127.0.0.1"/>
    <param name="rtp-ip" value="127.0.0.1"/>
    <param name="ext-sip-ip" value="127.0.0.1"/>
    <param name="ext-rtp-ip" value="127.0.0.1"/>
    <param name="sip-port" value="${port}"/>
    <param name="auth-calls" value="false"/>
    <param name="dialplan" value="XML"/>
    <param name="context" value="${context}"/>
    <param name="codec-prefs" value="$\${global_codec_prefs}"/>
    <param name="manage-presence" value="false"/>
    <param name="inbound-late-negotiation" value="false"/>
  </settings>
</profile>`;
  const gateway = `
    <gateway name="pstn">
      <param name="proxy" value="127.0.0.1:${SIPP_CALLEE}"/>
      <param name="register" value="false"/>
      <param name="username" value="crm-router"/>
      <param name="password" value="unused"/>
      <param name="caller-id-in-from" value="true"/>
    </gateway>
  `;
  file('autoload_configs/sofia.conf.xml', `<configuration name="sofia.conf" description="sofia Endpoint">
  <global_settings><param name="log-level" value="0"/></global_settings>
  <profiles>
${profile('bench-callers', SIP_CALLERS, 'bench', '')}
${profile('bench-gateway', SIP_GATEWAY, 'bench-refuse', gateway)}
  </profiles>
</configuration>
`);
  const ext = (name: string, actions: string): string => `    <extension name="${name}">
      <condition field="destination_number" expression="^${name}-(\\d+)$">
        <action application="set" data="bypass_media=true"/>
${actions}
      </condition>
    </extension>`;
  /** `socket` in that mode, after what comes before it, and the hang-up the dialplan ends with. */
  const routed = (mode: 'full' | 'async full', before = ''): string =>
    `${before}        <action application="socket" data="${socket} ${mode}"/>\n        <action application="hangup"/>`;
  const SET_BY_MULTISET = '        <action application="multiset" data="hangup_after_bridge=true continue_on_fail=true"/>\n';
  const SET_INLINE =
    '        <action application="set" data="hangup_after_bridge=true" inline="true"/>\n' +
    '        <action application="set" data="continue_on_fail=true" inline="true"/>\n';
  file('dialplan/bench.xml', `<include>
  <context name="bench">
${ext('floor', '        <action application="bridge" data="sofia/gateway/pstn/$1"/>')}
${ext('sync', routed('full'))}
${ext('async', routed('async full'))}
${ext('syncset', routed('full', SET_BY_MULTISET))}
${ext('syncinline', routed('full', SET_INLINE))}
${ext('asyncinline', routed('async full', SET_INLINE))}
  </context>
  <context name="bench-refuse">
    <extension name="refuse">
      <condition field="destination_number" expression="^.*$">
        <action application="respond" data="403 Forbidden"/>
      </condition>
    </extension>
  </context>
</include>
`);
}

// ---- processes -----------------------------------------------------------------------------------

/** utime + stime, ms (USER_HZ = 100). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Emulated calls placed on a router before its measured calls, `WARM_UP_PARALLEL` at a time: as many
 * as `npm run bench` warms a router with (plan.ts).
 */
const WARM_UP_CALLS = WARM_UP.rate * WARM_UP.seconds;
const WARM_UP_PARALLEL = 20;

/**
 * A router that has served calls for a while, as one in service has: emulated calls (the project's
 * FreeSWITCH emulator, straight to the router: the real FreeSWITCH neither sees nor pays for them)
 * until V8 has compiled most of the call's code. Started cold, crm-router spent ~10% of its CPU over a
 * 600-call phase at 50/s in V8's optimising compiler, and more in baseline code and inline-cache
 * misses (`perf record` of the router), which the post-dial delay carried; `--trace-opt` still counted
 * 118 functions optimised over the 1000 calls after 1500 and 42 after 4000.
 */
async function warmUp(router: Router, mode: 'sync' | 'async'): Promise<void> {
  let placed = 0;
  const worker = async (): Promise<void> => {
    while (placed < WARM_UP_CALLS) {
      placed++;
      await proxyCall(router.host, router.port, { mode });
    }
  };
  await Promise.all(Array.from({ length: WARM_UP_PARALLEL }, worker));
  // The warm-up's garbage is collected now (the probe's full GC), not in the measured calls.
  await router.memory();
}

class FreeSwitch {
  pid = -1;
  constructor(
    private readonly bin: string,
    private readonly cli: string,
    private readonly dir: string,
  ) {}

  start(): void {
    const d = (n: string): string => join(this.dir, n);
    for (const n of ['log', 'db', 'run']) mkdirSync(d(n), { recursive: true });
    const started = spawnSync(this.bin, ['-ncwait', '-nonat', '-nonatmap', '-conf', d('conf'), '-log', d('log'), '-db', d('db'), '-run', d('run')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const pidFile = d('run/freeswitch.pid');
    if (!existsSync(pidFile)) throw new Error(`FreeSWITCH did not start (exit ${started.status}):\n${started.stdout}${started.stderr}`);
    this.pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!alive(this.pid)) throw new Error(`FreeSWITCH exited right after starting:\n${started.stdout}${started.stderr}`);
  }

  cli1(command: string): string {
    return spawnSync(this.cli, ['-H', '127.0.0.1', '-P', String(ESL_PORT), '-p', 'ClueCon', '-x', command], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
  }

  /** fsctl shutdown, then SIGKILL of its own pid if it is still there after 15 s. */
  async stop(): Promise<void> {
    if (this.pid < 0 || !alive(this.pid)) return;
    this.cli1('fsctl shutdown');
    for (let i = 0; i < 150 && alive(this.pid); i++) await sleep(100);
    if (alive(this.pid)) process.kill(this.pid, 'SIGKILL');
  }

  stopNow(): void {
    if (this.pid < 0 || !alive(this.pid)) return;
    this.cli1('fsctl shutdown');
    const until = Date.now() + 10_000;
    while (alive(this.pid) && Date.now() < until) spawnSync('sleep', ['0.1']);
    if (alive(this.pid)) process.kill(this.pid, 'SIGKILL');
  }
}

/** The instant CRM: answers the called number's digits (the route prefix taken off) as the destination. */
async function startCrm(): Promise<{ url: string; server: Server; requests: () => number }> {
  let requests = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      requests++;
      let called = '';
      try {
        called = String((JSON.parse(body) as { called?: unknown }).called ?? '');
      } catch {
        // an empty destination makes the router fall back: counted as a failed call
      }
      const answer = JSON.stringify({ destination: called.replace(/^[a-z]+-/, '') });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/route`, server, requests: () => requests };
}

const UAC_XML = (): string => {
  const dump = spawnSync('sipp', ['-sd', 'uac'], { encoding: 'utf8' }).stdout;
  // Each call dials a number of its own, so that the callee's INVITE can be matched to the caller's.
  return dump.replaceAll('sip:[service]@', 'sip:[service][call_number]@');
};
const UAS_XML = (): string => spawnSync('sipp', ['-sd', 'uas'], { encoding: 'utf8' }).stdout;

/** First INVITE per request-URI user, sent (caller) or received (callee), with its µs timestamp. */
function invites(log: string, direction: 'sent' | 'received'): Map<string, number> {
  const out = new Map<string, number>();
  for (const block of log.split('----------------------------------------------- ').slice(1)) {
    const nl = block.indexOf('\n');
    const stamp = Date.parse(block.slice(0, nl).trim().replace(' ', 'T').slice(0, 23) + 'Z');
    const micros = Number(/\.(\d{6})/.exec(block.slice(0, nl))?.[1] ?? '0') % 1000;
    const rest = block.slice(nl + 1);
    if (!rest.startsWith(direction === 'sent' ? 'UDP message sent' : 'UDP message received')) continue;
    const m = /\n\s*INVITE sip:([^@\s]+)@/.exec(rest.slice(0, 400));
    if (!m || out.has(m[1]!)) continue;
    out.set(m[1]!, stamp + micros / 1000);
  }
  return out;
}

/** sipp processes still running: stopped with FreeSWITCH if this process is interrupted. */
const running = new Set<ChildProcess>();

function spawnSipp(args: readonly string[], cwd: string): { proc: ChildProcess; exited: Promise<number | null> } {
  const proc = spawn('sipp', [...args, '-nostdin'], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(proc);
  const exited = new Promise<number | null>((r) =>
    proc.once('exit', (code) => {
      running.delete(proc);
      r(code);
    }),
  );
  return { proc, exited };
}

interface Phase {
  readonly route: string;
  readonly calls: number;
  readonly succeeded: number;
  readonly seconds: number;
  readonly fsCpuMs: number;
  readonly fsCpuMsPerCallRaw: number;
  readonly fsCpuMsPerCall: number;
  readonly pddMs: { readonly p50: number; readonly p90: number; readonly matched: number };
  readonly routerCpuUsPerCall: number | undefined;
  /** With `--strace`: FreeSWITCH's system calls per call over the phase, by name, idle ones included. */
  readonly syscallsPerCall: Readonly<Record<string, number>> | undefined;
}

/**
 * `strace -c`'s summary as calls per name: each row, the total's too, is `% time`, seconds, µs per
 * call, calls, errors (blank when none), name.
 */
const straceCounts = (summary: string): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const line of summary.split('\n')) {
    const cells = line.trim().split(/\s+/);
    const name = cells[cells.length - 1];
    if (name === undefined || !/^[\d.]+$/.test(cells[0] ?? '') || cells.length < 5) continue;
    const calls = Number(cells[3]);
    if (Number.isFinite(calls)) counts[name] = calls;
  }
  return counts;
};

/** Traces every thread FreeSWITCH has and each it starts (`-f`), counting calls only (`-c`). */
const startStrace = (pid: number, file: string): ChildProcess => {
  const threads = readdirSync(`/proc/${pid}/task`).join(',');
  return spawn('strace', ['-f', '-c', '-o', file, '-p', threads], { stdio: 'ignore' });
};

async function phase(route: string, o: Options, fs: FreeSwitch, dir: string, idleMsPerSecond: number, router: Router | undefined): Promise<Phase> {
  const r = ROUTES[route]!;
  const work = join(dir, `phase-${route}-${Date.now()}`);
  mkdirSync(work);
  writeFileSync(join(work, 'uac.xml'), UAC_XML());
  writeFileSync(join(work, 'uas.xml'), UAS_XML());
  const callee = spawnSipp(['-sf', 'uas.xml', '-i', '127.0.0.1', '-p', String(SIPP_CALLEE), '-trace_msg', '-message_file', 'uas.log'], work);
  await sleep(300);
  const perf = o.perfDir === undefined ? undefined
    : spawn('perf', ['record', '-q', '-g', '-F', '997', '-p', String(fs.pid), '-o', join(o.perfDir, `${route}-${Date.now()}.data`)], { stdio: 'ignore' });
  const straceFile = o.straceDir === undefined ? undefined : join(o.straceDir, `${route}-${Date.now()}.txt`);
  const strace = straceFile === undefined ? undefined : startStrace(fs.pid, straceFile);
  if (strace !== undefined) {
    // strace attaches thread by thread before it counts; one that could not attach (ptrace refused) has exited.
    await sleep(1000);
    if (strace.exitCode !== null || strace.signalCode !== null) throw new Error(`strace could not trace FreeSWITCH (pid ${fs.pid}): it exited at once`);
  }
  const fsBefore = cpuMs(fs.pid);
  const routerBefore = router?.cpuMs();
  const t0 = performance.now();
  const caller = spawnSipp([
    '-sf', 'uac.xml', '-s', `${r.prefix}-38044`, '-i', '127.0.0.1', '-p', String(SIPP_CALLER), `127.0.0.1:${SIP_CALLERS}`,
    '-m', String(o.calls), '-r', String(o.rate), '-d', String(o.holdMs), '-trace_msg', '-message_file', 'uac.log',
    '-timeout', `${Math.ceil(o.calls / o.rate + o.holdMs / 1000 + 60)}s`, '-timeout_error',
  ], work);
  let stderr = '';
  caller.proc.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
  const code = await caller.exited;
  // The last calls' teardown (CS_REPORTING, CDR) follows their BYE by a few ms.
  await sleep(500);
  const seconds = (performance.now() - t0) / 1000;
  const fsCpu = cpuMs(fs.pid) - fsBefore;
  const routerCpu = router === undefined || routerBefore === undefined ? undefined : router.cpuMs() - routerBefore;
  if (perf !== undefined) {
    perf.kill('SIGINT');
    await new Promise((r) => perf.once('exit', r));
  }
  if (strace !== undefined && strace.exitCode === null && strace.signalCode === null) {
    const exited = new Promise((r) => strace.once('exit', r));
    strace.kill('SIGINT');
    await exited;
  }
  callee.proc.kill('SIGINT');
  const killer = setTimeout(() => callee.proc.kill('SIGKILL'), 3000);
  await callee.exited;
  clearTimeout(killer);
  const sent = invites(readFileSync(join(work, 'uac.log'), 'latin1'), 'sent');
  const received = invites(existsSync(join(work, 'uas.log')) ? readFileSync(join(work, 'uas.log'), 'latin1') : '', 'received');
  const pdd: number[] = [];
  for (const [user, at] of sent) {
    const got = received.get(user.replace(/^[a-z]+-/, ''));
    if (got !== undefined) pdd.push(got - at);
  }
  const succeeded = received.size;
  if (code !== 0) process.stderr.write(`  ${route}: sipp caller exited ${code}${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}\n`);
  rmSync(work, { recursive: true, force: true });
  return {
    route,
    calls: o.calls,
    succeeded,
    seconds,
    fsCpuMs: fsCpu,
    fsCpuMsPerCallRaw: fsCpu / o.calls,
    fsCpuMsPerCall: (fsCpu - idleMsPerSecond * seconds) / o.calls,
    pddMs: { p50: percentile(pdd, 50), p90: percentile(pdd, 90), matched: pdd.length },
    routerCpuUsPerCall: routerCpu === undefined ? undefined : (routerCpu * 1000) / o.calls,
    syscallsPerCall: straceFile === undefined || !existsSync(straceFile) ? undefined
      : Object.fromEntries(Object.entries(straceCounts(readFileSync(straceFile, 'utf8'))).map(([name, calls]) => [name, calls / o.calls])),
  };
}

// ---- main ----------------------------------------------------------------------------------------------

function findBuild(dir: string | undefined): { bin: string; cli: string } | undefined {
  if (dir === undefined) return undefined;
  for (const base of [join(dir, 'fs', 'bin'), join(dir, 'bin'), dir]) {
    if (existsSync(join(base, 'freeswitch')) && existsSync(join(base, 'fs_cli'))) return { bin: join(base, 'freeswitch'), cli: join(base, 'fs_cli') };
  }
  return undefined;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const build = findBuild(o.freeswitch);
  if (build === undefined) {
    process.stdout.write(
      o.freeswitch === undefined
        ? `No FreeSWITCH given: nothing measured. Run with --freeswitch <dir> (a build with fs/bin/freeswitch and fs/bin/fs_cli).\n${USAGE}\n`
        : `No FreeSWITCH build in ${o.freeswitch} (looked for fs/bin/freeswitch and fs/bin/fs_cli): nothing measured.\n`,
    );
    return;
  }
  if (spawnSync('sipp', ['-v'], { encoding: 'utf8' }).error !== undefined) {
    process.stdout.write('sipp is not installed: nothing measured (the calls are placed with sipp).\n');
    return;
  }
  if (o.straceDir !== undefined && spawnSync('strace', ['-V'], { encoding: 'utf8' }).error !== undefined) {
    process.stdout.write('strace is not installed (Debian: strace): --strace needs it; nothing measured.\n');
    return;
  }
  if (o.perfDir !== undefined && spawnSync('perf', ['--version'], { encoding: 'utf8' }).error !== undefined) {
    process.stdout.write('perf is not installed (Debian: linux-perf): --perf needs it; nothing measured.\n');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'crm-router-fs-cost-'));
  writeConf(join(dir, 'conf'));
  const fs = new FreeSwitch(build.bin, build.cli, dir);
  const cleanup = (): void => {
    for (const proc of running) proc.kill('SIGKILL');
    fs.stopNow();
    rmSync(dir, { recursive: true, force: true });
  };
  // Whatever ends this process, the FreeSWITCH it started goes with it.
  process.once('exit', () => {
    for (const proc of running) proc.kill('SIGKILL');
    fs.stopNow();
  });
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  process.once('SIGTERM', () => {
    cleanup();
    process.exit(143);
  });
  const crm = await startCrm();
  const place: Placement = { cores: availableParallelism(), cpus: undefined, note: 'not pinned', fileLimit: 4096 };
  const log = (line: string): void => {
    process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  };
  const phases: Phase[] = [];
  let idleMsPerSecond = 0;
  const started = new Date();
  try {
    const needsRouters = o.routes.some((r) => ROUTES[r]!.router !== 'none');
    if (needsRouters) prepareRouters(dir, o.routerDir);
    fs.start();
    const version = fs.cli1('version').trim();
    log(`FreeSWITCH pid ${fs.pid} (${version}), conf in ${dir}/conf`);
    await sleep(2000);
    const idle0 = cpuMs(fs.pid);
    await sleep(o.idleSeconds * 1000);
    idleMsPerSecond = (cpuMs(fs.pid) - idle0) / o.idleSeconds;
    log(`idle FreeSWITCH: ${idleMsPerSecond.toFixed(1)} ms CPU per second`);
    for (let run = 1; run <= o.runs; run++) {
      for (const route of o.routes) {
        const r = ROUTES[route]!;
        const router =
          r.router === 'none' ? undefined : await startRouter(r.router, place, crm.url, dir, { port: ROUTER_PORT, baselineVariant: r.variant, routerDir: o.routerDir, profileDir: o.profileDir });
        try {
          if (router !== undefined && o.warmUp) await warmUp(router, r.prefix.startsWith('async') ? 'async' : 'sync');
          const p = await phase(route, o, fs, dir, idleMsPerSecond, router);
          phases.push(p);
          log(
            `run ${run} ${route}: ${p.succeeded}/${p.calls} calls reached the callee; FreeSWITCH ${p.fsCpuMsPerCall.toFixed(2)} ms CPU per call ` +
              `(raw ${p.fsCpuMsPerCallRaw.toFixed(2)}); post-dial delay p50 ${p.pddMs.p50.toFixed(2)} ms p90 ${p.pddMs.p90.toFixed(2)} ms` +
              (p.routerCpuUsPerCall === undefined ? '' : `; router ${p.routerCpuUsPerCall.toFixed(0)} µs CPU per call`),
          );
        } finally {
          await router?.stop();
        }
      }
    }
  } finally {
    await fs.stop();
    crm.server.close();
  }
  report(o, phases, idleMsPerSecond, started, build.bin);
  rmSync(dir, { recursive: true, force: true });
}

function report(o: Options, phases: readonly Phase[], idle: number, started: Date, bin: string): void {
  const by = (route: string, pick: (p: Phase) => number): Spread => spread(phases.filter((p) => p.route === route).map(pick));
  const floorCpu = by('floor', (p) => p.fsCpuMsPerCall).median;
  const floorPdd = by('floor', (p) => p.pddMs.p50).median;
  const plus = (v: number, base: number): string => (Number.isFinite(base) && Number.isFinite(v) ? ` (${v - base >= 0 ? '+' : ''}${(v - base).toFixed(2)})` : '');
  const cell = (s: Spread, base: number): string => `${s.median.toFixed(2)}${plus(s.median, base)} [${s.min.toFixed(2)}–${s.max.toFixed(2)}]`;
  const lines: string[] = [];
  lines.push(`FreeSWITCH cost per routed call — ${started.toISOString()}, ${bin}${o.routerDir === undefined ? '' : `; crm-router from ${o.routerDir}`}`);
  lines.push(`${o.calls} calls at ${o.rate}/s per route and run (sipp caller → FreeSWITCH → sipp callee, media bypassed, each call held ${o.holdMs} ms), instant CRM, ${o.runs} run(s) back to back; median [min–max] of the runs; ${o.warmUp ? `each router warmed by ${WARM_UP_CALLS} emulated calls first` : 'routers measured cold (--cold)'}`);
  lines.push(`machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? '?'}), shared with other work: CPU figures carry its noise; FreeSWITCH idle ${idle.toFixed(1)} ms CPU/s, subtracted`);
  lines.push('');
  lines.push('| route | FreeSWITCH CPU per call, ms | post-dial delay p50, ms | p90, ms | calls reaching the callee | router CPU per call, µs |');
  lines.push('|---|---|---|---|---|---|');
  for (const route of o.routes) {
    const rows = phases.filter((p) => p.route === route);
    if (rows.length === 0) continue;
    const router = rows[0]!.routerCpuUsPerCall === undefined ? '—' : by(route, (p) => p.routerCpuUsPerCall ?? Number.NaN).median.toFixed(0);
    lines.push(
      `| ${ROUTES[route]!.what} | ${cell(by(route, (p) => p.fsCpuMsPerCall), route === 'floor' ? Number.NaN : floorCpu)} | ` +
        `${cell(by(route, (p) => p.pddMs.p50), route === 'floor' ? Number.NaN : floorPdd)} | ${by(route, (p) => p.pddMs.p90).median.toFixed(2)} | ` +
        `${rows.map((p) => p.succeeded).join(', ')} of ${o.calls} | ${router} |`,
    );
  }
  const traced = phases.filter((p) => p.syscallsPerCall !== undefined);
  if (traced.length > 0) {
    // The calls a routed call's exchange drives (one `read` and one `sched_yield` per header byte
    // read), then the total.
    const names = ['read', 'sched_yield', 'write', 'poll', 'futex', 'total'];
    lines.push('');
    lines.push(`FreeSWITCH's system calls per call under strace -f -c (all threads, idle ones included; median of the runs). ` +
      'The phases ran under strace: their CPU and post-dial delay above are not comparable with an untraced run.');
    lines.push('');
    lines.push(`| route | ${names.join(' | ')} |`);
    lines.push(`|---|${names.map(() => '---').join('|')}|`);
    for (const route of o.routes) {
      if (!traced.some((p) => p.route === route)) continue;
      const cells = names.map((name) => spread(traced.filter((p) => p.route === route).map((p) => p.syscallsPerCall?.[name] ?? 0)).median.toFixed(1));
      lines.push(`| ${ROUTES[route]!.what} | ${cells.join(' | ')} |`);
    }
  }
  const text = lines.join('\n');
  process.stdout.write(`${text}\n`);
  mkdirSync(join(REPO, 'bench-results'), { recursive: true });
  const file = join(REPO, 'bench-results', `freeswitch-cost-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ date: started.toISOString(), options: o, idleMsPerSecond: idle, phases }, null, 2)}\n`);
  process.stdout.write(`results: ${file}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`freeswitch-cost failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
