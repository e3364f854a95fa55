import * as E from 'fp-ts/lib/Either.js';
import { withTimeout, type Clock } from '../delay.ts';
import type { EslCommand } from '../esl/command.ts';
import type { ReplyFrame } from '../esl/frame.ts';
import type { EslFailure, EslSession } from '../esl/session.ts';
import type { ChannelWatch } from './channel-watch.ts';
import type { CallLimits } from './limits.ts';

export type LineFailure = EslFailure | { readonly _tag: 'LetGo' };

/**
 * One call's channel as its live states may use it. Once the router lets go (hands the call back or
 * says `exit`), nothing more goes out on it: the capability to send ends with `release`.
 */
export interface Line {
  readonly watch: ChannelWatch;
  readonly clock: Clock;
  readonly limits: CallLimits;
  /** Writes the commands in one write and waits for their replies, at most `ms` (Infinity: unbounded). */
  readonly send: (commands: readonly EslCommand[], ms: number) => Promise<E.Either<LineFailure, readonly ReplyFrame[]>>;
  /** Writes the commands, then closes our side: the last thing the router says on this call. */
  readonly release: (commands: readonly EslCommand[]) => void;
  readonly released: () => boolean;
  readonly session: Pick<EslSession, 'closed' | 'isClosed' | 'destroy'>;
  /** The router has decided what becomes of the call: a stop (SIGTERM) need not wait for it any longer. */
  readonly markDecided: () => void;
}

const LET_GO: LineFailure = { _tag: 'LetGo' };

export const openLine = (session: EslSession, watch: ChannelWatch, clock: Clock, limits: CallLimits, markDecided: () => void): Line => {
  let released = false;
  return {
    watch,
    clock,
    limits,
    send: async (commands, ms) => {
      if (released) return E.left(LET_GO);
      const replies = session.send(commands)();
      const bounded = await withTimeout(replies, ms, undefined, clock);
      return bounded._tag === 'Settled' ? bounded.value : E.left({ _tag: 'ReplyTimeout', ms });
    },
    release: (commands) => {
      if (released) return;
      released = true;
      // The write happens before the close: FreeSWITCH reads every command before it sees the end.
      if (commands.length > 0) void session.send(commands)();
      session.end();
    },
    released: () => released,
    session,
    markDecided,
  };
};
