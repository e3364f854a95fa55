import { bridgeFailure } from '../core/call-failure.ts';
import { bridge, hangUpLeftover, type BridgeResult } from './bridge.ts';
import { lost, type Bridging, type Lost, type Settled } from './call-state.ts';
import { handBack, type HandedBack } from './hand-back.ts';
import type { Line } from './line.ts';

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
  const attempt = bridge(line, admitted.mode, { endpoint, callTimeoutS: admitted.scheme.callTimeout, eventUuid });
  if (admitted.mode === 'sync') line.markDecided();
  else void line.watch.bridged.then(line.markDecided);
  const outcome = await attempt;
  if (outcome._tag === 'Answered' && !line.watch.signal.aborted) await hangUpLeftover(line);
  if (outcome._tag === 'SignalBridged') {
    // The call is up and talking: hanging up would cut it, and closing the socket would let the
    // dialplan after `socket` run on it. The router keeps the socket until the channel hangs up.
    line.markDecided();
    await hangUp(line.watch.signal);
  }
  return outcome;
};

/** Settles once the call's signal fires: the channel hung up, or the socket closed. */
const hangUp = (signal: AbortSignal): Promise<void> =>
  signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

/** Where a bridge that did connect, or cannot be followed any more, leaves the call. */
export const afterBridge = (
  line: Line,
  { admitted, facts }: Bridging,
  outcome: Exclude<BridgeResult, { _tag: 'NotConnected' }>,
  answered: 'bridged' | 'fallback-bridged',
): Settled | HandedBack | Lost => {
  if (outcome._tag === 'Answered' || outcome._tag === 'SignalBridged') return { _tag: 'Settled', result: answered, facts };
  if (outcome._tag === 'CallerGone') return { _tag: 'Settled', result: 'caller-gone', facts: { failure: bridgeFailure(outcome.disposition), ...facts } };
  // A stalled bridge is FreeSWITCH's to finish: once it does, the dialplan after `socket` takes the call.
  if (outcome.stalled) return handBack(line, admitted.mode, { ...facts, failure: 'BridgeLost', failureDetail: outcome.reason });
  return lost({ ...facts, failure: 'BridgeLost', failureDetail: outcome.reason });
};
