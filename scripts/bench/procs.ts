/**
 * Process orchestration: the load generator, the CRM and the router each run as a separate Node
 * process, pinned to separate cores with `taskset` when the machine has them, and reached over an
 * IPC channel. Every wait here is bounded in time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const benchFile = (name: string): string => `${HERE}${name}`;

export type Role = 'router' | 'crm' | 'load' | 'orchestrator';

export interface Placement {
  readonly cores: number;
  /** taskset CPU lists per role; undefined when not pinned. */
  readonly cpus: Readonly<Record<Role, string>> | undefined;
  /** Why there is no pinning, or what was chosen, for the report. */
  readonly note: string;
  /** Open-file limit every child gets (soft raised to hard when possible). */
  readonly fileLimit: number;
}

const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

function fileLimits(): { soft: number; hard: number } {
  const out = spawnSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).stdout.trim().split('\n');
  const parse = (s: string | undefined): number => (s === 'unlimited' ? 1 << 20 : Number(s ?? 1024));
  return { soft: parse(out[0]), hard: parse(out[1]) };
}

/**
 * The router gets a core of its own; the load generator and the CRM share what is left (with two
 * cores: the other one, together with this orchestrator, which is idle while a run is measured).
 */
export function placement(): Placement {
  const cores = availableParallelism();
  const { hard } = fileLimits();
  if (cores < 2 || !has('taskset')) {
    return { cores, cpus: undefined, note: cores < 2 ? 'one core: nothing pinned' : 'taskset not found: nothing pinned', fileLimit: hard };
  }
  if (cores === 2) {
    return { cores, cpus: { router: '1', crm: '0', load: '0', orchestrator: '0' }, note: 'router on cpu 1; load generator, CRM and orchestrator on cpu 0', fileLimit: hard };
  }
  const cpus = { router: '1', crm: '2', load: cores > 3 ? `3-${cores - 1}` : '2', orchestrator: '0' };
  return { cores, cpus, note: `router on cpu 1; CRM on cpu 2; load generator on cpu ${cpus.load}; orchestrator on cpu 0`, fileLimit: hard };
}

/** Pins this process (the orchestrator) where the placement says. */
export function pinSelf(place: Placement): void {
  if (place.cpus) spawnSync('taskset', ['-p', '-c', place.cpus.orchestrator, String(process.pid)], { stdio: 'ignore' });
}

/** `node <args>`, pinned and with the open-file limit raised to the hard limit. */
function command(place: Placement, role: Role, nodeArgs: readonly string[]): { file: string; args: string[] } {
  const node = [process.execPath, ...nodeArgs];
  const pinned = place.cpus ? ['taskset', '-c', place.cpus[role], ...node] : node;
  // exec keeps the pid: the router's pid is the one we watch.
  return { file: 'sh', args: ['-c', `ulimit -n ${place.fileLimit} 2>/dev/null; exec "$@"`, 'sh', ...pinned] };
}

/** A child process with an IPC channel; messages nobody waited for yet are kept until asked for. */
export class IpcChild<Request extends { type: string }, Reply extends { type: string }> {
  private readonly backlog: Reply[] = [];
  private readonly waiters: Array<{ match: (m: Reply) => boolean; resolve: (m: Reply) => void }> = [];
  private nextId = 1;
  private stderr = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    proc.on('message', (message: Reply) => {
      const i = this.waiters.findIndex((w) => w.match(message));
      if (i < 0) this.backlog.push(message);
      else this.waiters.splice(i, 1)[0]?.resolve(message);
    });
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      // Keep the tail only: enough to explain a crash.
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  /** Waits for a message matching `match`, failing after timeoutMs or if the child exits. */
  waitFor<R extends Reply>(match: (m: Reply) => m is R, timeoutMs: number, what: string): Promise<R> {
    const i = this.backlog.findIndex(match);
    if (i >= 0) return Promise.resolve(this.backlog.splice(i, 1)[0] as R);
    return new Promise<R>((resolve, reject) => {
      const waiter = {
        match,
        resolve: (m: Reply) => {
          clearTimeout(timer);
          resolve(m as R);
        },
      };
      const fail = (why: string): void => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(new Error(`${this.name}: ${why} while waiting for ${what}${this.stderr ? `\n${this.stderr}` : ''}`));
      };
      const timer = setTimeout(() => fail(`no answer in ${timeoutMs} ms`), timeoutMs);
      void this.exited.then((code) => {
        clearTimeout(timer);
        fail(`exited (${code})`);
      });
      this.waiters.push(waiter);
    });
  }

  /** Sends a request with a fresh id and waits for the reply of the same type and id. */
  ask<T extends Request['type']>(
    request: Omit<Extract<Request, { type: T }>, 'id'> & { type: T },
    timeoutMs: number,
  ): Promise<Extract<Reply, { type: T; id: number }>> {
    const id = this.nextId++;
    this.send({ ...request, id } as unknown as Request);
    return this.waitFor(
      (m): m is Extract<Reply, { type: T; id: number }> => m.type === request.type && (m as { id?: unknown }).id === id,
      timeoutMs,
      request.type,
    );
  }

  send(request: Request): void {
    this.proc.send(request);
  }

  newId(): number {
    return this.nextId++;
  }

  /** SIGTERM, then SIGKILL if it is still there after graceMs. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface SpawnOptions {
  readonly place: Placement;
  readonly role: Role;
  readonly name: string;
  readonly nodeArgs: readonly string[];
  /** File that receives the child's stdout (crm-router's log); default: discarded. */
  readonly stdoutFile?: string;
}

export function spawnChild<Request extends { type: string }, Reply extends { type: string }>(options: SpawnOptions): IpcChild<Request, Reply> {
  const { file, args } = command(options.place, options.role, options.nodeArgs);
  const out = options.stdoutFile === undefined ? 'ignore' : openSync(options.stdoutFile, 'w');
  const proc = spawn(file, args, { cwd: REPO, stdio: ['ignore', out, 'pipe', 'ipc'] });
  if (typeof out === 'number') closeSync(out);
  return new IpcChild<Request, Reply>(options.name, proc);
}

/** Polls `file` until it contains `text` (crm-router announces itself in its log). */
export async function waitForText(file: string, text: string, timeoutMs: number, child: { readonly name: string; readonly exited: Promise<unknown> }): Promise<void> {
  const until = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => (exited = true));
  while (Date.now() < until && !exited) {
    try {
      if (readFileSync(file, 'utf8').includes(text)) return;
    } catch {
      // not created yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${child.name}: "${text}" not in ${file} after ${timeoutMs} ms${exited ? ' (it exited)' : ''}`);
}
