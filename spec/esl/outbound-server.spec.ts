import { expect } from 'chai';
import { connect, createServer, Socket } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import { PeerRange } from '../../lib/config/codecs.ts';
import { plain } from '../../lib/esl/command.ts';
import { listenOutbound, type OutboundServer } from '../../lib/esl/outbound-server.ts';
import type { EslSession } from '../../lib/esl/session.ts';

/** Waits for `check`; gives up after 5 s, so that a regression fails the spec instead of hanging the run. */
const until = async (check: () => boolean): Promise<void> => {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('gave up waiting');
    await new Promise((r) => setTimeout(r, 2));
  }
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

type Logged = { level: 'warn' | 'debug'; fields: Record<string, unknown>; msg: string };
const recorder = (logged: Logged[]) => ({
  warn: (fields: Record<string, unknown>, msg: string) => logged.push({ level: 'warn', fields, msg }),
  debug: (fields: Record<string, unknown>, msg: string) => logged.push({ level: 'debug', fields, msg }),
});

/** A peer's view of its connection: every byte the server wrote, and whether the server closed it. */
interface Peer {
  readonly socket: Socket;
  readonly received: () => string;
  readonly closed: Promise<void>;
}

/** `allowHalfOpen`: the peer closes only when told to, as FreeSWITCH does after reading a hand-back. */
const dialFrom = (port: number, host: string, localAddress: string, peers: Socket[], allowHalfOpen = false): Promise<Peer> =>
  new Promise((resolve, reject) => {
    let received = '';
    const socket = connect({ port, host, localAddress, allowHalfOpen });
    peers.push(socket);
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, received: () => received, closed }));
    socket.once('error', reject);
  });

const lines = (received: string): string[] => received.split('\n\n').filter((c) => c !== '');
const connectReply = (mode: 'async' | 'static') =>
  `Content-Type: command/reply\nReply-Text: +OK\nSocket-Mode: ${mode}\nControl: full\nUnique-ID: 6f7a1c2e-0000-4000-8000-000000000001\n\n`;
const OK = 'Content-Type: command/reply\nReply-Text: +OK\n\n';

