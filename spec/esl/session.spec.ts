import { expect } from 'chai';
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import { execute, plain } from '../../lib/esl/command.ts';
import type { Frame } from '../../lib/esl/frame.ts';
import { createSession, type EslSession } from '../../lib/esl/session.ts';

/** A session over a real loopback socket; the spec plays FreeSWITCH on the other end. */
const pair = async (): Promise<{ session: EslSession; fs: Socket; written: () => string; close: () => void }> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const fs = connect((server.address() as AddressInfo).port, '127.0.0.1');
  let received = '';
  fs.on('data', (chunk) => (received += chunk.toString()));
  fs.on('error', () => undefined);
  const session = createSession(await accepted);
  return { session, fs, written: () => received, close: () => server.close() };
};

const reply = (text: string): string => `Content-Type: command/reply\nReply-Text: ${text}\n\n`;
const until = async (check: () => boolean): Promise<void> => {
  while (!check()) await new Promise((r) => setTimeout(r, 2));
};

describe('esl/session', () => {
  it('writes commands sent together in one write and hands each its own reply, in order', async () => {
    const { session, fs, written, close } = await pair();
    const sent = session.send([plain('myevents'), plain('linger'), execute('ring_ready')], 1000)();
    await until(() => written().endsWith('execute-app-name: ring_ready\n\n'));
    expect(written()).to.equal('myevents\n\nlinger\n\nsendmsg\ncall-command: execute\nexecute-app-name: ring_ready\n\n');
    fs.write(reply('+OK Events Enabled') + reply('+OK will linger') + reply('+OK'));
    const replies = await sent;
    expect(E.isRight(replies) && replies.right.map((r) => (r._tag === 'CommandReply' ? r.replyText : r.body))).to.deep.equal([
      '+OK Events Enabled',
      '+OK will linger',
      '+OK',
    ]);
    session.destroy();
    close();
  });

  it('delivers events to listeners, whether they come whole or a byte at a time', async () => {
    const { session, fs, close } = await pair();
    const seen: Frame[] = [];
    session.onFrame((f) => seen.push(f));
    const body = 'Event-Name: CHANNEL_HANGUP\nHangup-Cause: ORIGINATOR_CANCEL\nvariable_x: a%20b\n\n';
    const frame = `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-plain\n\n${body}`;
    for (const byte of frame) fs.write(byte);
    await until(() => seen.length === 1);
    const event = seen[0];
    expect(event?._tag).to.equal('Event');
    if (event?._tag === 'Event') {
      expect(event.name).to.equal('CHANNEL_HANGUP');
      expect(event.header('variable_x')).to.equal('a b');
    }
    session.destroy();
    close();
  });

  it('settles every pending command as SocketClosed when the peer resets, without crashing', async () => {
    const { session, fs, close } = await pair();
    const sent = session.send([plain('linger')])();
    fs.resetAndDestroy();
    expect(await sent).to.deep.equal(E.left({ _tag: 'SocketClosed' }));
    const reason = await session.closed;
    expect(['PeerClosed', 'SocketError']).to.include(reason._tag);
    close();
  });

  it('ends the session on a malformed frame instead of throwing', async () => {
    const { session, fs, close } = await pair();
    const sent = session.send([plain('linger')], 1000)();
    fs.write('Content-Type: command/reply\nContent-Length: 2000000000\n\n');
    const result = await sent;
    expect(E.isLeft(result) && result.left._tag).to.equal('MalformedFrame');
    expect((await session.closed)._tag).to.equal('MalformedFrame');
    close();
  });

  it('gives up on a reply that does not come within its timeout, and keeps the next reply for the next command', async () => {
    const { session, fs, close } = await pair();
    const result = await session.send([plain('linger')], 30)();
    expect(result).to.deep.equal(E.left({ _tag: 'ReplyTimeout', ms: 30 }));
    expect(session.isClosed()).to.equal(false);
    const next = session.send([plain('myevents')], 1000)();
    fs.write(reply('+OK will linger') + reply('+OK Events Enabled'));
    const replies = await next;
    expect(E.isRight(replies) && replies.right.map((r) => (r._tag === 'CommandReply' ? r.replyText : ''))).to.deep.equal(['+OK Events Enabled']);
    session.destroy();
    close();
  });

  it('counts the bytes it has read: none for a peer that closes without a word', async () => {
    const { session, fs, close } = await pair();
    expect(session.bytesRead()).to.equal(0);
    fs.write(reply('+OK'));
    await until(() => session.bytesRead() > 0);
    expect(session.bytesRead()).to.equal(reply('+OK').length);
    session.destroy();
    close();
  });

  it('refuses a value that would break the frame, and writes nothing', async () => {
    const { session, written, close } = await pair();
    const result = await session.send([execute('bridge', 'user/1000\n\nexecute-app-name: hangup')], 100)();
    expect(E.isLeft(result) && result.left._tag).to.equal('UnsafeCommand');
    await new Promise((r) => setTimeout(r, 20));
    expect(written()).to.equal('');
    session.destroy();
    close();
  });
});

describe('esl/session, a listener that throws', () => {
  it('ends that session only, with the reason, instead of the process', async () => {
    const { session, fs, close } = await pair();
    session.onFrame(() => {
      throw new Error('defect');
    });
    const body = 'Event-Name: CHANNEL_HANGUP\n\n';
    fs.write(`Content-Length: ${body.length}\nContent-Type: text/event-plain\n\n${body}`);
    expect(await session.closed).to.deep.equal({ _tag: 'ListenerFailed', message: 'defect' });
    close();
  });
});
