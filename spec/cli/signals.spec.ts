import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { FreeSwitchEmulator } from '../emulator/index.ts';
import { startCrmServer, type CrmServer } from '../support/crm-server.ts';
import { BIN, freePort, spawnLongRunning, writeConfig } from '../support/cli.ts';
import { calleeFor, DESTINATIONS } from '../integration/destinations.ts';

const answer = (delayMs?: number) => ({ body: JSON.stringify({ number_01: DESTINATIONS.login }), contentType: 'application/json', ...(delayMs ? { delayMs } : {}) });

describe('crm-router process signals', function () {
  this.timeout(30_000);
  let crm: CrmServer;
  before(async () => {
    crm = await startCrmServer(answer());
  });
  after(async () => crm.close());

  const file = async (defaultScheme: string) => ({
    listen: { port: await freePort() },
    admin: { listen: { port: await freePort() } },
    selection: { default: defaultScheme },
    schemes: ['a', 'b'].map((name) => ({ name, url: `${crm.url}/${name}`, destinationField: 'number_01', gateway: 'pstn' })),
  });

  it('SIGTERM: /readyz answers 503 while the call in progress decides, then the process exits 0', async () => {
    const config = await file('a');
    const router = spawnLongRunning(process.execPath, [BIN, writeConfig(config)]);
    await router.waitFor('"msg":"listening for FreeSWITCH"');
    const readyz = () => fetch(`http://127.0.0.1:${config.admin.listen.port}/readyz`).then(async (r) => [r.status, await r.json()]);
    expect(await readyz()).to.deep.equal([200, { ready: true, reason: 'ready' }]);
    crm.respond(answer(1_000));
    const fs = new FreeSwitchEmulator({ host: '127.0.0.1', port: config.listen.port }, { parkDelayMs: 0, callee: calleeFor, mode: 'sync' });
    const call = fs.placeCall();
    await crm.nextRequest();
    router.child.kill('SIGTERM');
    await router.waitFor('"msg":"stopping');
    expect(await readyz()).to.deep.equal([503, { ready: false, reason: 'draining: not taking new calls' }]);
    expect((await call).bridges.map((b) => b.outcome)).to.deep.equal(['SUCCESS']);
    expect(await router.exited).to.equal(0);
    expect(router.stdout()).to.contain('"drain":"decided"');
  });

  it('SIGHUP: a good file is applied to new calls; a bad one is refused with its paths and the old one stays', async () => {
    const config = await file('a');
    const path = writeConfig(config);
    const router = spawnLongRunning(process.execPath, [BIN, path]);
    await router.waitFor('"msg":"listening for FreeSWITCH"');
    crm.respond(answer());
    const fs = new FreeSwitchEmulator({ host: '127.0.0.1', port: config.listen.port }, { parkDelayMs: 0, callee: calleeFor, mode: 'sync' });
    const routedTo = async (): Promise<string | undefined> => {
      await fs.placeCall();
      return crm.received.at(-1)?.url;
    };
    expect(await routedTo()).to.equal('/a');

    writeFileSync(path, JSON.stringify({ ...config, selection: { default: 'b' } }));
    router.child.kill('SIGHUP');
    await router.waitFor('"msg":"configuration reloaded');
    expect(await routedTo()).to.equal('/b');

    writeFileSync(path, JSON.stringify({ ...config, selection: { default: 'c' } }));
    router.child.kill('SIGHUP');
    await router.waitFor('configuration reload refused');
    expect(router.stdout()).to.contain('selection.default: expected the name of a configured scheme (one of \\"a\\", \\"b\\"), got \\"c\\"');
    expect(await routedTo()).to.equal('/b');
    const metrics = await fetch(`http://127.0.0.1:${config.admin.listen.port}/metrics`).then((r) => r.text());
    expect(metrics).to.match(/^crm_router_config_reload_failures_total 1$/m);
    expect(metrics).to.match(/^crm_router_config_reloads_total 1$/m);
    router.child.kill('SIGTERM');
    expect(await router.exited).to.equal(0);
  });
});