describe('esl/outbound-server, who may connect', () => {
  const peers: Socket[] = [];
  const servers: OutboundServer[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.stopAccepting();
    for (const p of peers.splice(0)) p.destroy();
  });

  const start = async (listen: Parameters<typeof listenOutbound>[0], logged: Logged[] = [], extra = {}) => {
    const sessions: EslSession[] = [];
    const server = await listenOutbound(listen, (s) => sessions.push(s), {}, () => undefined, { log: recorder(logged), ...extra });
    servers.push(server);
    return { server, sessions, port: server.address().port };
  };
  /** Ranges as the config decodes them. */
  const ranges = (...sources: string[]): PeerRange[] =>
    sources.map((source) => {
      const decoded = PeerRange.decode(source);
      if (E.isLeft(decoded)) throw new Error(`bad range ${source}`);
      return decoded.right;
    });
  const loopbackOnly = ranges('127.0.0.1');

  it('hands a peer outside listen.allow back to the dialplan unrouted — async: connect, resume, close — counts it and logs it at debug only', async () => {
    const logged: Logged[] = [];
    const { server, sessions, port } = await start({ host: '127.0.0.1', port: 0, allow: loopbackOnly }, logged);
    const stranger = await dialFrom(port, '127.0.0.1', '127.0.0.2', peers);
    await until(() => stranger.received() === 'connect\n\n');
    stranger.socket.write(connectReply('async'));
    await until(() => stranger.received() === 'connect\n\nresume\n\n');
    stranger.socket.write(OK);
    await stranger.closed;
    await server.handedBack();
    expect([lines(stranger.received()), sessions.length, server.counts()]).to.deep.equal([
      ['connect', 'resume'],
      0,
      { refusedNotAllowed: 1, refusedOverLimit: 0, acceptErrors: 0 },
    ]);
    expect(logged.map((l) => [l.level, l.fields['peer']])).to.deep.equal([['debug', '127.0.0.2']]);

    await dialFrom(port, '127.0.0.1', '127.0.0.1', peers);
    await until(() => sessions.length === 1);
    expect(server.counts().refusedNotAllowed).to.equal(1);
  });

  it('matches an IPv4 peer of a dual-stack listener (::ffff:127.0.0.1) against the IPv4 ranges, and an IPv6 peer against the IPv6 ones', async function () {
    const ipv6 = await new Promise<boolean>((resolve) => {
      const probe = createServer().once('error', () => resolve(false));
      probe.listen(0, '::1', () => probe.close(() => resolve(true)));
    });
    if (!ipv6) {
      console.log('      skipped: this machine has no IPv6 loopback (::1)');
      this.skip();
    }
    const allow = ranges('127.0.0.1', '::1');
    // An IPv6 socket bound to a v4-mapped address is how a dual-stack listener sees IPv4 peers, on loopback only.
    const mapped = await start({ host: '::ffff:127.0.0.1', port: 0, allow });
    const { server, sessions, port } = await start({ host: '::1', port: 0, allow });
    await dialFrom(mapped.port, '127.0.0.1', '127.0.0.1', peers);
    await dialFrom(port, '::1', '::1', peers);
    await until(() => mapped.sessions.length === 1 && sessions.length === 1);
    const stranger = await dialFrom(mapped.port, '127.0.0.1', '127.0.0.2', peers);
    await until(() => stranger.received() === 'connect\n\n');
    stranger.socket.write(connectReply('static'));
    await stranger.closed;
    expect([lines(stranger.received()), mapped.server.counts().refusedNotAllowed, server.counts().refusedNotAllowed]).to.deep.equal([['connect'], 1, 0]);
  });

  it('lets anyone connect when no allow-list is given', async () => {
    const { sessions, port } = await start({ host: '127.0.0.1', port: 0 });
    await dialFrom(port, '127.0.0.1', '127.0.0.2', peers);
    await until(() => sessions.length === 1);
  });

  it('turns TCP keepalive on for every accepted connection', async () => {
    const calls: unknown[][] = [];
    const { setKeepAlive } = Socket.prototype;
    Socket.prototype.setKeepAlive = function (this: Socket, ...args: Parameters<Socket['setKeepAlive']>) {
      calls.push(args);
      return setKeepAlive.apply(this, args);
    };
    try {
      const { sessions, port } = await start({ host: '127.0.0.1', port: 0 });
      await dialFrom(port, '127.0.0.1', '127.0.0.1', peers);
      await until(() => sessions.length === 1);
    } finally {
      Socket.prototype.setKeepAlive = setKeepAlive;
    }
    expect(calls).to.have.length(1);
    expect(calls[0]![0]).to.equal(true);
    expect(calls[0]![1]).to.be.within(10_000, 300_000);
  });
});

