/** The built CLI (bin/crm-router.js over dist/) in its own process, as an operator runs it. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/crm-router.js', import.meta.url));
export const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `crm-router ...args` to its end. CRM_ROUTER_* variables of the spec's own environment are left out. */
export const runCli = (args: readonly string[], env: Record<string, string> = {}): Promise<Finished> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...cleanEnv(), ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

export const cleanEnv = (): Record<string, string> =>
  Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !e[0].startsWith('CRM_ROUTER_')));

export const writeConfig = (config: unknown): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'crm-router-')), 'config.json');
  writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config));
  return path;
};

/**
 * A port nobody listens on right now, for a router process to take. It is drawn below Linux's ephemeral
 * range (32768-60999 by default), from which every outgoing connection takes its local port: a port
 * the kernel handed out for `listen(0)` could be some client socket's by the time the router binds it
 * (a CI run failed on EADDRINUSE so).
 */
export const freePort = async (): Promise<number> => {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    const server = createServer();
    const taken = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      server.once('error', resolve);
      server.listen(port, '127.0.0.1', () => resolve(undefined));
    });
    if (taken === undefined) {
      await new Promise((resolve) => server.close(resolve));
      handedOut.add(port);
      return port;
    }
    if (taken.code !== 'EADDRINUSE') throw taken;
  }
  throw new Error('no free port in 20000-31999 after 100 tries');
};

/** Two calls in a row must not get the same port (a router's listener and its admin listener). */
const handedOut = new Set<number>();

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

export interface LongRunning {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stdout: () => string;
  readonly exited: Promise<number | null>;
  /** Resolves once stdout holds `text`. */
  readonly waitFor: (text: string) => Promise<void>;
}

export const spawnLongRunning = (command: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): LongRunning => {
  const child = spawn(command, args, { cwd: options.cwd ?? PACKAGE_DIR, env: { ...cleanEnv(), ...options.env } });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const w of watchers) w();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => stdout,
    exited,
    waitFor: (text) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (stdout.includes(text)) {
            watchers.delete(check);
            resolve();
          }
        };
        watchers.add(check);
        check();
        void exited.then(() => reject(new Error(`exited before printing ${JSON.stringify(text)}:\n${stdout}\n${stderr}`)));
      }),
  };
};
