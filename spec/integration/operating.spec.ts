import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { startService, type Service } from '../../lib/cli/service.ts';
import { loadConfig } from '../../lib/config/load.ts';
import { createLogger } from '../../lib/log.ts';
import type { CallRecord } from '../../lib/telephony/call-record.ts';
import { DEFAULT_LIMITS } from '../../lib/telephony/handle-call.ts';
import { FreeSwitchEmulator } from '../emulator/index.ts';
import { startCrmServer, type CrmServer } from '../support/crm-server.ts';
import { listening, writeConfig } from '../support/cli.ts';
import { calleeFor, DESTINATIONS } from './destinations.ts';

/**
 * The router as `crm-router run` starts it (startService: event socket, admin listener, reload, drain),
 * in this process, dialled by the emulator and asking a real CRM on loopback.
 */

const json = (destination: string, delayMs?: number) => ({
  body: JSON.stringify({ number_01: destination }),
  contentType: 'application/json',
  ...(delayMs === undefined ? {} : { delayMs }),
});

interface Running {
  readonly service: Service;
  readonly fs: FreeSwitchEmulator;
  readonly records: CallRecord[];
  /** Resolves once the router has let go of `n` calls in all. */
  readonly recorded: (n: number) => Promise<void>;
  readonly admin: (path: string) => Promise<{ status: number; body: string }>;
  readonly path: string;
}

