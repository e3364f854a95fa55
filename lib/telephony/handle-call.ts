import * as E from 'fp-ts/lib/Either.js';
import type { Config, Scheme } from '../config/codecs.ts';
import { usedVariables } from '../config/used-variables.ts';
import { delay } from '../delay.ts';
import { execute, plain } from '../esl/command.ts';
import type { EslSession } from '../esl/session.ts';
import type { Logger } from '../log.ts';
import { dialString } from '../routing/dial-string.ts';
import { showDestination } from '../core/destination.ts';
import type { Call } from '../core/call.ts';
import type { Router } from '../routing/route.ts';
import { selectScheme } from '../routing/select-scheme.ts';
import { bridge, type BridgeResult } from './bridge.ts';
import { callFromConnectReply, socketModeOf, type SocketMode } from './channel-data.ts';
import type { CallRecord } from './call-record.ts';
import { watchChannel, type ChannelWatch } from './channel-watch.ts';

export interface CallLimits {
  /** How long an ordinary command's reply may take. */
  readonly replyMs: number;
  /** After `exit`, how long FreeSWITCH gets to close before we do. */
  readonly exitGraceMs: number;
  /** How far past `callTimeout` an async bridge may go without connecting or completing. */
  readonly ringSlackMs: number;
  /** After an answered bridge ends, how long the caller may stay up before we hang it up. */
  readonly hangupGraceMs: number;
}

export const DEFAULT_LIMITS: CallLimits = { replyMs: 5_000, exitGraceMs: 5_000, ringSlackMs: 10_000, hangupGraceMs: 2_000 };

export interface CallDeps {
  readonly config: Config;
  readonly route: Router;
  readonly log: Logger;
  readonly newId: () => string;
  readonly now: () => number;
  readonly limits: CallLimits;
}

export interface HandledCall {
  /** Settles when the router has made its decision: bridged, fallen back, or found the caller gone. */
  readonly decided: Promise<void>;
  /** Settles when the router has let go of the call: socket closed, timers and listeners gone. */
  readonly done: Promise<CallRecord>;
}

/**
 * Variables of the caller's own channel, set together with `ring_ready` while the CRM is asked, so that
 * they cost no round trip when the destination is known: `continue_on_fail` keeps the caller up when a
 * bridge fails (so the fallback can run), `hangup_after_bridge` ends the caller's leg with the callee's.
 */
const CALLER_CHANNEL_VARIABLES = 'hangup_after_bridge=true continue_on_fail=true';

/** One call's conversation: what every step needs, passed once. */
interface Conversation {
  readonly deps: CallDeps;
  /** The channel variables the configuration reads: all a Call keeps of its channel. */
  readonly used: ReadonlySet<string>;
  readonly session: EslSession;
  readonly watch: ChannelWatch;
  readonly record: CallRecord;
  readonly markDecided: () => void;
  /** Set when the router has closed its side: FreeSWITCH resumes the dialplan and owes us nothing more. */
  handedBack: boolean;
}

export const handleCall = (deps: CallDeps): ((session: EslSession) => HandledCall) => {
  const used = usedVariables(deps.config);
  return (session) => {
    const started = deps.now();
    let markDecided!: () => void;
    const decided = new Promise<void>((resolve) => (markDecided = resolve));
    const conversation: Conversation = { deps, used, session, watch: watchChannel(session), record: {}, markDecided, handedBack: false };
    const { record, watch } = conversation;
    void session.closed.then((reason) => {
      // A peer's close, or ours, is the normal end; anything else is what the call's line must tell.
      if (reason._tag !== 'PeerClosed' && reason._tag !== 'LocalClose') record.socketClose = reason;
    });
    const done = converse(conversation)
      .catch((error: unknown) => {
        // A defect of ours, not the caller's fault: hand the call back to the dialplan and keep serving.
        record.failure = 'InternalError';
        record.failureDetail = error instanceof Error ? error.message : String(error);
        deps.log.error({ err: error, uuid: record.uuid }, 'call handling failed');
        handBack(conversation);
      })
      .then(() => letGo(conversation))
      .then(() => {
        markDecided();
        watch.dispose();
        record.ms = deps.now() - started;
        deps.log.info(record, 'call');
        return record;
      });
    return { decided, done };
  };
};

const handBack = (conversation: Conversation): void => {
  conversation.handedBack = true;
  conversation.markDecided();
  conversation.session.end();
};

/**
 * `connect`, and the channel data it answers as a typed Call. Kept apart from `converse` so that the
 * connect reply (some 6 KB of headers) is not held while the call waits on the CRM.
 */
async function admit(conversation: Conversation): Promise<{ readonly call: Call; readonly mode: SocketMode } | undefined> {
  const { deps, session, record } = conversation;
  const connected = await session.send([plain('connect')], deps.limits.replyMs)();
  if (E.isLeft(connected)) {
    record.failure = connected.left._tag;
    record.result = 'socket-lost';
    return undefined;
  }
  const reply = connected.right[0];
  const decodedCall = reply?._tag === 'CommandReply' ? callFromConnectReply(reply, conversation.used) : undefined;
  if (reply?._tag !== 'CommandReply' || decodedCall === undefined || E.isLeft(decodedCall)) {
    record.failure = 'BadChannelData';
    record.result = 'fallback-dialplan';
    handBack(conversation);
    return undefined;
  }
  return { call: decodedCall.right, mode: socketModeOf(reply) };
}

