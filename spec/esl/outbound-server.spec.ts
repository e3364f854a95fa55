import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import { plain } from '../../lib/esl/command.ts';
import { listenOutbound, type OutboundServer } from '../../lib/esl/outbound-server.ts';
import type { EslSession } from '../../lib/esl/session.ts';

const until = async (check: () => boolean): Promise<void> => {
  while (!check()) await new Promise((r) => setTimeout(r, 2));
};

describe('esl/outbound-server', () => {
  let server: OutboundServer;
  let port: number;
  const sessions: EslSession[] = [];
  const peers: Socket[] = [];
  const errors: Error[] = [];
  beforeEach(async () => {
    sessions.length = 0;
    errors.length = 0;
    server = await listenOutbound({ host: '127.0.0.1', port: 0 }, (s) => sessions.push(s), {}, (e) => errors.push(e));
    port = server.address().port;
  });
  afterEach(() => {
    server.stopAccepting();
    for (const peer of peers.splice(0)) peer.destroy();
  });

  const dial = (): Promise<Socket> =>
    new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => resolve(socket));
      socket.on('error', () => undefined);
      peers.push(socket);
    });

  it('forgets a session whose peer resets it (modesl kept a dead entry), and keeps serving', async () => {
    const fs = await dial();
    await until(() => sessions.length === 1);
    const pending = sessions[0]!.send([plain('connect')])();
    fs.resetAndDestroy();
    expect(await pending).to.deep.equal(E.left({ _tag: 'SocketClosed' }));
    await until(() => server.sessionCount() === 0);

    const next = await dial();
    await until(() => sessions.length === 2);
    const reply = sessions[1]!.send([plain('connect')], 1000)();
    next.write('Content-Type: command/reply\nReply-Text: +OK\n\n');
    expect(E.isRight(await reply)).to.equal(true);
    next.destroy();
    await until(() => server.sessionCount() === 0);
    expect(errors).to.deep.equal([]);
  });

  it('stops accepting on request while open sessions carry on', async () => {
    const fs = await dial();
    await until(() => sessions.length === 1);
    server.stopAccepting();
    const refused = await new Promise<boolean>((resolve) => {
      const late = connect(port, '127.0.0.1');
      late.on('error', () => resolve(true));
      late.on('connect', () => resolve(false));
    });
    expect(refused).to.equal(true);
    const reply = sessions[0]!.send([plain('linger')], 1000)();
    fs.write('Content-Type: command/reply\nReply-Text: +OK will linger\n\n');
    expect(E.isRight(await reply)).to.equal(true);
    fs.destroy();
  });
});
