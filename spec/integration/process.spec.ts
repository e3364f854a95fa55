import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FreeSwitchEmulator } from '../emulator/index.ts';
import { freePort } from '../support/cli.ts';
import { startCrmServer, type CrmServer } from '../support/crm-server.ts';
import { calleeFor, DESTINATIONS } from './destinations.ts';

const BIN = fileURLToPath(new URL('../../bin/crm-router.js', import.meta.url));

const writeConfig = (config: unknown): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'crm-router-')), 'config.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
};

interface RouterProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
  readonly waitForLog: (msg: string) => Promise<Record<string, unknown>>;
}

/** crm-router as an operator runs it: its own process, on a configuration file. */
const run = (configPath: string): RouterProcess => {
  const child = spawn(process.execPath, [BIN, configPath]);
  let stdout = '';
  let stderr = '';
  const watchers: Array<() => void> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const w of watchers) w();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = (): Array<Record<string, unknown>> =>
    stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForLog: (msg) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const found = lines().find((l) => l['msg'] === msg);
          if (found) resolve(found);
        };
        watchers.push(check);
        check();
        void exited.then(() => reject(new Error(`router exited before logging "${msg}": ${stderr}`)));
      }),
  };
};

describe('crm-router as a process', function () {
  this.timeout(20_000);
  let crm: CrmServer;
  before(async () => {
    crm = await startCrmServer({ body: JSON.stringify({ number_01: DESTINATIONS.login }), contentType: 'application/json' });
  });
  after(async () => crm.close());

  const config = (port: number) => ({
    listen: { host: '127.0.0.1', port },
    // Off: a fixed admin port would collide with any other router on the machine.
    admin: { listen: null },
    schemes: [{ name: 'default', url: `${crm.url}/route`, destinationField: 'number_01', gateway: 'pstn' }],
  });

  it('logs that it listens, routes a call, and on SIGTERM lets the call in progress decide, then exits 0', async () => {
    const port = await freePort();
    const router = run(writeConfig(config(port)));
    const listening = await router.waitForLog('listening for FreeSWITCH');
    expect(listening).to.include({ port });

    const fs = new FreeSwitchEmulator({ host: '127.0.0.1', port }, { parkDelayMs: 0, callee: calleeFor, mode: 'sync' });
    const first = await fs.placeCall();
    expect(first.bridges.map((b) => [b.endpoint, b.outcome])).to.deep.equal([[`user/${DESTINATIONS.login}`, 'SUCCESS']]);

    crm.respond({ body: JSON.stringify({ number_01: DESTINATIONS.login }), contentType: 'application/json', delayMs: 300 });
    const inProgress = fs.placeCall();
    await crm.nextRequest();
    router.child.kill('SIGTERM');
    const second = await inProgress;
    expect(second.bridges.map((b) => b.outcome)).to.deep.equal(['SUCCESS']);
    expect(await router.exited).to.equal(0);
    expect(router.stdout()).to.contain('"msg":"stopped"');
  });

  it('refuses a bad configuration with the exact path of each bad field, and exit code 2', async () => {
    const port = await freePort();
    const bad = config(port);
    const router = run(writeConfig({ ...bad, schemes: [{ ...bad.schemes[0], method: 'PATCH', callTimeout: 'soon' }] }));
    expect(await router.exited).to.equal(2);
    expect(router.stderr()).to.contain('schemes[0].method: expected GET|POST|PUT|DELETE, got "PATCH"');
    expect(router.stderr()).to.match(/schemes\[0\]\.callTimeout: expected .*, got "soon"/);
  });
});
