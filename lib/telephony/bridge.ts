import { pause, withTimeout, type Bounded } from '../delay.ts';
import type { EventFrame } from '../esl/frame.ts';
import { execute } from '../esl/command.ts';
import { bridgeOutcome, type BridgeOutcome } from './bridge-outcome.ts';
import type { SocketMode } from './channel-data.ts';
import type { Line } from './line.ts';

export type BridgeResult =
  | BridgeOutcome
  /** Async: bridged and the destination answered; the completion comes only once the call is over. */
  | { readonly _tag: 'Connected' }
  /** The socket went (`SocketClosed`, ...), or an async bridge outlived its ringing bound (`stalled`). */
  | { readonly _tag: 'Lost'; readonly reason: string; readonly stalled: boolean };

export interface BridgeRequest {
  /** A dial string built from validated values only (lib/routing/dial-string.ts). */
  readonly endpoint: string;
  readonly callTimeoutS: number;
  readonly eventUuid: string;
  /** The dialplan answered the caller before `socket` (Admitted.callerAnswered). */
  readonly callerAnswered: boolean;
}

/**
 * `originate_timeout` travels in the dial string's `{}` prefix, so the ringing bound needs no command
 * (and no round trip) of its own; the rest of the prefix is ours, never the CRM's.
 */
export const bridgeArgument = (request: Pick<BridgeRequest, 'endpoint' | 'callTimeoutS'>): string =>
  `{originate_timeout=${request.callTimeoutS}}${request.endpoint}`;

const BRIDGED = { _tag: 'Bridged' } as const;
const ANSWERED = { _tag: 'CallerAnswered' } as const;
const CONNECTED: BridgeResult = { _tag: 'Connected' };

/**
 * Bridges the caller and waits for that bridge's completion, or in async mode for its connection. In
 * async mode the reply is an immediate `+OK` and the outcome shows only in events: CHANNEL_BRIDGE once
 * the legs are bridged (by default already on the destination's early media), and the caller's
 * CHANNEL_ANSWER when the destination answers; in sync mode the reply itself comes when the bridge has
 * ended, events held back until then. Matching the completion by its Event-UUID serves both.
 * In async mode a bridge that neither connects nor completes well past its ringing bound means a
 * FreeSWITCH we cannot trust any more: the wait is abandoned. In sync mode events are held back for the
 * whole bridged call, so only the socket's closing can end the wait. A caller the dialplan had answered
 * tells nothing by its answer: its bridge is followed to its completion.
 */
export const bridge = async (line: Line, mode: SocketMode, request: BridgeRequest): Promise<BridgeResult> => {
  const { watch, clock, limits } = line;
  const completion = watch.completion(request.eventUuid);
  const sent = line.send([execute('bridge', bridgeArgument(request), request.eventUuid)], Infinity);
  const ringBound = mode === 'async' ? request.callTimeoutS * 1000 + limits.ringSlackMs : Infinity;
  const connected = mode === 'async' ? Promise.race([completion, watch.bridged.then(() => BRIDGED)]) : completion;
  const ringing = await withTimeout(connected, ringBound, watch.signal, clock);
  if (ringing._tag === 'TimedOut') return { _tag: 'Lost', reason: 'no bridge completion within the ringing bound', stalled: true };
  let ended: Bounded<EventFrame | typeof ANSWERED | undefined>;
  if (ringing._tag === 'Aborted') ended = ringing;
  else if (ringing.value?._tag === 'Bridged') {
    const answer = request.callerAnswered ? completion : Promise.race([completion, watch.callerAnswered.then(() => ANSWERED)]);
    ended = await withTimeout(answer, Infinity, watch.signal, clock);
  } else ended = { _tag: 'Settled', value: ringing.value };
  // A bridge that was running when the caller hung up completes within moments; one FreeSWITCH had
  // not started yet is answered +OK and never runs, so no completion will come.
  if (ended._tag === 'Aborted') ended = await withTimeout(completion, limits.replyMs, undefined, clock);
  if (ended._tag !== 'Settled') return { _tag: 'CallerGone', disposition: 'NO_COMPLETION' };
  const frame = ended.value;
  if (frame?._tag === 'CallerAnswered') return CONNECTED;
  if (frame === undefined) {
    const reply = await sent;
    return { _tag: 'Lost', reason: reply._tag === 'Left' ? reply.left._tag : 'SocketClosed', stalled: false };
  }
  return bridgeOutcome(frame, watch.signal.aborted);
};

/**
 * After an answered bridge, `hangup_after_bridge` (set with the set-up) ends the caller's leg with the
 * callee's; should the caller's leg still be up once the callee has gone, it is ours to end.
 */
export const hangUpLeftover = async (line: Line): Promise<void> => {
  if ((await pause(line.limits.hangupGraceMs, line.watch.signal, line.clock)) === 'TimedOut') {
    await line.send([execute('hangup', 'NORMAL_CLEARING')], line.limits.replyMs);
  }
};