const start = async (file: Record<string, unknown>, processMetrics = false): Promise<Running> => {
  const path = writeConfig(file);
  const loaded = loadConfig(path);
  if (E.isLeft(loaded)) throw new Error(JSON.stringify(loaded.left));
  const records: CallRecord[] = [];
  const waiters: Array<() => void> = [];
  const started = await startService({
    configPath: path,
    loaded: loaded.right,
    log: createLogger('silent'),
    logLevelOverride: 'silent',
    processMetrics,
    limits: { ...DEFAULT_LIMITS, replyMs: 1_000, exitGraceMs: 1_000, hangupGraceMs: 500 },
    onCallDone: (record) => {
      records.push(record);
      for (const w of waiters.splice(0)) w();
    },
  });
  if (E.isLeft(started)) throw new Error(JSON.stringify(started.left));
  const service = started.right;
  const adminPort = service.admin?.address.port;
  const recorded = async (n: number): Promise<void> => {
    while (records.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  return {
    service,
    records,
    recorded,
    path,
    fs: new FreeSwitchEmulator({ host: '127.0.0.1', port: service.router.address.port }, { parkDelayMs: 0, callee: calleeFor, msPerSecond: 50 }),
    admin: async (p) => {
      const response = await fetch(`http://127.0.0.1:${String(adminPort)}${p}`);
      return { status: response.status, body: await response.text() };
    },
  };
};

/** One sample's value from the exposition text, or undefined when the series is absent. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

const config = (crm: CrmServer, extra: Record<string, unknown> = {}) => ({
  listen: { host: '127.0.0.1', port: 0 },
  admin: { listen: { host: '127.0.0.1', port: 0 } },
  schemes: [{ name: 'default', url: `${crm.url}/route`, destinationField: 'number_01', gateway: 'pstn', callTimeout: 2, responseTimeout: 2 }],
  ...extra,
});

describe('operating the router (admin listener, reload, drain)', function () {
  this.timeout(30_000);
  let crm: CrmServer;
  let running: Running | undefined;
  beforeEach(async () => {
    crm = await startCrmServer();
  });
  afterEach(async () => {
    await running?.service.shutdown();
    running = undefined;
    await crm.close();
  });

  it('/metrics: after emulated calls the counters match the calls placed, labels only from config and tags', async () => {
    running = await start(config(crm), true);
    const { fs, admin } = running;
    crm.respond(json(DESTINATIONS.login));
    for (let i = 0; i < 3; i++) await fs.placeCall({ mode: i % 2 === 0 ? 'sync' : 'async', caller: `evil"} 1\nx{${i}` });
    crm.respond({ status: 500, body: 'no' });
    for (let i = 0; i < 2; i++) await fs.placeCall({ mode: 'async' });
    crm.respond(json(DESTINATIONS.noAnswer));
    await fs.placeCall({ mode: 'async' });
    await running.recorded(6);

    const { status, body } = await admin('/metrics');
    expect(status).to.equal(200);
    expect(sample(body, 'crm_router_calls_total{scheme="default",result="bridged"}')).to.equal(3);
    expect(sample(body, 'crm_router_calls_total{scheme="default",result="fallback-dialplan"}')).to.equal(3);
    expect(sample(body, 'crm_router_fallbacks_total{scheme="default",reason="CrmHttpStatus"}')).to.equal(2);
    expect(sample(body, 'crm_router_fallbacks_total{scheme="default",reason="Bridge"}')).to.equal(1);
    expect(sample(body, 'crm_router_bridge_outcomes_total{attempt="crm",disposition="SUCCESS"}')).to.equal(3);
    expect(sample(body, 'crm_router_bridge_outcomes_total{attempt="crm",disposition="NO_ANSWER"}')).to.equal(1);
    expect(sample(body, 'crm_router_crm_responses_total{scheme="default",status="200"}')).to.equal(4);
    expect(sample(body, 'crm_router_crm_responses_total{scheme="default",status="500"}')).to.equal(2);
    expect(sample(body, 'crm_router_crm_request_duration_seconds_count{scheme="default",outcome="routed"}')).to.equal(4);
    expect(sample(body, 'crm_router_crm_request_duration_seconds_count{scheme="default",outcome="CrmHttpStatus"}')).to.equal(2);
    expect(sample(body, 'crm_router_crm_requests_in_flight{scheme="default"}')).to.equal(0);
    expect(sample(body, 'crm_router_calls_in_progress')).to.equal(0);
    expect(sample(body, 'crm_router_config_reload_failures_total')).to.equal(0);
    expect(body).to.match(/^nodejs_eventloop_lag_seconds [0-9.e-]+$/m);
    expect(body).to.match(/^process_cpu_user_seconds_total [0-9.e-]+$/m);
    // The caller's number went to the CRM and into the call's log line, never into a label.
    expect(body).not.to.contain('evil');
  });

  it('/metrics: a call waiting on the CRM is in progress and its request in flight', async () => {
    running = await start(config(crm));
    crm.respond(json(DESTINATIONS.login, 400));
    const call = running.fs.placeCall({ mode: 'sync' });
    await crm.nextRequest();
    const { body } = await running.admin('/metrics');
    expect(sample(body, 'crm_router_calls_in_progress')).to.equal(1);
    expect(sample(body, 'crm_router_crm_requests_in_flight{scheme="default"}')).to.equal(1);
    expect((await call).bridges.map((b) => b.outcome)).to.deep.equal(['SUCCESS']);
  });

  it('/healthz answers, other paths are 404', async () => {
    running = await start(config(crm));
    expect(await running.admin('/healthz')).to.deep.equal({ status: 200, body: '{"status":"alive"}\n' });
    expect((await running.admin('/nope')).status).to.equal(404);
  });

  it('/readyz fails as soon as the drain starts; calls in progress still decide; new calls are refused', async () => {
    running = await start(config(crm));
    const { service, fs, admin } = running;
    expect(await admin('/readyz')).to.deep.equal({ status: 200, body: '{"ready":true,"reason":"ready"}\n' });
    crm.respond(json(DESTINATIONS.login, 400));
    const inProgress = fs.placeCall({ mode: 'sync' });
    await crm.nextRequest();
    const drained = service.shutdown();
    expect(await admin('/readyz')).to.deep.equal({ status: 503, body: '{"ready":false,"reason":"draining: not taking new calls"}\n' });
    expect(await listening(service.router.address.port)).to.equal(false);
    expect((await inProgress).bridges.map((b) => b.outcome)).to.deep.equal(['SUCCESS']);
    expect(await drained).to.equal('decided');
    running = undefined;
  });

  it('the drain is bounded by shutdown.drainSeconds', async () => {
    running = await start(config(crm, { shutdown: { drainSeconds: 0.2 } }));
    crm.respond({ neverAnswer: true });
    const call = running.fs.placeCall({ mode: 'sync' });
    await crm.nextRequest();
    const started = performance.now();
    expect(await running.service.shutdown()).to.equal('timed-out');
    expect(performance.now() - started).to.be.within(150, 2_000);
    running = undefined;
    void call.catch(() => undefined);
  });

  it('reload under load: 200 calls across a reload, none lost, the first on the old scheme and the rest on the new', async () => {
    const file = (scheme: string) => ({
      ...config(crm),
      selection: { default: scheme },
      schemes: ['old', 'new'].map((name) => ({ name, url: `${crm.url}/${name}`, destinationField: 'number_01', gateway: 'pstn', callTimeout: 2, responseTimeout: 5 })),
    });
    running = await start(file('old'));
    const { service, fs } = running;
    crm.respond(json(DESTINATIONS.login, 150));
    const before = Array.from({ length: 100 }, (_, i) => fs.placeCall({ mode: i % 2 === 0 ? 'sync' : 'async', uuid: `before-${i}` }));
    // Every one of them is waiting on the CRM when the new configuration arrives.
    while (crm.received.length < 100) await crm.nextRequest();
    writeFileSync(running.path, JSON.stringify(file('new')));
    expect(service.reload()).to.deep.equal({ _tag: 'Applied' });
    const after = Array.from({ length: 100 }, (_, i) => fs.placeCall({ mode: i % 2 === 0 ? 'sync' : 'async', uuid: `after-${i}` }));
    const results = await Promise.all([...before, ...after]);
    await running.recorded(200);

    expect(results.filter((r) => r.bridges.length === 1 && r.bridges[0]?.outcome === 'SUCCESS')).to.have.length(200);
    const schemeOf = new Map(running.records.map((r) => [r.uuid, r.scheme]));
    expect(Array.from({ length: 100 }, (_, i) => schemeOf.get(`before-${i}`))).to.deep.equal(Array(100).fill('old'));
    expect(Array.from({ length: 100 }, (_, i) => schemeOf.get(`after-${i}`))).to.deep.equal(Array(100).fill('new'));
    expect(running.records.filter((r) => r.result === 'bridged')).to.have.length(200);
    expect(crm.received.filter((r) => r.url === '/old')).to.have.length(100);
    expect(crm.received.filter((r) => r.url === '/new')).to.have.length(100);
  });

  it('a bad file or a moved listener is refused: the running configuration stays, the failure is counted', async () => {
    running = await start({ ...config(crm), selection: { default: 'default' } });
    const { service, path, admin, fs } = running;
    writeFileSync(path, JSON.stringify({ ...config(crm), schemes: [{ name: 'default', url: 'ftp://x', gateway: 'pstn' }] }));
    const bad = service.reload();
    expect(bad).to.have.property('_tag', 'Refused');
    expect(bad._tag === 'Refused' ? bad.problems?.map((p) => p.path) : undefined).to.deep.equal(['schemes[0].url']);
    writeFileSync(path, JSON.stringify({ ...config(crm), listen: { host: '127.0.0.1', port: 1 } }));
    expect(service.reload()).to.deep.equal({
      _tag: 'Refused',
      reason: `listen changed (127.0.0.1:0 → 127.0.0.1:1): restart the router to move its listener`,
    });
    writeFileSync(path, JSON.stringify({ ...config(crm), admin: { listen: null } }));
    expect(service.reload()).to.deep.equal({ _tag: 'Refused', reason: 'admin.listen changed: restart the router to move its admin listener' });

    crm.respond(json(DESTINATIONS.login));
    expect((await fs.placeCall({ mode: 'sync' })).bridges.map((b) => b.endpoint)).to.deep.equal([`user/${DESTINATIONS.login}`]);
    const { body } = await admin('/metrics');
    expect(sample(body, 'crm_router_config_reload_failures_total')).to.equal(3);
    expect(sample(body, 'crm_router_config_reloads_total')).to.equal(0);
  });
});
