/**
 * The three processes of a measurement — CRM, load generator, router (crm-router or the baseline) —
 * started and spoken to. crm-router is started the way an operator starts it, `node bin/crm-router.js
 * <config.json>` on its freshly built dist/, with a generated config at log level `info` (one line per
 * call, written to a file as a service manager would collect it), plus the memory probe and --expose-gc.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { SocketMode } from '../../spec/emulator/index.ts';
import type { CallSample, CrmReply, CrmRequest, LoadPlan, LoadReply, LoadRequest, LoadResult, ProbeReply, ProbeRequest } from './messages.ts';
import { buildRouter, transpile } from './compile.ts';
import { benchFile, REPO, spawnChild, waitForText, type IpcChild, type Placement } from './procs.ts';

const START_MS = 20_000;

/** `--cpu-prof` into `dir/<name>/`, when profiling was asked for. */
const profiling = (dir: string | undefined, name: string): string[] => (dir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(dir, name)]);

// ---- CRM ------------------------------------------------------------------------------------------

export interface Crm {
  readonly url: string;
  readonly setDelay: (ms: number) => Promise<void>;
  readonly status: () => Promise<{ waiting: number; answered: number }>;
  /** The CRM's own ms per call uuid, for every request answered since the last collect. */
  readonly collect: () => Promise<Map<string, number>>;
  readonly stop: () => Promise<void>;
}

export async function startCrm(place: Placement, profileDir?: string): Promise<Crm> {
  const nodeArgs = [...profiling(profileDir, 'crm'), '--import', 'tsx', benchFile('crm-process.ts')];
  const child = spawnChild<CrmRequest, CrmReply>({ place, role: 'crm', name: 'crm', nodeArgs });
  const ready = await child.waitFor((m): m is Extract<CrmReply, { type: 'ready' }> => m.type === 'ready', START_MS, 'ready');
  return {
    url: `http://127.0.0.1:${ready.port}/route`,
    setDelay: async (delayMs) => {
      await child.ask({ type: 'answer', delayMs }, 5000);
    },
    status: async () => {
      const s = await child.ask({ type: 'status' }, 5000);
      return { waiting: s.waiting, answered: s.answered };
    },
    collect: async () => {
      const c = await child.ask({ type: 'collect' }, 30_000);
      const map = new Map<string, number>();
      c.uuids.forEach((uuid, i) => map.set(uuid, c.ms[i] ?? Number.NaN));
      return map;
    },
    stop: () => child.stop(),
  };
}

// ---- load generator ---------------------------------------------------------------------------

export interface RunningLoad {
  /** Settles when every call of the run is connected (or failed to connect). */
  readonly opened: Promise<void>;
  readonly done: Promise<LoadResult>;
  /** The samples of the calls that have ended since the last ask. */
  readonly progress: () => Promise<CallSample[]>;
  /** Opens no more calls: `done` settles once the calls already open have ended. */
  readonly stop: () => Promise<void>;
}

export interface LoadGenerator {
  readonly run: (plan: LoadPlan, boundMs: number) => RunningLoad;
  readonly stop: () => Promise<void>;
}

export async function startLoadGenerator(place: Placement, profileDir?: string): Promise<LoadGenerator> {
  const nodeArgs = [...profiling(profileDir, 'load-generator'), '--import', 'tsx', benchFile('loadgen-process.ts')];
  const child: IpcChild<LoadRequest, LoadReply> = spawnChild({ place, role: 'load', name: 'load generator', nodeArgs });
  await child.waitFor((m): m is Extract<LoadReply, { type: 'ready' }> => m.type === 'ready', START_MS, 'ready');
  return {
    run: (plan, boundMs) => {
      const id = child.newId();
      child.send({ type: 'run', id, plan });
      const opened = child.waitFor((m): m is Extract<LoadReply, { type: 'opened' }> => m.type === 'opened' && m.id === id, boundMs, 'calls opened');
      const done = child.waitFor((m): m is Extract<LoadReply, { type: 'done' }> => m.type === 'done' && m.id === id, boundMs, 'calls done');
      // A run that fails before opening would leave `opened` rejected and unobserved.
      opened.catch(() => undefined);
      return {
        opened: opened.then(() => undefined),
        done: done.then((m) => m.result),
        progress: async () => (await child.ask({ type: 'progress', run: id }, 5000)).samples,
        stop: async () => {
          await child.ask({ type: 'stop', run: id }, 5000);
        },
      };
    },
    stop: () => child.stop(),
  };
}

