import * as E from 'fp-ts/lib/Either.js';
import type { Config } from '../config/codecs.ts';
import { usedVariables } from '../config/used-variables.ts';
import type { Clock } from '../delay.ts';
import type { EslSession } from '../esl/session.ts';
import type { Logger } from '../log.ts';
import { showDestination } from '../core/destination.ts';
import type { Route, Router } from '../routing/route.ts';
import { bridgeFailure } from '../core/call-failure.ts';
import { ask } from './ask.ts';
import { afterBridge, bridgeTo } from './bridge-to.ts';
import { callRecord, recordLevel, roundMs, routingFailureFacts, type CallRecord } from './call-record.ts';
import { lost, type Admitted, type Bridging, type Ending } from './call-state.ts';
import { watchChannel } from './channel-watch.ts';
import { connect, type ConnectDeps } from './connect.ts';
import { fallBack } from './fall-back.ts';
import { handBack } from './hand-back.ts';
import { letGo } from './let-go.ts';
import type { CallLimits } from './limits.ts';
import { openLine, type Line } from './line.ts';
import { ringWhileAsking, setUp, type SetUpResult } from './set-up.ts';

export { DEFAULT_LIMITS, type CallLimits } from './limits.ts';

export interface CallDeps {
  readonly config: Config;
  readonly route: Router;
  readonly log: Logger;
  readonly newId: () => string;
  readonly clock: Clock;
  readonly limits: CallLimits;
}

/** How a connection ended: a call and its record, or a probe that never said a word. */
export type CallEnd = { readonly _tag: 'Call'; readonly record: CallRecord } | { readonly _tag: 'Probe' };

export interface HandledCall {
  /** Settles when the router has made its decision: bridged, fallen back, or found the caller gone. */
  readonly decided: Promise<void>;
  /** Settles when the router has let go of the call: socket closed, timers and listeners gone. */
  readonly done: Promise<CallEnd>;
}

export const handleCall = (deps: CallDeps): ((session: EslSession) => HandledCall) => {
  const connectDeps: ConnectDeps = { config: deps.config, used: usedVariables(deps.config), log: deps.log };
  return (session) => {
    const started = deps.clock.now();
    let markDecided!: () => void;
    const decided = new Promise<void>((resolve) => (markDecided = resolve));
    const watch = watchChannel(session);
    const line = openLine(session, watch, deps.clock, deps.limits, markDecided);
    let admitted: Admitted | undefined;
    const life = async (): Promise<Ending> => {
      const connected = await connect(line, session, connectDeps);
      if (connected._tag !== 'Admitted') return connected;
      admitted = connected;
      return route(line, connected, deps);
    };
    const done = life()
      .catch((error: unknown): Ending => {
        // A defect of ours, not the caller's fault: hand the call back to the dialplan and keep serving.
        deps.log.error({ err: error, uuid: admitted?.call.uuid }, 'call handling failed');
        const facts = { ...admitted?.facts, failure: 'InternalError', failureDetail: error instanceof Error ? error.message : String(error) } as const;
        return admitted === undefined ? lost(facts) : handBack(line, admitted.mode, facts);
      })
      .then(async (ending) => {
        await letGo(line, ending);
        markDecided();
        watch.dispose();
        return end(deps.log, ending, deps.clock.now() - started, await session.closed);
      });
    return { decided, done };
  };
};

/**
 * The call's life once admitted: set-up and CRM at once, the bridge, and the fallback. FreeSWITCH
 * carries out a socket's commands in the order it reads them, so a CRM answer that comes before the
 * set-up's replies has its bridge written at once: it runs after the set-up all the same.
 */
