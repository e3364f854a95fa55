import type * as t from 'io-ts';
import { Call } from '../core/call.ts';
import type { ReplyFrame } from '../esl/frame.ts';

/**
 * Caller-profile fields that FreeSWITCH's own `${...}` expansion resolves as if they were channel
 * variables; the connect reply carries them as headers, not as `variable_*` lines.
 */
const PROFILE_ALIASES: ReadonlyArray<readonly [variable: string, header: string]> = [
  ['uuid', 'Unique-ID'],
  ['caller_id_number', 'Caller-Caller-ID-Number'],
  ['caller_id_name', 'Caller-Caller-ID-Name'],
  ['destination_number', 'Caller-Destination-Number'],
  ['ani', 'Caller-ANI'],
  ['network_addr', 'Caller-Network-Addr'],
  ['context', 'Caller-Context'],
];

const VARIABLE_PREFIX = 'variable_';

const ALIAS_HEADERS: ReadonlyMap<string, string> = new Map(PROFILE_ALIASES);

const aliasOf = (reply: Extract<ReplyFrame, { _tag: 'CommandReply' }>, variable: string): string | undefined => {
  const header = ALIAS_HEADERS.get(variable);
  return header === undefined ? undefined : reply.header(header);
};

/**
 * The connect reply (url-decoded channel data) as the routing pipeline's typed `Call`, keeping of the
 * channel's variables only those the configuration reads (`usedVariables`).
 */
export const callFromConnectReply = (
  reply: Extract<ReplyFrame, { _tag: 'CommandReply' }>,
  used: ReadonlySet<string>,
): t.Validation<Call> => {
  const variables: Record<string, string> = {};
  for (const name of used) {
    const value = reply.header(VARIABLE_PREFIX + name) ?? aliasOf(reply, name);
    if (value !== undefined) variables[name] = value;
  }
  const uuid = reply.header('Unique-ID');
  return Call.decode({
    uuid,
    callId: reply.header('variable_sip_call_id') ?? uuid,
    caller: reply.header('Caller-Caller-ID-Number'),
    called: reply.header('Caller-Destination-Number'),
    variables,
  });
};

export type { SocketMode } from '../esl/hand-back.ts';

/** FreeSWITCH's switch_true: how it reads a boolean channel variable. */
const switchTrue = (value: string | undefined): boolean =>
  value !== undefined && (/^(yes|on|true|t|enabled|active|allow)$/i.test(value) || (/^-?\d+$/.test(value) && Number.parseInt(value, 10) !== 0));

/**
 * Whether the channel already has what a bridge of the router's needs (the dialplan set it before
 * `socket`): `hangup_after_bridge` and `continue_on_fail` both true. A `continue_on_fail` naming
 * some causes only is not enough: every failed bridge must leave the caller up for the fallback.
 */
export const bridgeVariablesSetIn = (reply: Extract<ReplyFrame, { _tag: 'CommandReply' }>): boolean =>
  switchTrue(reply.header('variable_hangup_after_bridge')) && switchTrue(reply.header('variable_continue_on_fail'));

/** The dialplan answered the caller before `socket` (an IVR, an `answer`). */
export const callerAnsweredIn = (reply: Extract<ReplyFrame, { _tag: 'CommandReply' }>): boolean => reply.header('Answer-State') === 'answered';

/** `full`, or `single-channel` when the dialplan's `socket` line lacks `full`. */
export const controlOf = (reply: Extract<ReplyFrame, { _tag: 'CommandReply' }>): string | undefined => reply.header('Control');

/** The address the dialplan's `socket` line dials (`127.0.0.1:8084` of `127.0.0.1:8084 async full`). */
export const socketAddressOf = (reply: Extract<ReplyFrame, { _tag: 'CommandReply' }>): string | undefined =>
  reply.header('variable_current_application_data')?.trim().split(/\s+/)[0] || undefined;
