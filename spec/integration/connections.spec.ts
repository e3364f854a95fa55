import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig, formatProblems } from '../../lib/config/load.ts';
import { createLogger } from '../../lib/log.ts';
import { startRouter, type RunningRouter } from '../../lib/server.ts';
import type { SocketMode } from '../emulator/index.ts';
import { startCrmServer, type CrmServer } from '../support/crm-server.ts';
import type { LogLine } from './harness.ts';
import { emulatorPbx, type Pbx } from './pbx.ts';

/** The router over its limit: a call beyond listen.maxConnections goes back to the dialplan, and is counted. */
for (const mode of ['sync', 'async'] as const satisfies readonly SocketMode[]) {
  describe(`integration (${mode} socket mode): listen.maxConnections`, function () {
    this.timeout(15_000);
    let crm: CrmServer;
    let router: RunningRouter;
    let pbx: Pbx;
    const logs: LogLine[] = [];
    before(async () => {
      crm = await startCrmServer({ neverAnswer: true });
      const decoded = decodeConfig({
        listen: { host: '127.0.0.1', port: 0, maxConnections: 1 },
        schemes: [{ name: 'default', url: `${crm.url}/json`, destinationField: 'number_01', gateway: 'pstn', responseTimeout: 1 }],
      });
      if (E.isLeft(decoded)) throw new Error(formatProblems(decoded.left));
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as LogLine);
          done();
        },
      });
      router = await startRouter({ config: decoded.right.config, log: createLogger('info', sink) });
      pbx = emulatorPbx({ host: '127.0.0.1', port: router.address.port });
    });
    after(async () => {
      await pbx.close();
      await router.drain();
      await crm.close();
    });

    it('hands the call over the limit back to the dialplan unrouted, counts it and warns, while the call in progress carries on', async () => {
      const first = pbx.placeCall(mode);
      await crm.nextRequest();
      const over = await pbx.placeCall(mode);
      expect(over.returnedToDialplan).to.equal(true);
      expect(over.bridges).to.deep.equal([]);
      expect(over.commands.map((c) => c.name)).to.deep.equal(mode === 'async' ? ['connect', 'resume'] : ['connect']);
      expect(router.connectionCounts()).to.deep.equal({ refusedNotAllowed: 0, refusedOverLimit: 1, acceptErrors: 0 });
      expect(logs.filter((l) => l.level === 40 && l['maxConnections'] === 1).map((l) => l['refused'])).to.deep.equal([1]);
      expect((await first).returnedToDialplan).to.equal(true);
      expect(logs.filter((l) => l.msg === 'call').map((l) => l['uuid'])).to.not.include(over.uuid);
    });
  });
}

describe('integration: listen.allow', () => {
  it('hands a peer outside the allow-list back unrouted (connect, then resume: no Socket-Mode reads as async), counts it, and writes no log line about it at info', async () => {
    const decoded = decodeConfig({
      listen: { host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] },
      schemes: [{ name: 'default', url: 'http://127.0.0.1:1/json', destinationField: 'number_01', gateway: 'pstn' }],
    });
    if (E.isLeft(decoded)) throw new Error(formatProblems(decoded.left));
    const logs: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    const router = await startRouter({ config: decoded.right.config, log: createLogger('info', sink) });
    try {
      const stranger = connect({ port: router.address.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
      let received = '';
      stranger.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      stranger.on('error', () => undefined);
      stranger.write('Content-Type: command/reply\nReply-Text: +OK\n\n');
      await new Promise((resolve) => stranger.on('close', resolve));
      expect([received, router.activeCalls(), router.connectionCounts().refusedNotAllowed, logs]).to.deep.equal(['connect\n\nresume\n\n', 0, 1, []]);
    } finally {
      await router.drain();
    }
  });
});