async function route(line: Line, admitted: Admitted, deps: CallDeps): Promise<Ending> {
  const askedAt = deps.clock.now();
  const asking = ask(deps.route, admitted, line.watch.signal);
  const settingUp = setUp(line, admitted);
  const early = await Promise.race([settingUp.then(() => undefined), asking.answer]);
  if (early !== undefined && E.isRight(early) && !line.watch.signal.aborted) return bridgeFound(line, admitted, early.right, settingUp, deps);
  const setup = await settingUp;
  const ready = setup._tag === 'Ready' ? await ringWhileAsking(line, admitted, asking.answer, askedAt) : setup;
  if (ready._tag !== 'Ready') {
    asking.cancel();
    await asking.answer;
    // A set-up refused because the caller went is no fault of FreeSWITCH's; its replies stay on the line as evidence.
    if (ready._tag === 'Refused' && ready.channelGone) {
      return handBack(line, admitted.mode, { ...admitted.facts, failure: 'CallerHungUp', setupErrors: ready.errors }, 'caller-gone');
    }
    if (ready._tag === 'Refused') return handBack(line, admitted.mode, { ...admitted.facts, failure: 'SetupRefused', setupErrors: ready.errors });
    return ready.failure === 'ReplyTimeout' ? handBack(line, admitted.mode, { ...admitted.facts, failure: 'ReplyTimeout' }) : lost({ ...admitted.facts, failure: ready.failure });
  }
  const answer = await asking.answer;
  if (line.watch.signal.aborted) {
    // Nothing more is sent: there is nobody left to route.
    return handBack(line, admitted.mode, { ...admitted.facts, failure: E.isLeft(answer) ? answer.left._tag : 'CallerHungUp' }, 'caller-gone');
  }
  if (E.isLeft(answer)) return fallBack(line, admitted, { ...admitted.facts, ...routingFailureFacts(answer.left) }, deps.newId);
  return bridgeFound(line, admitted, answer.right, settingUp, deps);
}

/**
 * The CRM's destination bridged, and the fallback if it does not connect. A set-up that FreeSWITCH
 * refuses (or does not answer) once the bridge is out cannot stop it any more: the call line tells it.
 */
async function bridgeFound(line: Line, admitted: Admitted, found: Route, settingUp: Promise<SetUpResult>, deps: CallDeps): Promise<Ending> {
  // Not `{ ...admitted.facts, crmStatus, … }` on the path every routed call takes: on Node.js 20's V8
  // objects of that shape (a spread, then keys of its own) outlive the young generation
  // (scripts/bench/young-survival.ts).
  const routed = Object.assign({}, admitted.facts, { crmStatus: found.crmStatus, crmMs: roundMs(found.crmMs), destination: showDestination(found.destination), bridge: found.dialString });
  const [outcome, setup] = await Promise.all([bridgeTo(line, { _tag: 'Bridging', admitted, endpoint: found.dialString, facts: routed }, deps.newId()), settingUp]);
  const facts = setup._tag === 'Ready' ? routed : { ...routed, setupErrors: setup._tag === 'Refused' ? setup.errors : [`set-up: ${setup.failure}`] };
  const bridging: Bridging = { _tag: 'Bridging', admitted, endpoint: found.dialString, facts };
  if (outcome._tag !== 'NotConnected') return afterBridge(line, bridging, outcome, 'bridged');
  return fallBack(line, admitted, { ...facts, failure: bridgeFailure(outcome.disposition) }, deps.newId);
}

/** The call line, written once: at warn when the CRM failed the call or the socket was lost, at info otherwise. */
function end(log: Logger, ending: Ending, ms: number, closed: Awaited<EslSession['closed']>): CallEnd {
  if (ending._tag === 'Probe') {
    log.debug({ ms: roundMs(ms) }, 'probe: a connection closed without a byte');
    return ending;
  }
  // A peer's close, or ours, is the normal end; anything else is what the call's line must tell.
  const socketClose = closed._tag === 'PeerClosed' || closed._tag === 'LocalClose' ? undefined : closed;
  const record = callRecord(ending.facts, ending.result, ms, socketClose);
  log[recordLevel(record)](record, 'call');
  return { _tag: 'Call', record };
}
