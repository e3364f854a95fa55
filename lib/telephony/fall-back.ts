import { bridgeFailure } from '../core/call-failure.ts';
import { dialString } from '../routing/dial-string.ts';
import { afterBridge, bridgeTo } from './bridge-to.ts';
import type { CallFacts } from './call-record.ts';
import type { Admitted, Bridging, Lost, Settled } from './call-state.ts';
import { handBack, type HandedBack } from './hand-back.ts';
import type { Line } from './line.ts';
import type { Talking } from './talking.ts';

/**
 * The scheme's fallback: its destination bridged, or the call handed back to the dialplan, which
 * also takes the call when the fallback's own bridge does not connect.
 */
export const fallBack = async (line: Line, admitted: Admitted, facts: CallFacts, newId: () => string): Promise<Settled | Talking | HandedBack | Lost> => {
  const fallback = admitted.scheme.fallback;
  if (fallback.action !== 'bridge') return handBack(line, admitted.mode, facts);
  const endpoint = dialString(admitted.scheme, fallback.destination);
  const bridging: Bridging = { _tag: 'Bridging', admitted, endpoint, facts: { ...facts, fallback: 'bridge', fallbackBridge: endpoint } };
  const outcome = await bridgeTo(line, bridging, newId());
  if (outcome._tag !== 'NotConnected') return afterBridge(line, bridging, outcome, 'fallback-bridged');
  return handBack(line, admitted.mode, { ...bridging.facts, failureDetail: `fallback ${bridgeFailure(outcome.disposition)}` });
};
