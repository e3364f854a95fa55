import { expect } from 'chai';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { listenAdmin } from '../../lib/admin/http.ts';
import { createMetrics } from '../../lib/admin/metrics.ts';

const deploy = (name: string): string => fileURLToPath(new URL(`../../scripts/deploy/${name}`, import.meta.url));
const read = (name: string): string => readFileSync(deploy(name), 'utf8');

/** systemd-analyze when this machine has it (.ci/run installs it from Debian where it is missing). */
const systemdAnalyze = (): string | undefined => (spawnSync('systemd-analyze', ['--version']).status === 0 ? 'systemd-analyze' : undefined);

describe('deployment files (scripts/deploy)', function () {

  it('the systemd unit passes systemd-analyze verify without a word', function () {
    const tool = systemdAnalyze();
    if (tool === undefined) {
      console.log('      skipped: systemd-analyze is not installed (Debian package systemd; .ci/run installs it)');
      this.skip();
    }
    const result = spawnSync(tool, ['verify', deploy('crm-router.service')], { encoding: 'utf8' });
    expect(result.status, result.stderr).to.equal(0);
    // verify exits 0 on a setting it cannot parse: only silence is a pass.
    expect(result.stderr + result.stdout).to.equal('');
  });

  it('the unit restarts on failure, reloads with SIGHUP, drains within its stop timeout and runs unprivileged', () => {
    const unit = read('crm-router.service');
    const setting = (key: string): string[] => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1] ?? '');
    expect(setting('Restart')).to.deep.equal(['on-failure']);
    expect(setting('ExecReload')).to.deep.equal(['/bin/kill -HUP $MAINPID']);
    expect(setting('User')).to.deep.equal(['crm-router']);
    expect(setting('NoNewPrivileges')).to.deep.equal(['yes']);
    expect(setting('ProtectSystem')).to.deep.equal(['strict']);
    expect(setting('CapabilityBoundingSet')).to.deep.equal(['']);
    // Two sockets per waiting call, and the default drain (30 s) fits before systemd kills.
    expect(Number(setting('LimitNOFILE')[0])).to.be.at.least(20_000);
    expect(Number(setting('TimeoutStopSec')[0])).to.be.above(30);
  });

  it('the Dockerfile: a current Node LTS slim image, production dependencies only, non-root, a health check on /healthz', () => {
    const file = read('Dockerfile');
    const froms = [...file.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms).to.deep.equal(['node:24-bookworm-slim', 'node:24-bookworm-slim']);
    const runtime = file.slice(file.lastIndexOf('\nFROM '));
    expect(runtime).to.match(/^RUN npm ci --omit=dev --omit=optional --ignore-scripts/m);
    expect(runtime).to.match(/^COPY --from=build \/src\/dist \.\/dist$/m);
    expect([...runtime.matchAll(/^COPY (?:--from=\S+ )?(\S+)/gm)].map((m) => m[1])).to.deep.equal(['package.json', 'bin', 'conf', 'README.md', '/src/dist']);
    expect(runtime).to.match(/^USER node$/m);
    expect(file).to.match(/^HEALTHCHECK .*\\\n\s+CMD \[.*\/healthz/m);
  });

  it("the Dockerfile's health check command passes on a live admin listener and fails without one", async () => {
    const cmd = /^\s+CMD (\[.*\])$/m.exec(read('Dockerfile'))?.[1];
    const [node, flag, script] = JSON.parse(cmd ?? '[]') as string[];
    expect([node, flag]).to.deep.equal(['node', '-e']);
    const admin = await listenAdmin({ host: '127.0.0.1', port: 0 }, { registry: createMetrics({ processMetrics: false }).registry, readiness: () => ({ ready: true, reason: 'ready' }), onError: () => {} });
    // Asynchronously: the listener answering the check lives in this very process.
    const at = (port: number): Promise<number | null> =>
      new Promise((resolve) => spawn(process.execPath, ['-e', (script ?? '').replace(':9084/', `:${port}/`)], { timeout: 10_000 }).on('exit', resolve));
    expect(await at(admin.address.port)).to.equal(0);
    await admin.close();
    expect(await at(admin.address.port)).to.equal(1);
  });

  it('the Grafana dashboard queries only metrics the router exposes', async () => {
    const dashboard = JSON.parse(read('grafana-dashboard.json')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    const names = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\b(crm_router|nodejs)_[a-z0-9_]+/g) ?? [])));
    const exposed = await createMetrics({ processMetrics: true }).registry.metrics();
    for (const name of names) expect(exposed, name).to.match(new RegExp(`^# TYPE ${name.replace(/_bucket$/, '')} `, 'm'));
    expect(names.size).to.be.at.least(8);
  });

  it('the example dialplan hands calls to the default listener in sync mode and has a dialplan fallback after it', () => {
    const xml = read('freeswitch-dialplan.xml');
    const actions = [...xml.matchAll(/<action application="(\w+)" data="([^"]*)"\/>/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(actions).to.deep.equal(['set crm_scheme=default', 'socket 127.0.0.1:8084 full', 'bridge user/operator']);
    // Well-formed enough for FreeSWITCH's parser: a single root, every element closed.
    expect(execFileSync(process.execPath, ['-e', 'process.stdout.write(String((process.argv[1].match(/<[a-z]/g)||[]).length === (process.argv[1].match(/<\\/[a-z]|\\/>/g)||[]).length))', xml]).toString()).to.equal('true');
  });
});
