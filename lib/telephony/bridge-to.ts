import { bridgeFailure } from '../core/call-failure.ts';
import { bridge, hangUpLeftover, type BridgeResult } from './bridge.ts';
import { lost, type Bridging, type Lost, type Settled } from './call-state.ts';
import { handBack, type HandedBack } from './hand-back.ts';
import type { Line } from './line.ts';
import { leaveTalking, type Talking } from './talking.ts';

/**
 * One bridge of the call, as a step: written, decided, waited for, and the caller's leftover leg ended.
 * Sync mode counts as decided once the bridge is written: FreeSWITCH holds every event back until the
 * bridged call is over, so the router cannot tell ringing from talking, and a stop (SIGTERM) cannot
 * wait for a call that may last hours. Should such a bridge fail after the router has stopped, the
 * scheme's fallback is not taken: FreeSWITCH continues the dialplan after `socket` (the stop says how
 * many calls this may concern). While the router runs, a failed bridge takes the fallback as usual.
 */
export const bridgeTo = async (line: Line, bridging: Bridging, eventUuid: string): Promise<BridgeResult> => {
  const { admitted, endpoint } = bridging;
  const attempt = bridge(line, admitted.mode, { endpoint, callTimeoutS: admitted.scheme.callTimeout, eventUuid, callerAnswered: admitted.callerAnswered });
  if (admitted.mode === 'sync') line.markDecided();
  else void line.watch.bridged.then(line.markDecided);
  const outcome = await attempt;
  if (outcome._tag === 'Answered' && !line.watch.signal.aborted) await hangUpLeftover(line);
  return outcome;
};

/** Where a bridge that did connect, or cannot be followed any more, leaves the call. */
export const afterBridge = (
  line: Line,
  { admitted, facts }: Bridging,
  outcome: Exclude<BridgeResult, { _tag: 'NotConnected' }>,
  answered: 'bridged' | 'fallback-bridged',
): Settled | Talking | HandedBack | Lost => {
  // A call still talking goes on without the router; one whose bridge is over lingers for its `exit`.
  if (outcome._tag === 'Connected' || outcome._tag === 'SignalBridged') return leaveTalking(line, facts, answered);
  if (outcome._tag === 'Answered') return { _tag: 'Settled', result: answered, facts };
  if (outcome._tag === 'CallerGone') return { _tag: 'Settled', result: 'caller-gone', facts: { failure: bridgeFailure(outcome.disposition), ...facts } };
  // A stalled bridge is FreeSWITCH's to finish: once it does, the dialplan after `socket` takes the call.
  if (outcome.stalled) return handBack(line, admitted.mode, { ...facts, failure: 'BridgeLost', failureDetail: outcome.reason });
  return lost({ ...facts, failure: 'BridgeLost', failureDetail: outcome.reason });
};
