import { BlockList, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import type { PeerRange } from '../config/codecs.ts';
import type { Logger } from '../routing/logger.ts';
import { plain } from './command.ts';
import type { FrameReaderOptions } from './frame-reader.ts';
import { handBackCommands, socketModeOf } from './hand-back.ts';
import { createSession, type EslSession } from './session.ts';

/** Connections the server did not turn into sessions, since it started. */
export interface ConnectionCounts {
  /** Handed back to FreeSWITCH's dialplan unrouted: the peer's address is not in `listen.allow`. */
  readonly refusedNotAllowed: number;
  /** Handed back to FreeSWITCH's dialplan unrouted: `maxConnections` sessions were open. */
  readonly refusedOverLimit: number;
  /** Failed accepts (EMFILE, ENFILE under load): the peer saw its connection closed. */
  readonly acceptErrors: number;
}

export interface OutboundServer {
  readonly address: () => AddressInfo;
  /** Sessions currently open: each is removed when its socket closes, however it closes. */
  readonly sessionCount: () => number;
  readonly counts: () => ConnectionCounts;
  /** Stops accepting new connections; open sessions carry on. */
  readonly stopAccepting: () => void;
  /** Settles once every hand-back in flight has ended (each is bounded by `replyMs + 2 × lateReplyMs`). */
  readonly handedBack: () => Promise<void>;
}

export interface OutboundListen {
  readonly host: string;
  readonly port: number;
  /** Who may connect; anyone when absent. */
  readonly allow?: readonly PeerRange[];
  /** Sessions open at once; unlimited when absent. */
  readonly maxConnections?: number;
}

export interface OutboundOptions {
  readonly log?: Pick<Logger, 'debug' | 'warn'>;
  /** Milliseconds, for the over-limit warning's pace (specs inject a clock). */
  readonly now?: () => number;
  /** At most one over-limit warning per this many ms. */
  readonly warnEveryMs?: number;
  /** The calls' own bounds (lib/telephony/limits.ts), for the hand-back of a connection not taken. */
  readonly replyMs?: number;
  readonly lateReplyMs?: number;
}

/**
 * Keepalive on every accepted socket. In sync socket mode a bridged call's socket carries nothing
 * until the bridge ends, and nothing else bounds that wait: a FreeSWITCH host that dies without a FIN
 * (power, kernel, a cut link) would leave the call's session open for good. After a minute of silence
 * the kernel probes the peer, and a dead one ends the socket with ETIMEDOUT. The delay is what Node
 * lets us set; the probes' interval and count are the system's (net.ipv4.tcp_keepalive_intvl, _probes;
 * Linux's defaults, 75 s × 9, notice a dead host about 12 minutes later).
 */
const KEEPALIVE_DELAY_MS = 60_000;
/** Hand-backs in flight at most; past that a flood of connections is closed at once. */
const HAND_BACKS_AT_ONCE = 1_000;
const WARN_EVERY_MS = 10_000;
/** lib/telephony/limits.ts's defaults; the router passes its own. */
const DEFAULT_REPLY_MS = 5_000;
const DEFAULT_LATE_REPLY_MS = 30_000;

const peerFamily = (socket: Socket): 'ipv4' | 'ipv6' => (socket.remoteFamily === 'IPv6' ? 'ipv6' : 'ipv4');

/**
 * A connection the router does not take (a peer outside `listen.allow`, or one over
 * `listen.maxConnections`) may still be a call FreeSWITCH is waiting on: it is handed back to the
 * dialplan rather than just closed. Measured on FreeSWITCH 1.10.12: an async socket closed without a
 * command leaves the caller parked until they hang up (mod_event_socket.c socket_function parks once
 * the listener is done). So: `connect`, the hand-back rule on the reply's Socket-Mode (handBackCommands),
 * our end, then FreeSWITCH's close. The reply is waited for as long as a call's (`replyMs +
 * lateReplyMs`): without it the mode is unknown and nothing safe can be sent. After it no byte of the
 * peer's is parsed, and the socket is destroyed only if FreeSWITCH has not closed within `lateReplyMs`
 * of our end: a reset before then could discard a `resume` it has not read yet.
 */
const handBack = (socket: Socket, replyMs: number, lateReplyMs: number): Promise<void> => {
  const session = createSession(socket, { events: new Set() });
  let cut = setTimeout(session.destroy, replyMs + lateReplyMs);
  const ended = session.closed.then(() => clearTimeout(cut));
  void (async () => {
    const connected = await session.send([plain('connect')], replyMs + lateReplyMs)();
    if (E.isLeft(connected)) {
      session.destroy();
      return;
    }
    socket.removeAllListeners('data');
    socket.resume();
    const [reply] = connected.right;
    const commands = reply?._tag === 'CommandReply' ? handBackCommands(socketModeOf(reply), false) : [];
    if (commands.length > 0) void session.send(commands)();
    session.end();
    clearTimeout(cut);
    cut = setTimeout(session.destroy, lateReplyMs);
  })();
  return ended;
};

/**
 * The socket server FreeSWITCH's `socket` application dials, one connection per call.
 * `noDelay`: a command is a few small writes' worth of bytes and every one of them is on a caller's
 * post-dial delay; with Nagle on, modesl measured ~44 ms per round trip instead of ~2 ms.
 * A peer outside `allow` is never routed: the event socket takes commands from whoever connects, so
 * what it routes is only ever FreeSWITCH's. It is handed back like a call over the limit (a FreeSWITCH
 * host missing from the list would otherwise park every async caller), and of its bytes only the
 * `connect` reply is parsed.
 */
export const listenOutbound = (
  listen: OutboundListen,
  onSession: (session: EslSession) => void,
  frames: FrameReaderOptions,
  onError: (error: Error) => void,
  options: OutboundOptions = {},
): Promise<OutboundServer> => {
  const { log, now = () => performance.now(), warnEveryMs = WARN_EVERY_MS, replyMs = DEFAULT_REPLY_MS, lateReplyMs = DEFAULT_LATE_REPLY_MS } = options;
  const allowed = listen.allow && new BlockList();
  for (const range of listen.allow ?? []) allowed?.addSubnet(range.network, range.prefix, range.family);
  const maxConnections = listen.maxConnections ?? Infinity;
  const sessions = new Set<EslSession>();
  const handBacks = new Set<Promise<void>>();
  let refusedNotAllowed = 0;
  let refusedOverLimit = 0;
  let acceptErrors = 0;
  let lastWarnAt = -Infinity;
  let overLimitSinceWarn = 0;

  const handBackAtMost = (socket: Socket): void => {
    if (handBacks.size >= HAND_BACKS_AT_ONCE) {
      socket.destroy();
      return;
    }
    const ended = handBack(socket, replyMs, lateReplyMs);
    handBacks.add(ended);
    void ended.then(() => handBacks.delete(ended));
  };

  const refuseOverLimit = (socket: Socket): void => {
    refusedOverLimit++;
    overLimitSinceWarn++;
    if (now() - lastWarnAt >= warnEveryMs) {
      lastWarnAt = now();
      log?.warn(
        { maxConnections, refused: overLimitSinceWarn, refusedOverLimit },
        'listen.maxConnections calls in progress: new calls are handed back to the dialplan unrouted',
      );
      overLimitSinceWarn = 0;
    }
    handBackAtMost(socket);
  };

  const server: Server = createServer({ noDelay: true }, (socket) => {
    const address = socket.remoteAddress;
    // `remoteAddress` is gone when the peer reset before the accept was handled.
    if (allowed && (address === undefined || !allowed.check(address, peerFamily(socket)))) {
      refusedNotAllowed++;
      log?.debug({ peer: address, refusedNotAllowed }, 'connection refused: peer not in listen.allow; handed back to the dialplan unrouted');
      handBackAtMost(socket);
      return;
    }
    socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    if (sessions.size >= maxConnections) {
      refuseOverLimit(socket);
      return;
    }
    const session = createSession(socket, frames);
    sessions.add(session);
    void session.closed.then(() => sessions.delete(session));
    onSession(session);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      // Once listening, an error here is a failed accept (EMFILE under load): worth a log line, and
      // unheard it would be thrown and take every call down with the process.
      server.on('error', (error) => {
        acceptErrors++;
        onError(error);
      });
      resolve({
        address: () => server.address() as AddressInfo,
        sessionCount: () => sessions.size,
        counts: () => ({ refusedNotAllowed, refusedOverLimit, acceptErrors }),
        stopAccepting: () => {
          server.close();
        },
        handedBack: async () => {
          await Promise.all(handBacks);
        },
      });
    });
  });
};
