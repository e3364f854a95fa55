import * as E from 'fp-ts/lib/Either.js';
import { withTimeout } from '../delay.ts';
import { api, execute, plain, type EslCommand } from '../esl/command.ts';
import type { ReplyFrame } from '../esl/frame.ts';
import type { FailureTag } from '../core/failure.ts';
import type { Admitted } from './call-state.ts';
import type { SocketMode } from './channel-data.ts';
import { readIn } from './channel-watch.ts';
import type { Line } from './line.ts';

/**
 * Variables of the caller's own channel, set with the set-up while the CRM is asked, so that they cost
 * no round trip when the destination is known: `continue_on_fail` keeps the caller up when a bridge
 * fails (so the fallback can run), `hangup_after_bridge` ends the caller's leg with the callee's.
 */
const CALLER_CHANNEL_VARIABLES = ['hangup_after_bridge=true', 'continue_on_fail=true'];
const SET_BY_API = CALLER_CHANNEL_VARIABLES.join(';');
const SET_BY_MULTISET = execute('multiset', CALLER_CHANNEL_VARIABLES.join(' '));

/**
 * A uuid that `uuid_setvar_multi` reads as one: it takes the channel's uuid up to the first space and
 * splits the rest at `;` (mod_commands.c). FreeSWITCH's own uuids always are; an `origination_uuid`
 * can be any string, and one with a space would name another channel.
 */
const PLAIN_UUID = /^[^\s;]+$/;

/**
 * The variables are set by `uuid_setvar_multi`, an API command, rather than by the `multiset`
 * application, which runs on the channel's thread ahead of the bridge (in async mode in the park loop)
 * and makes FreeSWITCH build a CHANNEL_EXECUTE and a CHANNEL_EXECUTE_COMPLETE, each with the whole
 * channel's data, whether or not anyone is subscribed. The API command only sets them, as the listener
 * reads it (measured in scripts/bench/README.md). A uuid the API command would misread gets `multiset`.
 */
const setCallerVariables = (uuid: string): EslCommand => (PLAIN_UUID.test(uuid) ? api(`uuid_setvar_multi ${uuid} ${SET_BY_API}`) : SET_BY_MULTISET);

/**
 * A uuid FreeSWITCH's `filter` compares as it stands: a leading `+`, `-` or space would be read as the
 * filter's sign, a leading `/` as a regular expression (mod_event_socket.c, event_handler). Whitespace
 * anywhere is refused too, though the value runs to the end of the line: a line break could not go on
 * a command line at all, and no uuid of FreeSWITCH's has any. FreeSWITCH's own uuids always pass.
 */
const FILTERABLE_UUID = /^[^\s+\-/]\S*$/;

/** The `event` line of each mode, made once: only the filter's line differs from call to call. */
const eventsRead = (mode: SocketMode): EslCommand => plain(`event ${[...readIn(mode)].join(' ')}`);
const EVENTS_READ: Readonly<Record<SocketMode, EslCommand>> = { sync: eventsRead('sync'), async: eventsRead('async') };
const MYEVENTS = plain('myevents');

/**
 * The call's own events of the types the mode reads, and no others: `filter Unique-ID` first, so
 * that no event is queued before the filter stands (FreeSWITCH decides at queue time), then `event`
 * naming those types. Without `myevents` an `event` listener is sent every channel's events that pass
 * its filters, so the filter is what keeps it to the call. FreeSWITCH reads a command line one
 * byte per recv() and yield (lib/esl/command.ts): in sync mode these two lines are 50 bytes shorter
 * than `myevents` and a `nixevent` of every other type the call raises, in async mode as long; and
 * a type FreeSWITCH raises that a list of unread types missed is never sent. Any other uuid gets
 * `myevents`, the events it does not read skipped unread by the frame reader.
 */
const subscribe = (uuid: string, mode: SocketMode): readonly EslCommand[] =>
  FILTERABLE_UUID.test(uuid) ? [plain(`filter Unique-ID ${uuid}`), EVENTS_READ[mode]] : [MYEVENTS];

/**
 * The set-up as a list of commands built from what is known of the call, written at once. Each is
 * one entry, so that what a call does not need can be left out of it (the variables when the channel
 * already has them, `ring_ready` deferred, unread events never subscribed) without touching
 * the steps around it.
 */
export const setUpCommands = (admitted: Admitted): readonly EslCommand[] => [
  ...subscribe(admitted.call.uuid, admitted.mode),
  plain('linger'),
  ...(admitted.bridgeVariablesSet ? [] : [setCallerVariables(admitted.call.uuid)]),
  ...(admitted.scheme.ringbackAfterMs === 0 ? [execute('ring_ready')] : []),
];

export type SetUpResult =
  | { readonly _tag: 'Ready' }
  /**
   * FreeSWITCH refused some of the set-up (`-ERR`; uuid_setvar_multi: anything but `+OK`): `command: reply`
   * for each. `channelGone`: uuid_setvar_multi found no such channel, the caller's own.
   */
  | { readonly _tag: 'Refused'; readonly errors: readonly string[]; readonly channelGone: boolean }
  | { readonly _tag: 'Failed'; readonly failure: Extract<FailureTag, 'ReplyTimeout' | 'SocketClosed' | 'MalformedFrame' | 'UnsafeCommand'> };

/** `linger`, `ring_ready`, and for an API command its own name (`uuid_setvar_multi`). */
const nameOf = (command: EslCommand): string => {
  if (command._tag === 'Execute') return command.app;
  const [first, second] = command.line.split(' ');
  return first === 'api' && second !== undefined ? second : first!;
};

/** Room on the call line for what FreeSWITCH answered an API command with, which may run to lines. */
const REFUSAL_CHARS = 200;

/**
 * A command reply refuses with `-ERR`. The set-up's one API command, uuid_setvar_multi, answers `+OK`
 * when it set the variables, and otherwise `-ERR ...`, `-USAGE: ...` or api_exec's `-ERR no reply`.
 */
const refusal = (reply: ReplyFrame): string | undefined => {
  if (reply._tag === 'CommandReply') return reply.replyText.startsWith('-ERR') ? reply.replyText : undefined;
  if (reply.body.startsWith('+OK')) return undefined;
  return reply.body.trim().replace(/\s*\n\s*/g, ' | ').slice(0, REFUSAL_CHARS);
};

/**
 * Writes the set-up and reads its replies, which say whether the channel is ready to be routed. The
 * result is a promise of its own, so that the orchestrator may start the CRM request beside it (and
 * could bridge without awaiting it).
 */
export const setUp = (line: Line, admitted: Admitted): Promise<SetUpResult> => sendSetUp(line, setUpCommands(admitted));

const READY: SetUpResult = { _tag: 'Ready' };

/**
 * What uuid_setvar_multi answers for a channel that is down: switch_core_session_locate finds none, as
 * switch_core_session_read_lock refuses a channel once it is hanging up (switch_core_rwlock.c). The
 * set-up names the caller's own uuid, so this says the caller hung up before FreeSWITCH read the
 * set-up, its CHANNEL_HANGUP perhaps still on the way.
 */
const NO_SUCH_CHANNEL = '-ERR No such channel!';

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
  const errors = replies.right.flatMap((reply, i) => {
    const refused = refusal(reply);
    return refused === undefined ? [] : [`${nameOf(commands[i]!)}: ${refused}`];
  });
  if (errors.length === 0) return READY;
  const channelGone = replies.right.some((reply) => reply._tag === 'ApiResponse' && reply.body.startsWith(NO_SUCH_CHANNEL));
  return { _tag: 'Refused', errors, channelGone };
};
