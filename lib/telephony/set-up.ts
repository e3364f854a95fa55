import * as E from 'fp-ts/lib/Either.js';
import { withTimeout } from '../delay.ts';
import { execute, plain, type EslCommand } from '../esl/command.ts';
import type { FailureTag } from '../core/failure.ts';
import type { Admitted } from './call-state.ts';
import { WATCHED_EVENTS } from './channel-watch.ts';
import type { Line } from './line.ts';

/**
 * Variables of the caller's own channel, set together with `ring_ready` while the CRM is asked, so that
 * they cost no round trip when the destination is known: `continue_on_fail` keeps the caller up when a
 * bridge fails (so the fallback can run), `hangup_after_bridge` ends the caller's leg with the callee's.
 */
export const CALLER_CHANNEL_VARIABLES = 'hangup_after_bridge=true continue_on_fail=true';

/** The event types `myevents` turns on for the socket (mod_event_socket.c 1.10, parse_command). */
const MYEVENTS_TYPES = [
  'CHANNEL_ANSWER', 'CHANNEL_APPLICATION', 'CHANNEL_BRIDGE', 'CHANNEL_CREATE', 'CHANNEL_DATA', 'CHANNEL_DESTROY',
  'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_ORIGINATE',
  'CHANNEL_UUID', 'CHANNEL_OUTGOING', 'CHANNEL_PARK', 'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_STATE',
  'CHANNEL_UNBRIDGE', 'CHANNEL_UNPARK', 'DETECTED_SPEECH', 'DTMF', 'NOTALK', 'TALK',
] as const;

/**
 * `nixevent` of every type `myevents` turned on that the router does not read: FreeSWITCH then
 * serialises and writes about a third of the bytes per call (nix-a-bridge-user: 27,544 instead of
 * 90,697), and the router reads that much less. It decides at queue time, so it is sent right after
 * `myevents`, before any application runs.
 */
export const NIX_EVENTS = plain(`nixevent ${MYEVENTS_TYPES.filter((type) => !WATCHED_EVENTS.has(type)).join(' ')}`);

/**
 * The set-up as a list of commands built from what is known of the call, written at once. Each is
 * one entry, so that what a call does not need can be left out of it (`multiset` when the channel
 * already has the variables, `ring_ready` deferred, unread events unsubscribed) without touching
 * the steps around it.
 */
export const setUpCommands = (admitted: Admitted): readonly EslCommand[] => [
  plain('myevents'),
  NIX_EVENTS,
  plain('linger'),
  ...(admitted.bridgeVariablesSet ? [] : [execute('multiset', CALLER_CHANNEL_VARIABLES)]),
  ...(admitted.scheme.ringbackAfterMs === 0 ? [execute('ring_ready')] : []),
];

export type SetUpResult =
  | { readonly _tag: 'Ready' }
  /** FreeSWITCH answered some of the set-up with `-ERR`: `command: reply` for each. */
  | { readonly _tag: 'Refused'; readonly errors: readonly string[] }
  | { readonly _tag: 'Failed'; readonly failure: Extract<FailureTag, 'ReplyTimeout' | 'SocketClosed' | 'MalformedFrame' | 'UnsafeCommand'> };

const nameOf = (command: EslCommand): string => (command._tag === 'Plain' ? command.line.split(' ')[0]! : command.app);

/**
 * Writes the set-up and reads its replies, which say whether the channel is ready to be routed. The
 * result is a promise of its own, so that the orchestrator may start the CRM request beside it (and
 * could bridge without awaiting it).
 */
export const setUp = (line: Line, admitted: Admitted): Promise<SetUpResult> => sendSetUp(line, setUpCommands(admitted));

const READY: SetUpResult = { _tag: 'Ready' };

/**
 * `ring_ready` (180 Ringing) for the caller once the CRM has taken the scheme's `ringbackAfterMs`
 * (counted from the request's start) without answering; a CRM that answers sooner has its bridge go
 * out with no ringing of ours, and the destination's own 180 and early media reach the caller.
 * With 0 it went with the set-up. Settles when the answer came first, the caller went, or the
 * `ring_ready` reply was read.
 */
export const ringWhileAsking = async (line: Line, admitted: Admitted, answer: Promise<unknown>, askedAt: number): Promise<SetUpResult> => {
  const after = admitted.scheme.ringbackAfterMs;
  if (after === 0) return READY;
  const waited = await withTimeout(answer, Math.max(0, after - (line.clock.now() - askedAt)), line.watch.signal, line.clock);
  return waited._tag === 'TimedOut' ? sendSetUp(line, [execute('ring_ready')]) : READY;
};

const sendSetUp = async (line: Line, commands: readonly EslCommand[]): Promise<SetUpResult> => {
  const replies = await line.send(commands, line.limits.replyMs);
  if (E.isLeft(replies)) {
    const failure = replies.left._tag === 'LetGo' ? 'SocketClosed' : replies.left._tag;
    return { _tag: 'Failed', failure };
  }
  const errors = replies.right.flatMap((reply, i) =>
    reply._tag === 'CommandReply' && reply.replyText.startsWith('-ERR') ? [`${nameOf(commands[i]!)}: ${reply.replyText}`] : [],
  );
  return errors.length === 0 ? { _tag: 'Ready' } : { _tag: 'Refused', errors };
};
