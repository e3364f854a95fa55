import { expect } from 'chai';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { defaultConfigPath, INSTALLED_CONFIG, PACKAGE_CONFIG } from '../../lib/cli/config-path.ts';
import { parseCommandLine } from '../../lib/cli/args.ts';
import { freePort, listening, runCli, spawnLongRunning, BIN, writeConfig } from '../support/cli.ts';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const scheme = { name: 'default', url: 'http://127.0.0.1:1/route', destinationField: 'number_01', gateway: 'pstn' };

describe('crm-router command line', function () {
  this.timeout(20_000);

  describe('parsing (node:util parseArgs, strict)', () => {
    it('reads run as the default command, with or without its name', () => {
      expect(parseCommandLine([])).to.deep.equal({ _tag: 'Run', config: undefined, pretty: false });
      expect(parseCommandLine(['a.json'])).to.deep.equal({ _tag: 'Run', config: 'a.json', pretty: false });
      expect(parseCommandLine(['run', '--pretty', 'a.json'])).to.deep.equal({ _tag: 'Run', config: 'a.json', pretty: true });
    });

    it('reads try with repeated --var, a value that holds "="', () => {
      expect(parseCommandLine(['try', '--caller', '100', '--called', '200', '--var', 'a=1', '--var', 'b=x=y', '--json', '-c', 'f.json'])).to.deep.equal({
        _tag: 'Try',
        config: 'f.json',
        scheme: undefined,
        caller: '100',
        called: '200',
        variables: { a: '1', b: 'x=y' },
        json: true,
      });
    });

    it('refuses what it does not know instead of reading it as a config path', () => {
      expect(parseCommandLine(['--nope'])).to.have.property('_tag', 'Usage');
      expect(parseCommandLine(['check', 'a.json', 'b.json'])).to.have.property('_tag', 'Usage');
      expect(parseCommandLine(['try', '--caller', '1'])).to.deep.equal({ _tag: 'Usage', message: 'try needs --caller NUMBER and --called NUMBER' });
      expect(parseCommandLine(['try', '--caller', '1', '--called', '2', '--var', 'novalue'])).to.have.property('_tag', 'Usage');
      expect(parseCommandLine(['try', '--caller', '1', '--called', '2', 'stray'])).to.have.property('_tag', 'Usage');
      expect(parseCommandLine(['try', '--caller', '1', '--called', '2', '--pretty'])).to.have.property('_tag', 'Usage');
      expect(parseCommandLine(['check', '--pretty'])).to.have.property('_tag', 'Usage');
    });

    it('reads a --var named _tag as a variable, not as the command', () => {
      expect(parseCommandLine(['try', '--caller', '1', '--called', '2', '--var', '_tag=Run'])).to.deep.include({ _tag: 'Try', variables: { _tag: 'Run' } });
    });
  });

  describe('the default configuration path', () => {
    it('is CRM_ROUTER_CONFIG, else the installed file when it exists, else the package example', () => {
      expect(defaultConfigPath({ CRM_ROUTER_CONFIG: '/srv/r.json' }, () => true)).to.equal('/srv/r.json');
      expect(defaultConfigPath({}, (p) => p === INSTALLED_CONFIG)).to.equal('/etc/crm-router/crm-router.json');
      expect(defaultConfigPath({ CRM_ROUTER_CONFIG: '' }, () => false)).to.equal(PACKAGE_CONFIG);
      expect(PACKAGE_CONFIG).to.match(/\/conf\/crm-router\.json$/);
    });
  });

  describe('the built CLI', () => {
    it('--help, -h and help print the usage and exit 0', async () => {
      for (const args of [['--help'], ['-h'], ['help'], ['try', '--help'], ['check', '-h']]) {
        const r = await runCli(args);
        expect(r.code, args.join(' ')).to.equal(0);
        expect(r.stdout).to.contain('crm-router check [CONFIG]').and.contain('CRM_ROUTER_LOG_LEVEL');
      }
    });

    it('--version and -V print the package version', async () => {
      for (const flag of ['--version', '-V']) {
        const r = await runCli([flag]);
        expect(r.code).to.equal(0);
        expect(r.stdout).to.equal(`crm-router ${version}\n`);
      }
    });

    it('an unknown flag exits 2 with the reason, never read as a file name', async () => {
      const r = await runCli(['--halp']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.contain("Unknown option '--halp'").and.contain('crm-router --help');
      expect(r.stderr).not.to.contain('cannot read');
    });

    it('check: a usable file prints its warnings and exits 0 without listening', async () => {
      const port = await freePort();
      const path = writeConfig({ listen: { port }, schemes: [{ ...scheme, method: 'GET' }] });
      const r = await runCli(['check', path]);
      expect(r.code).to.equal(0);
      expect(r.stdout).to.contain('warning: schemes[0].method: submit "json" always uses POST; the configured "GET" is ignored');
      expect(r.stdout).to.contain(`${path}: usable; schemes default; listen 127.0.0.1:${port}; admin 127.0.0.1:9084`);
      expect(await listening(port)).to.equal(false);
    });

    it('check: a bad file exits 2 with the path of each bad field', async () => {
      const path = writeConfig({ admin: { listen: { port: 'x' } }, shutdown: { drainSeconds: -1 }, schemes: [{ ...scheme, method: 'PATCH' }] });
      const r = await runCli(['check', path]);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.contain('schemes[0].method: expected GET|POST|PUT|DELETE, got "PATCH"');
      expect(r.stderr).to.contain('admin.listen.port: expected an integer port 0..65535, got "x"');
      expect(r.stderr).to.contain('shutdown.drainSeconds: expected a number of seconds 0..3600, got -1');
    });

    it('check without a file reads CRM_ROUTER_CONFIG', async () => {
      const path = writeConfig({ schemes: [scheme], admin: { listen: null } });
      const r = await runCli(['check'], { CRM_ROUTER_CONFIG: path });
      expect(r.code).to.equal(0);
      expect(r.stdout).to.contain(`${path}: usable`).and.contain('admin off');
    });

    it('refuses a CRM_ROUTER_LOG_LEVEL it does not know, exit 2', async () => {
      const path = writeConfig({ listen: { port: await freePort() }, admin: { listen: null }, schemes: [scheme] });
      const r = await runCli([path], { CRM_ROUTER_LOG_LEVEL: 'loud' });
      expect(r.code).to.equal(2);
      expect(r.stderr).to.contain('CRM_ROUTER_LOG_LEVEL: expected fatal|error|warn|info|debug|trace|silent, got "loud"');
    });

    it('CRM_ROUTER_LOG_LEVEL overrides the file\'s logLevel', async () => {
      // A port in use makes the router log at fatal and exit 1 by itself.
      const busy = createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
      const { port } = busy.address() as AddressInfo;
      const path = writeConfig({ listen: { port }, logLevel: 'info', admin: { listen: null }, schemes: [scheme] });
      const plain = await runCli([path]);
      const silenced = await runCli([path], { CRM_ROUTER_LOG_LEVEL: 'silent' });
      busy.close();
      expect(plain.code).to.equal(1);
      expect(plain.stdout).to.contain('"msg":"cannot listen for FreeSWITCH"').and.contain('"code":"EADDRINUSE"');
      expect(silenced.code).to.equal(1);
      expect(silenced.stdout).to.equal('');
    });

    it('--pretty writes human-readable lines instead of JSON', async () => {
      const path = writeConfig({ listen: { port: await freePort() }, admin: { listen: null }, schemes: [scheme] });
      const router = spawnLongRunning(process.execPath, [BIN, 'run', '--pretty', path]);
      await router.waitFor('listening for FreeSWITCH');
      router.child.kill('SIGTERM');
      expect(await router.exited).to.equal(0);
      expect(router.stdout()).to.match(/INFO.*listening for FreeSWITCH/);
      expect(router.stdout()).not.to.contain('"msg":');
    });

    it('npm start -- FILE runs FILE, and SIGTERM to npm leaves nothing running or listening', async () => {
      const port = await freePort();
      const adminPort = await freePort();
      const path = writeConfig({ listen: { port }, admin: { listen: { port: adminPort } }, schemes: [scheme] });
      // The npm that runs this suite: beside a Node.js installed from the registry's per-platform package
      // (the LTS run in CI) there is no npm, so it is npm's own script, run by this Node.js.
      const npmCli = process.env['npm_execpath'];
      const npm = npmCli === undefined ? spawnLongRunning('npm', ['start', '--', path]) : spawnLongRunning(process.execPath, [npmCli, 'start', '--', path]);
      await npm.waitFor('"msg":"listening for FreeSWITCH"');
      expect(npm.stdout()).to.contain(`"port":${port}`);
      expect(await listening(adminPort)).to.equal(true);
      npm.child.kill('SIGTERM');
      await npm.exited;
      expect(await listening(port)).to.equal(false);
      expect(await listening(adminPort)).to.equal(false);
    });

    it('a second SIGTERM while draining exits at once, code 1', async () => {
      const { startCrmServer } = await import('../support/crm-server.ts');
      const { FreeSwitchEmulator } = await import('../emulator/index.ts');
      const crm = await startCrmServer({ neverAnswer: true });
      const port = await freePort();
      const path = writeConfig({ listen: { port }, admin: { listen: null }, schemes: [{ ...scheme, url: `${crm.url}/r`, responseTimeout: 30 }] });
      const router = spawnLongRunning(process.execPath, [BIN, path]);
      await router.waitFor('listening for FreeSWITCH');
      const fs = new FreeSwitchEmulator({ host: '127.0.0.1', port }, { parkDelayMs: 0, mode: 'sync' });
      const call = fs.placeCall();
      await crm.nextRequest();
      router.child.kill('SIGTERM');
      await router.waitFor('"msg":"stopping');
      router.child.kill('SIGTERM');
      expect(await router.exited).to.equal(1);
      expect(router.stdout()).to.contain('second signal: exiting now');
      // FreeSWITCH sees the socket close: the call continues in the dialplan.
      expect((await call).returnedToDialplan).to.equal(true);
      await crm.close();
    });
  });
});
