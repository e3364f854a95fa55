import type { StopSignal } from '../delay.ts';
import type { EventFrame, Frame } from '../esl/frame.ts';
import type { EslSession } from '../esl/session.ts';
import type { SocketMode } from './channel-data.ts';

const READ_IN: Readonly<Record<SocketMode, ReadonlySet<string>>> = {
  // Sync: the bridge's own completion decides, and its reply comes only once the bridge is over.
  sync: new Set(['CHANNEL_HANGUP', 'CHANNEL_EXECUTE_COMPLETE']),
  // Async: CHANNEL_BRIDGE says a bridge connected (perhaps on early media) before it completes,
  // CHANNEL_ANSWER that the destination then answered, CHANNEL_PARK that closing the socket unparks.
  async: new Set(['CHANNEL_HANGUP', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_BRIDGE', 'CHANNEL_ANSWER', 'CHANNEL_PARK']),
};

/** The events a call in this mode needs FreeSWITCH to send. */
export const readIn = (mode: SocketMode): ReadonlySet<string> => READ_IN[mode];

/** The only events a call's handling reads, in either mode; the event socket may skip every other one unread. */
export const WATCHED_EVENTS: ReadonlySet<string> = new Set([...READ_IN.sync, ...READ_IN.async]);

export interface ChannelWatch {
  /**
   * The call's one signal: fires once the caller is gone (CHANNEL_HANGUP, a disconnect notice)
   * or the socket has closed. Every wait of the call's life ends on it.
   */
  readonly signal: StopSignal;
  /** Why the signal fired: the hang-up cause, DISCONNECT_NOTICE or SOCKET_CLOSED. */
  readonly hangupCause: () => string | undefined;
  /**
   * The CHANNEL_EXECUTE_COMPLETE of the execution sent with this Event-UUID (FreeSWITCH echoes it as
   * Application-UUID), or undefined if the socket closes first. Register before sending the command.
   */
  readonly completion: (applicationUuid: string) => Promise<EventFrame | undefined>;
  /**
   * Settles when the caller is bridged to a destination (CHANNEL_BRIDGE). By default FreeSWITCH bridges
   * on the destination's early media (a 183 with audio), before it answers.
   */
  readonly bridged: Promise<void>;
  /**
   * Settles when the caller's leg is answered (CHANNEL_ANSWER, or a CHANNEL_BRIDGE that shows it
   * answered). For a caller the dialplan had not answered, that is the destination's answer: a bridge
   * answers the caller when its destination answers.
   */
  readonly callerAnswered: Promise<void>;
  /** Settles when FreeSWITCH says it is lingering after hang-up and waits for our `exit`. */
  readonly lingering: Promise<void>;
  /**
   * Async mode: FreeSWITCH's park loop has been entered (its CHANNEL_PARK, or the completion of an
   * application, which only that loop runs). From then on closing the socket unparks the channel.
   */
  readonly parked: () => boolean;
  readonly dispose: () => void;
}

/**
 * A signal that fires once, with its listeners in a Set. Every call's channel goes at its end, and an
 * AbortController costs an EventTarget, an Event and its dispatch: 9.0 against 3.1 µs per call's
 * signal (scripts/bench/README.md). Its listeners run at once, in order, each once, as an AbortSignal's
 * do: one removed by an earlier one is not run, and one that throws does not keep the rest from
 * running. The first error is thrown once all have run, to whatever fired the signal: from a frame,
 * that costs this call only (EslSession's ListenerFailed), where an EventTarget would have thrown it
 * out of the process's reach.
 */
const oneShot = (): { readonly signal: StopSignal; readonly fire: () => void } => {
  let aborted = false;
  const listeners = new Set<() => void>();
  return {
    signal: {
      get aborted() {
        return aborted;
      },
      addEventListener: (_type, listener) => {
        if (!aborted) listeners.add(listener);
      },
      removeEventListener: (_type, listener) => {
        listeners.delete(listener);
      },
    },
    fire: () => {
      if (aborted) return;
      aborted = true;
      let failure: { readonly error: unknown } | undefined;
      for (const listener of listeners) {
        listeners.delete(listener);
        try {
          listener();
        } catch (error) {
          failure ??= { error };
        }
      }
      if (failure !== undefined) throw failure.error;
    },
  };
};

/**
 * Everything the router needs to know about its channel, learnt from frames as they pass. It listens
 * from before the subscription, because a hang-up can arrive at any moment, even while the CRM is asked.
 */
export const watchChannel = (session: EslSession): ChannelWatch => {
  const gone = oneShot();
  let cause: string | undefined;
  let parked = false;
  let resolveLingering!: () => void;
  const lingering = new Promise<void>((resolve) => (resolveLingering = resolve));
  let resolveBridged!: () => void;
  const bridged = new Promise<void>((resolve) => (resolveBridged = resolve));
  let resolveAnswered!: () => void;
  const callerAnswered = new Promise<void>((resolve) => (resolveAnswered = resolve));
  const completions = new Map<string, (frame: EventFrame | undefined) => void>();

  const markGone = (why: string): void => {
    if (cause !== undefined) return;
    cause = why;
    gone.fire();
  };

  const onFrame = (frame: Frame): void => {
    if (frame._tag === 'Event') {
      if (frame.name === 'CHANNEL_HANGUP') {
        markGone(frame.header('Hangup-Cause') ?? 'UNKNOWN');
      } else if (frame.name === 'CHANNEL_BRIDGE') {
        resolveBridged();
        if (frame.header('Answer-State') === 'answered') resolveAnswered();
      } else if (frame.name === 'CHANNEL_ANSWER') {
        resolveAnswered();
      } else if (frame.name === 'CHANNEL_PARK') {
        parked = true;
      } else if (frame.name === 'CHANNEL_EXECUTE_COMPLETE') {
        parked = true;
        const id = frame.header('Application-UUID');
        const waiter = id === undefined ? undefined : completions.get(id);
        if (waiter && id !== undefined) {
          completions.delete(id);
          waiter(frame);
        }
      }
    } else if (frame._tag === 'DisconnectNotice') {
      // The notice can overtake CHANNEL_HANGUP (seen on a real FreeSWITCH): it means the caller is gone.
      markGone('DISCONNECT_NOTICE');
      if (frame.disposition === 'linger') resolveLingering();
    }
  };

  const unsubscribe = session.onFrame(onFrame);
  void session.closed.then(() => {
    markGone('SOCKET_CLOSED');
    for (const waiter of completions.values()) waiter(undefined);
    completions.clear();
  });

  return {
    signal: gone.signal,
    hangupCause: () => cause,
    bridged,
    callerAnswered,
    completion: (applicationUuid) =>
      session.isClosed()
        ? Promise.resolve(undefined)
        : new Promise((resolve) => completions.set(applicationUuid, resolve)),
    lingering,
    parked: () => parked,
    dispose: () => {
      unsubscribe();
      for (const waiter of completions.values()) waiter(undefined);
      completions.clear();
    },
  };
};
