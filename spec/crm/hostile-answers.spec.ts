import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import type { Scheme } from '../../lib/config/codecs.ts';
import { makeGotFetch } from '../../lib/crm/fetch.ts';
import { makeRouter } from '../../lib/routing/route.ts';
import { startCrmServer, type CrmServer } from '../support/crm-server.ts';
import { HOSTILE_BODIES, HOSTILE_VALUES, type ImportKind } from './hostile-answers.ts';
import { call, recordingLogger, schemeOf } from './scheme-fixture.ts';

const wrap = (imp: ImportKind, value: string): string =>
  imp === 'http' ? value : imp === 'json' ? JSON.stringify({ number_01: value }) : JSON.stringify({ jsonrpc: '2.0', id: 1, result: value });

describe('hostile CRM answers, served over loopback', () => {
  let crm: CrmServer;
  const schemes = new Map<ImportKind, Scheme>();
  before(async () => {
    crm = await startCrmServer();
    for (const imp of ['http', 'json', 'jsonrpc'] as const) {
      // submit json: no JSON-RPC id to echo, so the corpus bodies are served as they are.
      schemes.set(imp, schemeOf({ url: `${crm.url}/route`, import: imp, rpcMethod: 'route', destinationField: 'number_01', allowedPrefixes: ['380'] }));
    }
  });
  after(() => crm.close());

  const serve = async (imp: ImportKind) => {
    const log = recordingLogger();
    const scheme = schemes.get(imp);
    if (scheme === undefined) throw new Error('no scheme');
    const result = await makeRouter({ log, fetch: makeGotFetch() })(scheme, call, new AbortController().signal)();
    return { result, log };
  };

  it('holds at least 40 entries', () => expect(HOSTILE_VALUES.length + HOSTILE_BODIES.length).to.be.at.least(40));

  it('control: a clean answer routes under every import', async () => {
    for (const imp of ['http', 'json', 'jsonrpc'] as const) {
      crm.respond({ body: wrap(imp, '380123456789') });
      const { result } = await serve(imp);
      expect(E.isRight(result) && result.right.dialString, imp).to.equal('sofia/gateway/pstn/380123456789');
    }
  });

  for (const entry of HOSTILE_VALUES) {
    for (const imp of ['http', 'json', 'jsonrpc'] as const) {
      it(`${imp}: ${entry.label} → ${entry.expect}`, async () => {
        crm.respond({ body: wrap(imp, entry.value), contentType: imp === 'http' ? 'text/plain' : 'application/json' });
        const { result, log } = await serve(imp);
        expect(E.isLeft(result) && result.left._tag, JSON.stringify(result)).to.equal(entry.expect);
        if (entry.expect === 'UnsafeDestination') {
          const warning = log.lines.find((l) => l.level === 'warn');
          expect(warning?.obj).to.have.property('raw').that.is.a('string');
          expect((warning?.obj as { raw: string }).raw).to.match(/^[\x20-\x7e]{0,140}$/);
        }
      });
    }
  }

  for (const entry of HOSTILE_BODIES) {
    it(`${entry.import}: ${entry.label} → ${entry.expect}`, async () => {
      crm.respond({
        body: entry.body,
        contentType: entry.contentType ?? (entry.import === 'http' ? 'text/plain' : 'application/json'),
        ...(entry.status === undefined ? {} : { status: entry.status }),
        ...(entry.chunked === undefined ? {} : { chunked: entry.chunked }),
      });
      const { result } = await serve(entry.import);
      expect(E.isLeft(result) && result.left._tag, JSON.stringify(result)).to.equal(entry.expect);
    });
  }
});
