import type { Socket } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { systemClock, withTimeout, type Clock } from '../delay.ts';
import { serializeAll, type EslCommand, type UnsafeCommand } from './command.ts';
import type { Frame, ReplyFrame } from './frame.ts';
import { createFrameReader, type FrameReaderOptions, type MalformedFrame } from './frame-reader.ts';

export type EslFailure =
  | { readonly _tag: 'SocketClosed' }
  | { readonly _tag: 'ReplyTimeout'; readonly ms: number }
  | MalformedFrame
  | UnsafeCommand;

export type CloseReason =
  | { readonly _tag: 'PeerClosed' }
  | { readonly _tag: 'SocketError'; readonly code: string }
  | MalformedFrame
  | { readonly _tag: 'LocalClose' }
  /** A frame listener threw: a defect of ours, which must cost this call and not the process. */
  | { readonly _tag: 'ListenerFailed'; readonly message: string };

export interface EslSession {
  /**
   * Writes the commands in one TCP write and settles with their replies, in order. Replies from
   * FreeSWITCH come strictly in command order, so a FIFO of pending commands can never hand one
   * command's reply to another (the mix-up modesl's execute() allowed).
   * `timeoutMs` undefined means no timeout: in sync socket mode a bridge is answered only when the
   * bridged call has ended, so only the socket's closing bounds that wait.
   * A reply later than `timeoutMs` settles this send as ReplyTimeout and leaves the session open: the
   * late reply still lands on its own command, so later commands get theirs, and the caller decides
   * how to let go (closing at once would strand a caller FreeSWITCH has not parked yet).
   */
  readonly send: (commands: readonly EslCommand[], timeoutMs?: number) => TE.TaskEither<EslFailure, readonly ReplyFrame[]>;
  /** Every frame that is not a command reply (events, disconnect notices), in arrival order. */
  readonly onFrame: (listener: (frame: Frame) => void) => () => void;
  readonly closed: Promise<CloseReason>;
  readonly isClosed: () => boolean;
  /**
   * Closes our side once written data has gone. Whether FreeSWITCH then continues the dialplan depends
   * on what was written first: see the hand-back rule (hand-back.ts, handBackCommands).
   */
  readonly end: () => void;
  readonly destroy: () => void;
  /** Bytes received so far: none at all means a bare TCP probe, not a FreeSWITCH call. */
  readonly bytesRead: () => number;
}

type Pending = { readonly settle: (result: E.Either<EslFailure, ReplyFrame>) => void };

const SOCKET_CLOSED: EslFailure = { _tag: 'SocketClosed' };

export const createSession = (socket: Socket, options: FrameReaderOptions = {}, clock: Clock = systemClock): EslSession => {
  const reader = createFrameReader(options);
  const pending: Pending[] = [];
  const listeners = new Set<(frame: Frame) => void>();
  let closeReason: CloseReason | undefined;
  let resolveClosed!: (reason: CloseReason) => void;
  const closed = new Promise<CloseReason>((resolve) => (resolveClosed = resolve));

  const finish = (reason: CloseReason): void => {
    if (closeReason) return;
    closeReason = reason;
    const failure: EslFailure = reason._tag === 'MalformedFrame' ? reason : SOCKET_CLOSED;
    for (const p of pending.splice(0)) p.settle(E.left(failure));
    listeners.clear();
    socket.removeAllListeners('data');
    resolveClosed(reason);
  };

  let bytesRead = 0;
  socket.on('data', (chunk: Buffer) => {
    bytesRead += chunk.length;
    const frames = reader.push(chunk);
    if (E.isLeft(frames)) {
      finish(frames.left);
      socket.destroy();
      return;
    }
    for (const frame of frames.right) {
      if (frame._tag === 'CommandReply' || frame._tag === 'ApiResponse') {
        pending.shift()?.settle(E.right(frame));
      } else {
        try {
          for (const listener of listeners) listener(frame);
        } catch (error) {
          finish({ _tag: 'ListenerFailed', message: error instanceof Error ? error.message : String(error) });
          socket.destroy();
          return;
        }
      }
      if (closeReason) return;
    }
  });
  // Without an 'error' listener a connection reset would be thrown as an uncaught exception.
  socket.on('error', (error: NodeJS.ErrnoException) => finish({ _tag: 'SocketError', code: error.code ?? error.message }));
  socket.on('close', () => finish({ _tag: 'PeerClosed' }));

  const collect = (settled: ReadonlyArray<E.Either<EslFailure, ReplyFrame>>): E.Either<EslFailure, readonly ReplyFrame[]> =>
    settled.find(E.isLeft) ?? E.right(settled.map((r) => (r as E.Right<ReplyFrame>).right));

  const awaitReply = (): Promise<E.Either<EslFailure, ReplyFrame>> =>
    new Promise((resolve) => {
      pending.push({ settle: resolve });
    });

  const send =
    (commands: readonly EslCommand[], timeoutMs?: number): TE.TaskEither<EslFailure, readonly ReplyFrame[]> =>
    async () => {
      if (closeReason) return E.left(closeReason._tag === 'MalformedFrame' ? closeReason : SOCKET_CLOSED);
      const wire = serializeAll(commands);
      if (E.isLeft(wire)) return wire;
      const replies = Promise.all(commands.map(awaitReply));
      socket.write(wire.right);
      if (timeoutMs === undefined) return collect(await replies);
      const settled = await withTimeout(replies, timeoutMs, undefined, clock);
      return settled._tag === 'Settled' ? collect(settled.value) : E.left({ _tag: 'ReplyTimeout', ms: timeoutMs });
    };

  return {
    send,
    onFrame: (listener) => {
      if (!closeReason) listeners.add(listener);
      return () => listeners.delete(listener);
    },
    closed,
    isClosed: () => closeReason !== undefined,
    end: () => {
      socket.end();
    },
    destroy: () => {
      finish({ _tag: 'LocalClose' });
      socket.destroy();
    },
    bytesRead: () => bytesRead,
  };
};
