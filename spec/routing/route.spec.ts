import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { pino } from 'pino';
import type { Logger } from '../../lib/routing/logger.ts';
import { makeGotFetch } from '../../lib/crm/fetch.ts';
import { withTimeout } from '../../lib/delay.ts';
import { makeRouter } from '../../lib/routing/route.ts';
import { call, recordingLogger, schemeOf } from '../crm/scheme-fixture.ts';
import { startCrmServer, type CrmServer, type Received } from '../support/crm-server.ts';

// Compile-time: pino's Logger is a Logger.
const pinoIsALogger: Logger = pino({ level: 'silent' });

const SUBMITS = ['http', 'json', 'jsonrpc'] as const;
const IMPORTS = ['http', 'json', 'jsonrpc'] as const;
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;

/** The parameters the CRM received, wherever they travelled. */
function paramsReceived(r: Received): Record<string, unknown> {
  if (r.headers['content-type'] === 'application/json') {
    const body = JSON.parse(r.body) as Record<string, unknown>;
    return 'jsonrpc' in body ? (body['params'] as Record<string, unknown>) : body;
  }
  if (r.body !== '') return Object.fromEntries(new URLSearchParams(r.body));
  return Object.fromEntries(new URL(r.url, 'http://x').searchParams);
}

describe('routing/route over a loopback CRM', () => {
  let crm: CrmServer;
  before(async () => {
    crm = await startCrmServer();
  });
  after(() => crm.close());
  const signal = () => new AbortController().signal;

  describe('extensions and login domains', () => {
    const pbx = () =>
      schemeOf({ url: `${crm.url}/route`, import: 'http', gateway: 'gw1', sipDomain: 'pbx.example.com', extensions: '^[1-9]\\d{2,4}$' });
    const answer = async (body: string) => {
      crm.respond({ body });
      return makeRouter({ log: recordingLogger(), fetch: makeGotFetch() })(pbx(), call, signal())();
    };

    it('dials an extension the CRM answers as digits as the SIP user on sipDomain', async () => {
      const result = await answer('1001\n');
      expect(E.isRight(result) && result.right.dialString).to.equal('user/1001@pbx.example.com');
    });

    it('still dials other digits through the gateway', async () => {
      const result = await answer('380441234567');
      expect(E.isRight(result) && result.right.dialString).to.equal('sofia/gateway/gw1/380441234567');
    });

    it('refuses a login naming another tenant\'s domain, saying which', async () => {
      const result = await answer('1001@tenant2.example.com');
      expect(E.isLeft(result) && result.left).to.deep.include({ _tag: 'ForbiddenDestination', login: '1001', domain: 'tenant2.example.com', status: 200 });
    });
  });

  describe('the seed exchange', () => {
    const seed = () =>
      schemeOf({
        url: `${crm.url}/route`,
        submit: 'json',
        import: 'json',
        destinationField: 'number_01',
        params: { step_forward: 'webhookNumber%3A120', google_id: 'UA-38222689-2' },
        gateway: 'gw1',
      });

    it('POSTs JSON and bridges the number_01 of the JSON answer', async () => {
      crm.respond({ body: '{"number_01":"3 80123456789"}', contentType: 'application/json' });
      const result = await makeRouter({ log: recordingLogger(), fetch: makeGotFetch() })(seed(), call, signal())();
      const got = crm.received[crm.received.length - 1];
      expect(got?.method).to.equal('POST');
      expect(got?.headers['content-type']).to.equal('application/json');
      expect(JSON.parse(got?.body ?? '')).to.include({ call_id: call.callId, uuid: call.uuid, step_forward: 'webhookNumber%3A120', google_id: 'UA-38222689-2' });
      expect(E.isRight(result) && result.right).to.deep.include({
        dialString: 'sofia/gateway/gw1/380123456789',
        destination: { _tag: 'PhoneNumber', number: '380123456789' },
        crmStatus: 200,
      });
    });

    it('bridges the same number from a plain-text answer sent as text/html', async () => {
      crm.respond({ body: '380123456789', contentType: 'text/html' });
      const result = await makeRouter({ log: recordingLogger(), fetch: makeGotFetch() })(schemeOf({ url: `${crm.url}/route`, submit: 'json', import: 'http', gateway: 'gw1' }), call, signal())();
      expect(E.isRight(result) && result.right.dialString).to.equal('sofia/gateway/gw1/380123456789');
    });
  });

  describe('every submit × import × method', () => {
    for (const submit of SUBMITS) {
      for (const imp of IMPORTS) {
        for (const method of METHODS) {
          it(`${submit} → ${imp}, ${method}`, async () => {
            crm.respond((r) => {
              const id = submit === 'jsonrpc' ? (JSON.parse(r.body) as { id: number }).id : 7;
              const body =
                imp === 'http' ? 'agent.smith\n' : imp === 'json' ? '{"data":{"agent":"agent.smith"}}' : JSON.stringify({ jsonrpc: '2.0', id, result: { data: { agent: 'agent.smith' } } });
              return { body, contentType: imp === 'http' ? 'text/plain' : 'application/json' };
            });
            const scheme = schemeOf({ url: `${crm.url}/route?k=1`, submit, import: imp, method, rpcMethod: 'route', destinationField: 'data.agent', sipDomain: 'pbx.example.com' });
            const result = await makeRouter({ log: recordingLogger(), fetch: makeGotFetch() })(scheme, call, signal())();
            const got = await crm.nextRequest();
            expect(got.method).to.equal(submit === 'http' ? method : 'POST');
            expect(got.url.startsWith('/route?k=1')).to.equal(true);
            expect(paramsReceived(got)).to.include({ call_id: call.callId, uuid: call.uuid, caller: call.caller, called: call.called, scheme: 'default' });
            if (submit === 'jsonrpc') expect(JSON.parse(got.body)).to.include({ jsonrpc: '2.0', method: 'route' });
            expect(E.isRight(result) && result.right.dialString, JSON.stringify(result)).to.equal('user/agent.smith@pbx.example.com');
          });
        }
      }
    }
  });

  it('refuses a JSON-RPC answer whose id is not the one sent', async () => {
    crm.respond({ body: '{"jsonrpc":"2.0","id":"other","result":"380123456789"}', contentType: 'application/json' });
    const result = await makeRouter({ log: recordingLogger(), fetch: makeGotFetch() })(schemeOf({ url: crm.url, submit: 'jsonrpc', import: 'jsonrpc', rpcMethod: 'r' }), call, signal())();
    expect(E.isLeft(result) && result.left).to.deep.include({ _tag: 'UnparsableAnswer', status: 200 });
  });

  it('gives every request its own JSON-RPC id', async () => {
    crm.respond((r) => ({ body: JSON.stringify({ jsonrpc: '2.0', id: (JSON.parse(r.body) as { id: number }).id, result: '1000@pbx' }) }));
    const route = makeRouter({ log: recordingLogger(), fetch: makeGotFetch() });
    const scheme = schemeOf({ url: crm.url, submit: 'jsonrpc', import: 'jsonrpc', rpcMethod: 'r' });
    await route(scheme, call, signal())();
    await route(scheme, call, signal())();
    const ids = crm.received.slice(-2).map((r) => (JSON.parse(r.body) as { id: number }).id);
    expect(ids[0]).to.not.equal(ids[1]);
  });

  it('aborts the exchange when the caller hangs up, and the CRM sees the connection close', async () => {
    crm.respond({ neverAnswer: true });
    const abort = new AbortController();
    const pending = makeRouter({ log: recordingLogger(), fetch: makeGotFetch() })(schemeOf({ url: crm.url, responseTimeout: 10 }), call, abort.signal)();
    const got = await crm.nextRequest();
    abort.abort();
    // Well before responseTimeout (10 s), which would also end the exchange.
    const result = await withTimeout(pending, 2000);
    const outcome = result._tag !== 'Settled' ? 'still waiting on the CRM 2 s after the hang-up' : E.isLeft(result.value) && result.value.left._tag;
    expect(outcome).to.equal('CrmAborted');
    await got.clientLeft;
    expect(got.clientLeftEarly).to.equal(true);
  });

  it('logs a refused answer at warn with the escaped raw value, and never a header value', async () => {
    crm.respond({ body: '1000,user/evil\n\u0663' });
    const log = recordingLogger();
    const scheme = schemeOf({ url: crm.url, import: 'http', headers: { Authorization: 'Bearer s3cret-token' } });
    const result = await makeRouter({ log, fetch: makeGotFetch() })(scheme, call, signal())();
    expect(E.isLeft(result) && result.left).to.deep.include({ _tag: 'UnsafeDestination', raw: '1000,user/evil\\n\\u0663', status: 200 });
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.obj)).to.deep.equal([
      { scheme: 'default', uuid: call.uuid, _tag: 'UnsafeDestination', raw: '1000,user/evil\\n\\u0663', reason: 'neither a phone number nor a SIP login', status: 200, ms: (result as E.Left<{ ms: number }>).left.ms },
    ]);
    expect(JSON.stringify(log.lines)).to.not.include('s3cret-token');
    expect(crm.received[crm.received.length - 1]?.headers['authorization']).to.equal('Bearer s3cret-token');
  });

  it('is usable with a pino logger', async () => {
    crm.respond({ body: '380123456789' });
    const result = await makeRouter({ log: pinoIsALogger, fetch: makeGotFetch() })(schemeOf({ url: crm.url, import: 'http' }), call, signal())();
    expect(E.isRight(result)).to.equal(true);
  });
});