// ---- routers --------------------------------------------------------------------------------------

export type RouterKind = 'crm-router' | 'baseline';

export interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
}

export interface Router {
  readonly kind: RouterKind;
  readonly host: string;
  readonly port: number;
  readonly memory: () => Promise<Memory>;
  /** CPU time the router process has used so far, user + system, in ms; NaN where /proc is not there. */
  readonly cpuMs: () => number;
  readonly stop: () => Promise<void>;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });

/**
 * crm-router's configuration for the benchmark: one scheme, JSON in and out, the destination a phone
 * number through a gateway. responseTimeout is 15 s (default 5) so that the memory figure's 5 s CRM
 * is waited for rather than timed out.
 */
export function routerConfig(port: number, crmUrl: string): object {
  return {
    listen: { host: '127.0.0.1', port },
    // Off so that runs side by side do not fight over 9084; the metrics are counted all the same.
    admin: { listen: null },
    logLevel: 'info',
    schemes: [
      {
        name: 'default',
        url: crmUrl,
        submit: 'json',
        import: 'json',
        destinationField: 'destination',
        callTimeout: 30,
        responseTimeout: 15,
        gateway: 'pstn',
      },
    ],
  };
}

/** Linux counts a process's CPU time in clock ticks of 1/100 s (USER_HZ, the same on every architecture). */
const MS_PER_TICK = 10;

/** utime + stime of a process, from /proc/<pid>/stat (fields 14 and 15, after the parenthesised name). */
const processCpuMs = (pid: number): number => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
  } catch {
    return Number.NaN;
  }
};

export interface RouterOptions {
  /** Run the router under `--cpu-prof`, its profile written under `<profileDir>/<kind>/` when it stops. */
  readonly profileDir?: string | undefined;
  /** The checkout whose built bin/crm-router.js is crm-router (default: this one). */
  readonly routerDir?: string | undefined;
  /** The baseline's exchange changed as a lever would change crm-router's (baseline-router.ts, Variant). */
  readonly baselineVariant?: object | undefined;
  /** Listen on this 127.0.0.1 port (a real FreeSWITCH's dialplan names it) instead of a free one. */
  readonly port?: number | undefined;
  /** Extra flags for the router's node (e.g. a V8 heap setting under test). */
  readonly nodeFlags?: readonly string[] | undefined;
}

/** Builds crm-router (in `routerDir`, default this checkout) and writes the baseline and the probe into `dir`. */
export function prepareRouters(dir: string, routerDir: string | undefined): void {
  buildRouter(routerDir ?? REPO);
  transpile('baseline-router', dir);
  transpile('router-probe', dir);
}

/**
 * Starts a router from what `prepareRouters` built into `dir`. Either runs as plain JavaScript with the
 * memory probe preloaded and --expose-gc, so that the probe's full GC leaves live objects only.
 */
export async function startRouter(kind: RouterKind, place: Placement, crmUrl: string, dir: string, options: RouterOptions = {}): Promise<Router> {
  const port = options.port ?? (await freePort());
  const flags = [...profiling(options.profileDir, kind), ...(options.nodeFlags ?? []), '--expose-gc', '--import', join(dir, 'router-probe.mjs')];
  let child: IpcChild<ProbeRequest, ProbeReply>;
  if (kind === 'crm-router') {
    const config = join(dir, 'crm-router.json');
    const log = join(dir, 'crm-router.log');
    const bin = join(options.routerDir ?? REPO, 'bin', 'crm-router.js');
    writeFileSync(config, JSON.stringify(routerConfig(port, crmUrl), null, 2));
    child = spawnChild({ place, role: 'router', name: 'crm-router', nodeArgs: [...flags, bin, config], stdoutFile: log });
    await waitForText(log, 'listening for FreeSWITCH', START_MS, child);
  } else {
    child = spawnChild({ place, role: 'router', name: 'baseline', nodeArgs: [...flags, join(dir, 'baseline-router.mjs'), String(port), crmUrl, JSON.stringify(options.baselineVariant ?? {})] });
    await child.waitFor((m): m is Extract<ProbeReply, { type: 'listening' }> => m.type === 'listening', START_MS, 'listening');
  }
  return {
    kind,
    host: '127.0.0.1',
    port,
    memory: async () => {
      const m = await child.ask({ type: 'memory' }, 30_000);
      return { rss: m.rss, heapUsed: m.heapUsed };
    },
    cpuMs: () => processCpuMs(child.pid),
    stop: () => child.stop(),
  };
}

export type { SocketMode };
