import { expect } from 'chai';
import { startCrmServer, type CrmServer } from '../support/crm-server.ts';
import { runCli, writeConfig } from '../support/cli.ts';

const SECRET = 'Bearer s3cret-token-4711';

describe('crm-router try (against a real CRM on loopback)', function () {
  this.timeout(20_000);
  let crm: CrmServer;
  let config: string;
  before(async () => {
    crm = await startCrmServer();
    config = writeConfig({
      admin: { listen: null },
      selection: { byCalledNumber: [{ pattern: '^555', scheme: 'sales' }] },
      schemes: [
        {
          name: 'default',
          url: `${crm.url}/route`,
          destinationField: 'agent.number',
          callTimeout: 25,
          gateway: 'pstn',
          headers: { Authorization: SECRET },
          params: { line: '${sip_to_user}' },
        },
        {
          name: 'sales',
          url: `${crm.url}/sales`,
          method: 'GET',
          submit: 'http',
          import: 'http',
          gateway: 'pstn',
          sipDomain: 'pbx.example.com',
          fallback: { action: 'bridge', destination: 'operator' },
        },
      ],
    });
  });
  after(async () => crm.close());

  it('routed: prints the request with the secret masked, the answer, the destination and the bridge; exit 0', async () => {
    crm.respond({ body: JSON.stringify({ agent: { number: '+380 44 123-45-67' } }), contentType: 'application/json' });
    const r = await runCli(['try', '--config', config, '--caller', '0501112233', '--called', '4400', '--var', 'sip_to_user=line7']);
    expect(r.code, r.stderr).to.equal(0);
    const seen = crm.received.at(-1);
    // The CRM got the real credential and the call as a call would send it...
    expect(seen?.headers['authorization']).to.equal(SECRET);
    expect(JSON.parse(seen?.body ?? '{}')).to.include({ caller: '0501112233', called: '4400', scheme: 'default', line: 'line7' });
    // ...the operator's terminal does not.
    expect(r.stdout).not.to.contain('s3cret');
    expect(r.stdout).to.contain('authorization: *****');
    expect(r.stdout).to.contain(`POST ${crm.url}/route`);
    expect(r.stdout).to.contain('scheme: default (default)');
    expect(r.stdout).to.match(/answer: HTTP 200 in [0-9.]+ ms, 40 bytes \(application\/json\)/);
    expect(r.stdout).to.contain('{"agent":{"number":"+380 44 123-45-67"}}');
    expect(r.stdout).to.contain('routed: 380441234567\n  bridge {originate_timeout=25}sofia/gateway/pstn/380441234567\n');
  });

  it('selects the scheme as a call would (called-number rule) and --json gives the same facts', async () => {
    crm.respond({ body: 'alice\n' });
    const r = await runCli(['try', '-c', config, '--caller', '100', '--called', '5551234', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as Record<string, any>;
    expect(report['scheme']).to.equal('sales');
    expect(report['schemeReason']).to.equal('called number matched /^555/');
    expect(report['request'].method).to.equal('GET');
    expect(report['request'].url).to.match(/\/sales\?call_id=.*&caller=100&called=5551234&scheme=sales$/);
    expect(report['response']).to.include({ status: 200, bytes: 6, body: 'alice\n' });
    expect(report['outcome']).to.deep.equal({ _tag: 'Routed', destination: 'alice', bridge: 'bridge {originate_timeout=30}user/alice@pbx.example.com' });
  });

  it('--scheme picks a scheme as the selection variable would', async () => {
    crm.respond({ body: 'bob' });
    const r = await runCli(['try', '-c', config, '--scheme', 'sales', '--caller', '100', '--called', '200', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.include({ scheme: 'sales', schemeReason: 'variable crm_scheme="sales"' });
  });

  it('fallback: the typed failure and the fallback that would run; exit 1', async () => {
    crm.respond({ status: 503, body: 'down for maintenance' });
    const r = await runCli(['try', '-c', config, '--caller', '100', '--called', '5559']);
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stdout).to.match(/answer: HTTP 503 after [0-9.]+ ms/);
    expect(r.stdout).to.contain('fallback: CrmHttpStatus\n  bridge {originate_timeout=30}user/operator@pbx.example.com\n');
  });

  it('fallback: an answer that is no destination names its reason', async () => {
    crm.respond({ body: JSON.stringify({ agent: { number: 'x; rm -rf' } }), contentType: 'application/json' });
    const r = await runCli(['try', '-c', config, '--caller', '100', '--called', '200', '--json']);
    expect(r.code).to.equal(1);
    const { outcome } = JSON.parse(r.stdout) as { outcome: Record<string, any> };
    expect(outcome['failure']).to.include({ _tag: 'UnsafeDestination', status: 200 });
    expect(outcome['fallback']).to.equal('hand the call back to the dialplan (the action after `socket` runs)');
  });

  it('an unknown --scheme or a bad configuration exits 2 without asking the CRM', async () => {
    const before = crm.received.length;
    const unknown = await runCli(['try', '-c', config, '--scheme', 'nope', '--caller', '1', '--called', '2']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.contain('--scheme: no scheme named "nope" (configured: default, sales)');
    const bad = await runCli(['try', '-c', writeConfig({ schemes: [] }), '--caller', '1', '--called', '2']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('schemes: expected a non-empty array of schemes');
    expect(crm.received.length).to.equal(before);
  });
});
