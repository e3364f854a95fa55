import { createServer } from 'node:net';
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import type { Scheme } from '../../lib/config/codecs.ts';
import { buildRequest } from '../../lib/crm/build-request.ts';
import { clientFor, makeGotFetch, MAX_ANSWER_BYTES } from '../../lib/crm/fetch.ts';
import { withTimeout } from '../../lib/delay.ts';
import { startCrmServer, type CrmServer } from '../support/crm-server.ts';
import { call, schemeOf } from './scheme-fixture.ts';

describe('crm/fetch against a loopback CRM', () => {
  let crm: CrmServer;
  before(async () => {
    crm = await startCrmServer();
  });
  after(() => crm.close());

  const fetch = makeGotFetch();
  const ask = (scheme: Scheme, signal = new AbortController().signal) => fetch(scheme, buildRequest(scheme, call, 1), signal)();
  const tagOf = async (scheme: Scheme): Promise<string> => {
    const r = await ask(scheme);
    return E.isLeft(r) ? r.left._tag : 'Right';
  };
  const at = (extra: Record<string, unknown> = {}) => schemeOf({ url: `${crm.url}/route`, import: 'http', ...extra });

  it('returns status, body, content type and duration of a 2xx answer', async () => {
    crm.respond({ status: 201, body: 'agent', contentType: 'text/html' });
    const r = await ask(at());
    expect(E.isRight(r) && { ...r.right, body: r.right.body.toString(), ms: typeof r.right.ms }).to.deep.equal({
      status: 201,
      body: 'agent',
      contentType: 'text/html',
      ms: 'number',
    });
  });

  it('keeps one pool of CRM connections per scheme across a reload that leaves the scheme as it was', async () => {
    const reloading = makeGotFetch();
    crm.respond({ body: 'agent' });
    const before = crm.received.length;
    // A reload decodes the file again: equal schemes, other objects.
    for (const scheme of [at(), at()]) await reloading(scheme, buildRequest(scheme, call, 1), new AbortController().signal)();
    const ports = crm.received.slice(before).map((r) => r.remotePort);
    expect(ports).to.have.length(2);
    expect(ports[1]).to.equal(ports[0]);
  });

  it('accepts a body of exactly the cap', async () => {
    crm.respond({ body: 'x'.repeat(MAX_ANSWER_BYTES) });
    const r = await ask(at());
    expect(E.isRight(r) && r.right.body.length).to.equal(MAX_ANSWER_BYTES);
  });

  it('reports a non-2xx status with its code', async () => {
    crm.respond({ status: 503, body: 'busy' });
    const r = await ask(at());
    expect(E.isLeft(r) && r.left).to.deep.include({ _tag: 'CrmHttpStatus', status: 503 });
  });

  it('does not retry a failed exchange: a GET whose connection drops is asked once', async () => {
    crm.respond({ destroySocket: true });
    const before = crm.received.length;
    const r = await ask(at({ submit: 'http', method: 'GET' }));
    expect(E.isLeft(r) && r.left._tag).to.equal('CrmUnreachable');
    expect(crm.received.length - before).to.equal(1);
  });

  it('makes clients that never retry, whichever of got\'s APIs uses them (got retries a dropped GET twice by default)', async () => {
    crm.respond({ destroySocket: true });
    const before = crm.received.length;
    // got's first retry waits a second: a client that retries is still busy when the bound fires.
    const settled = await withTimeout(clientFor(at())(`${crm.url}/route`).then(() => 'answered' as const, (e: { code?: unknown }) => e.code), 500);
    expect(settled._tag === 'Settled' ? settled.value : 'retrying').to.equal('ECONNRESET');
    expect(crm.received.length - before).to.equal(1);
  });

  it('makes clients whose defaults hold no cache option keys, frozen once set (what every request spreads first)', () => {
    const { options, handlers } = clientFor(at()).defaults;
    expect(Object.keys(options.cacheOptions)).to.deep.equal([]);
    expect([options.cacheOptions, options.timeout, handlers].map((o) => Object.isFrozen(o))).to.deep.equal([true, true, true]);
  });

  it('gives up after responseTimeout when the CRM is slow, and hangs up on it', async () => {
    crm.respond({ delayMs: 1000, body: '1000' });
    const started = Date.now();
    const r = await ask(at({ responseTimeout: 0.2 }));
    expect(E.isLeft(r) && r.left).to.deep.include({ _tag: 'CrmTimeout', timeoutMs: 200 });
    expect(Date.now() - started).to.be.within(150, 900);
    const got = crm.received[crm.received.length - 1];
    await got?.clientLeft;
    expect(got?.clientLeftEarly).to.equal(true);
  });

  it('times out when the CRM never answers', async () => {
    crm.respond({ neverAnswer: true });
    expect(await tagOf(at({ responseTimeout: 0.1 }))).to.equal('CrmTimeout');
  });

  it('bounds the whole exchange, a trickling body included', async () => {
    crm.respond({ body: '1000', chunked: true, delayMs: 150 });
    expect(await tagOf(at({ responseTimeout: 0.1 }))).to.equal('CrmTimeout');
  });

  it('reports a dropped connection as CrmUnreachable', async () => {
    crm.respond({ destroySocket: true });
    const r = await ask(at());
    expect(E.isLeft(r) && r.left).to.deep.include({ _tag: 'CrmUnreachable', code: 'ECONNRESET' });
  });

  it('reports a refused connection as CrmUnreachable', async () => {
    const closed = await startCrmServer();
    await closed.close();
    const r = await ask(schemeOf({ url: `${closed.url}/route`, import: 'http' }));
    expect(E.isLeft(r) && r.left).to.deep.include({ _tag: 'CrmUnreachable', code: 'ECONNREFUSED' });
  });

  it('reports a TLS failure as CrmTlsError', async () => {
    // A plain TCP server that answers the TLS ClientHello with garbage.
    const server = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const r = await ask(schemeOf({ url: `https://127.0.0.1:${port}/route`, import: 'http' }));
      expect(E.isLeft(r) && r.left._tag, JSON.stringify(r)).to.equal('CrmTlsError');
    } finally {
      server.close();
    }
  });

  it('drops an answer over 64 KiB announced by Content-Length', async () => {
    crm.respond({ body: 'x'.repeat(MAX_ANSWER_BYTES + 1) });
    const r = await ask(at());
    expect(E.isLeft(r) && r.left).to.deep.include({ _tag: 'CrmBodyTooLarge', limit: MAX_ANSWER_BYTES, status: 200 });
  });

  it('drops a chunked answer once it passes 64 KiB', async () => {
    crm.respond({ body: 'x'.repeat(1024 * 1024), chunked: true });
    expect(await tagOf(at())).to.equal('CrmBodyTooLarge');
  });

  it('does not even connect when the caller is already gone', async () => {
    crm.respond({ body: '1000' });
    const abort = new AbortController();
    abort.abort();
    const before = crm.received.length;
    const r = await ask(at(), abort.signal);
    expect(E.isLeft(r) && r.left._tag).to.equal('CrmAborted');
    expect(crm.received.length).to.equal(before);
  });

  it('does not follow redirects, even to an answer that would route', async () => {
    crm.respond((request) => (request.url === '/route' ? { status: 302, headers: { location: `${crm.url}/agent` } } : { body: '380441234567' }));
    const before = crm.received.length;
    const r = await ask(at());
    expect(E.isLeft(r) && r.left).to.deep.include({ _tag: 'CrmHttpStatus', status: 302 });
    expect(crm.received.slice(before).map((q) => q.url)).to.deep.equal(['/route']);
  });
});