async function converse(conversation: Conversation): Promise<void> {
  const { deps, session, watch, record } = conversation;
  const admitted = await admit(conversation);
  if (admitted === undefined) return;
  const { call, mode } = admitted;
  const { scheme, reason } = selectScheme(deps.config, call);
  Object.assign(record, { uuid: call.uuid, caller: call.caller, called: call.called, mode, scheme: scheme.name, schemeReason: reason });

  // The CRM is asked at once, in parallel with the channel's set-up: neither waits for the other.
  // Only a request still in flight is aborted: aborting an answered one at every hang-up made got build
  // an AbortError with its stack trace (source-mapped under tsx) for each call, ~5% of the router's CPU.
  const abort = new AbortController();
  let asking = true;
  void watch.hangup.then(() => {
    if (asking) abort.abort();
  });
  // Reduced to what is read of it, so that the four reply frames are not held while the CRM thinks.
  const setup = session
    .send([plain('myevents'), plain('linger'), execute('multiset', CALLER_CHANNEL_VARIABLES), execute('ring_ready')], deps.limits.replyMs)()
    .then((result) => (E.isLeft(result) ? result.left._tag : undefined));
  const routed = deps.route(scheme, call, abort.signal)().finally(() => {
    asking = false;
  });
  const setupFailure = await setup;
  if (setupFailure !== undefined) {
    abort.abort();
    await routed;
    record.failure = setupFailure;
    record.result = 'socket-lost';
    return;
  }
  const routing = await routed;
  if (watch.isHungUp()) {
    // Nothing more is sent: there is nobody left to route.
    record.failure = E.isLeft(routing) ? routing.left._tag : 'CallerHungUp';
    record.result = 'caller-gone';
    handBack(conversation);
    return;
  }

  if (E.isRight(routing)) {
    const route = routing.right;
    Object.assign(record, { crmStatus: route.crmStatus, crmMs: route.crmMs, destination: showDestination(route.destination), bridge: route.dialString });
    const outcome = await bridgeTo(conversation, mode, scheme, route.dialString);
    if (outcome._tag !== 'NotConnected') {
      settle(record, outcome, 'bridged');
      return;
    }
    record.failure = `Bridge:${outcome.disposition}`;
  } else {
    const failure = routing.left;
    Object.assign(record, { crmStatus: failure.status, crmMs: failure.ms, failure: failure._tag });
  }
  await fallBack(conversation, mode, scheme);
}

const settle = (record: CallRecord, outcome: Exclude<BridgeResult, { _tag: 'NotConnected' }>, answered: string): void => {
  if (outcome._tag === 'Answered') {
    record.result = answered;
  } else if (outcome._tag === 'Lost') {
    record.failure = 'BridgeLost';
    record.failureDetail = outcome.reason;
    record.result = 'socket-lost';
  } else {
    record.failure ??= `Bridge:${outcome.disposition}`;
    record.result = 'caller-gone';
  }
};

async function bridgeTo(conversation: Conversation, mode: SocketMode, scheme: Scheme, endpoint: string): Promise<BridgeResult> {
  const { deps, session, watch } = conversation;
  const bridging = bridge(session, watch, mode, { endpoint, callTimeoutS: scheme.callTimeout, eventUuid: deps.newId() }, deps.limits);
  // In sync mode FreeSWITCH holds every event back until the bridged call is over, so the router cannot
  // tell ringing from talking: once the bridge is written, there is nothing left for it to decide.
  if (mode === 'sync') conversation.markDecided();
  else void watch.bridged.then(conversation.markDecided);
  const outcome = await bridging;
  if (outcome._tag === 'Answered' && !watch.isHungUp()) {
    // hangup_after_bridge was set with the call's set-up; should the caller's leg still be up once the
    // callee has gone, it is ours to end.
    const grace = delay(deps.limits.hangupGraceMs, 'timeout' as const);
    const first = await Promise.race([watch.hangup, grace.promise]);
    grace.cancel();
    if (first === 'timeout') await session.send([execute('hangup', 'NORMAL_CLEARING')], deps.limits.replyMs)();
  }
  return outcome;
}

async function fallBack(conversation: Conversation, mode: SocketMode, scheme: Scheme): Promise<void> {
  const { record } = conversation;
  const fallback = scheme.fallback;
  if (fallback.action === 'bridge') {
    record.fallback = 'bridge';
    record.fallbackBridge = dialString(scheme, fallback.destination);
    const outcome = await bridgeTo(conversation, mode, scheme, record.fallbackBridge);
    if (outcome._tag !== 'NotConnected') {
      settle(record, outcome, 'fallback-bridged');
      return;
    }
    record.failureDetail = `fallback Bridge:${outcome.disposition}`;
  }
  // Closing the socket hands the call back: FreeSWITCH runs the dialplan action after `socket`.
  record.fallback ??= 'dialplan';
  record.result = 'fallback-dialplan';
  handBack(conversation);
}

/**
 * Ends the conversation, whatever state it is in, within bounded time. With plain `linger`, FreeSWITCH
 * announces the hang-up and then waits for `exit` forever; so once it lingers we say `exit`, and a
 * FreeSWITCH that does not close in time has its socket closed by us.
 */
async function letGo(conversation: Conversation): Promise<void> {
  const { deps, session, watch } = conversation;
  const bound = (promise: Promise<unknown>): Promise<'ok' | 'timeout'> => {
    const grace = delay(deps.limits.exitGraceMs, 'timeout' as const);
    return Promise.race([promise.then(() => 'ok' as const), grace.promise]).finally(grace.cancel);
  };
  if (!conversation.handedBack && !session.isClosed()) {
    await bound(Promise.race([watch.lingering, session.closed]));
    if (!session.isClosed()) await session.send([plain('exit')], deps.limits.exitGraceMs)();
  }
  if ((await bound(session.closed)) === 'timeout') session.destroy();
}
