import * as E from 'fp-ts/lib/Either.js';
import type { Config } from '../config/codecs.ts';
import { withTimeout } from '../delay.ts';
import { plain } from '../esl/command.ts';
import type { ReplyFrame } from '../esl/frame.ts';
import { socketModeOf } from '../esl/hand-back.ts';
import type { EslSession } from '../esl/session.ts';
import type { Logger } from '../log.ts';
import { selectScheme } from '../routing/select-scheme.ts';
import { lost, type Admitted, type Lost, type Probe } from './call-state.ts';
import { bridgeVariablesSetIn, callerAnsweredIn, callFromConnectReply, controlOf, socketAddressOf } from './channel-data.ts';
import { handBack, type HandedBack } from './hand-back.ts';
import type { Line } from './line.ts';

export interface ConnectDeps {
  readonly config: Config;
  /** The channel variables the configuration reads: all a Call keeps of its channel. */
  readonly used: ReadonlySet<string>;
  readonly log: Pick<Logger, 'error'>;
}

type ConnectReply = Extract<ReplyFrame, { _tag: 'CommandReply' }>;

/**
 * `connect`, and the channel data it answers. A reply later than `replyMs` costs the call its
 * routing, yet the router still waits for it a while (`lateReplyMs`): only the reply says the socket
 * mode, and closing an async call before FreeSWITCH has read `connect` leaves it parked for good.
 */
export async function connect(
  line: Line,
  session: Pick<EslSession, 'send' | 'bytesRead'>,
  deps: ConnectDeps,
): Promise<Admitted | HandedBack | Lost | Probe> {
  const replies = session.send([plain('connect')])();
  const inTime = await withTimeout(replies, line.limits.replyMs, undefined, line.clock);
  const late = inTime._tag !== 'Settled';
  const answered = late ? await withTimeout(replies, line.limits.lateReplyMs, undefined, line.clock) : inTime;
  if (answered._tag !== 'Settled') return lost({ failure: 'ReplyTimeout' });
  const reply = answered.value;
  if (E.isLeft(reply)) return session.bytesRead() === 0 ? { _tag: 'Probe' } : lost({ failure: reply.left._tag });
  const first = reply.right[0];
  if (first?._tag !== 'CommandReply') return lost({ failure: 'BadChannelData' });
  const mode = socketModeOf(first);
  if (late) return handBack(line, mode, { uuid: first.header('Unique-ID'), mode, failure: 'ReplyTimeout' });
  const control = controlOf(first);
  if (control !== undefined && control !== 'full') return notFull(line, first, deps);
  const decoded = callFromConnectReply(first, deps.used);
  if (E.isLeft(decoded)) return handBack(line, mode, { uuid: first.header('Unique-ID'), mode, failure: 'BadChannelData' });
  const call = decoded.right;
  const { scheme, reason } = selectScheme(deps.config, call);
  return {
    _tag: 'Admitted',
    call,
    mode,
    scheme,
    bridgeVariablesSet: bridgeVariablesSetIn(first),
    callerAnswered: callerAnsweredIn(first),
    facts: { uuid: call.uuid, scheme: scheme.name, schemeReason: reason, caller: call.caller, called: call.called, mode },
  };
}

/** Without `full` the router may not drive the call; the operator's fix is one word in the dialplan. */
const notFull = (line: Line, reply: ConnectReply, deps: ConnectDeps): HandedBack => {
  const mode = socketModeOf(reply);
  const uuid = reply.header('Unique-ID');
  const address = socketAddressOf(reply) ?? `${deps.config.listen.host}:${deps.config.listen.port}`;
  const fix = `socket ${address} ${mode === 'async' ? 'async full' : 'full'}`;
  deps.log.error({ uuid, control: reply.header('Control') }, `the dialplan's socket application lacks "full", so the router cannot route the call: write \`${fix}\``);
  return handBack(line, mode, { uuid, mode, failure: 'SocketNotFull' });
};