describe('esl/outbound-server, listen.maxConnections', () => {
  const peers: Socket[] = [];
  const servers: OutboundServer[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.stopAccepting();
    for (const p of peers.splice(0)) p.destroy();
  });
  const start = async (logged: Logged[], clock: { ms: number }, bounds = { replyMs: 2_000, lateReplyMs: 2_000 }) => {
    const sessions: EslSession[] = [];
    const server = await listenOutbound({ host: '127.0.0.1', port: 0, maxConnections: 1 }, (s) => sessions.push(s), {}, () => undefined, {
      log: recorder(logged),
      now: () => clock.ms,
      warnEveryMs: 10_000,
      ...bounds,
    });
    servers.push(server);
    const port = server.address().port;
    await dialFrom(port, '127.0.0.1', '127.0.0.1', peers);
    await until(() => sessions.length === 1);
    return { server, sessions, port };
  };

  it('hands a call over the limit back to the dialplan — async: connect, resume, close — and counts it', async () => {
    const { server, sessions, port } = await start([], { ms: 0 });
    const over = await dialFrom(port, '127.0.0.1', '127.0.0.1', peers);
    await until(() => over.received() === 'connect\n\n');
    over.socket.write(connectReply('async'));
    await until(() => over.received() === 'connect\n\nresume\n\n');
    over.socket.write(OK);
    await over.closed;
    expect(lines(over.received())).to.deep.equal(['connect', 'resume']);
    expect([sessions.length, server.sessionCount(), server.counts()]).to.deep.equal([1, 1, { refusedNotAllowed: 0, refusedOverLimit: 1, acceptErrors: 0 }]);
  });

  it('in sync mode (Socket-Mode: static) closes after connect, never sending resume (it would leave the channel in CS_RESET)', async () => {
    const { server, port } = await start([], { ms: 0 });
    const over = await dialFrom(port, '127.0.0.1', '127.0.0.1', peers);
    await until(() => over.received() === 'connect\n\n');
    over.socket.write(connectReply('static'));
    await over.closed;
    expect(lines(over.received())).to.deep.equal(['connect']);
    expect(server.counts().refusedOverLimit).to.equal(1);
  });

  it('waits for a connect reply later than replyMs, up to replyMs + lateReplyMs, and still sends resume', async () => {
    const { port } = await start([], { ms: 0 }, { replyMs: 20, lateReplyMs: 2_000 });
    const over = await dialFrom(port, '127.0.0.1', '127.0.0.1', peers);
    await until(() => over.received() === 'connect\n\n');
    await new Promise((r) => setTimeout(r, 100));
    over.socket.write(connectReply('async'));
    await until(() => over.received() === 'connect\n\nresume\n\n');
  });

  it('after resume ends its side without a reset and waits for FreeSWITCH to close, up to lateReplyMs', async () => {
    const { server, port } = await start([], { ms: 0 }, { replyMs: 20, lateReplyMs: 300 });
    const over = await dialFrom(port, '127.0.0.1', '127.0.0.1', peers, true);
    const resets: string[] = [];
    over.socket.on('error', (error: NodeJS.ErrnoException) => resets.push(error.code ?? error.message));
    const ended = new Promise<void>((done) => over.socket.once('end', () => done()));
    await until(() => over.received() === 'connect\n\n');
    over.socket.write(connectReply('async'));
    await ended;
    let handedBack = false;
    void server.handedBack().then(() => (handedBack = true));
    await new Promise((r) => setTimeout(r, 100));
    expect([lines(over.received()), handedBack]).to.deep.equal([['connect', 'resume'], false]);
    over.socket.end(OK);
    await until(() => handedBack);
    expect(resets).to.deep.equal([]);

    const stuck = await dialFrom(port, '127.0.0.1', '127.0.0.1', peers, true);
    await until(() => stuck.received() === 'connect\n\n');
    stuck.socket.write(connectReply('async'));
    await server.handedBack();
  });

  it('lets its owner wait for the hand-backs in flight (a process exiting mid-way would strand them)', async () => {
    const { server, port } = await start([], { ms: 0 });
    const over = await dialFrom(port, '127.0.0.1', '127.0.0.1', peers);
    await until(() => over.received() === 'connect\n\n');
    let handedBack = false;
    void server.handedBack().then(() => (handedBack = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(handedBack).to.equal(false);
    over.socket.write(connectReply('static'));
    await until(() => handedBack);
  });

  it('cuts a hand-back the peer does not answer, and takes calls again once a session has ended', async () => {
    const { server, sessions, port } = await start([], { ms: 0 }, { replyMs: 25, lateReplyMs: 25 });
    const silent = await dialFrom(port, '127.0.0.1', '127.0.0.1', peers);
    await silent.closed;
    expect(lines(silent.received())).to.deep.equal(['connect']);
    sessions[0]!.destroy();
    await until(() => server.sessionCount() === 0);
    await dialFrom(port, '127.0.0.1', '127.0.0.1', peers);
    await until(() => sessions.length === 2);
    expect(server.counts().refusedOverLimit).to.equal(1);
  });

  it('warns at most once per period while it refuses, with the number refused since the last warning', async () => {
    const logged: Logged[] = [];
    const clock = { ms: 1_000_000 };
    const { server, port } = await start(logged, clock, { replyMs: 15, lateReplyMs: 15 });
    const refuse = async (): Promise<void> => {
      const over = await dialFrom(port, '127.0.0.1', '127.0.0.1', peers);
      await over.closed;
    };
    await refuse();
    await refuse();
    await refuse();
    clock.ms += 10_000;
    await refuse();
    expect(server.counts().refusedOverLimit).to.equal(4);
    expect(logged.map((l) => [l.level, l.fields['refused'], l.fields['refusedOverLimit']])).to.deep.equal([
      ['warn', 1, 1],
      ['warn', 3, 4],
    ]);
  });
});
