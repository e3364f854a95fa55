import type { EventFrame } from '../esl/frame.ts';

export type BridgeOutcome =
  | { readonly _tag: 'Answered'; readonly hangupCause: string | undefined }
  /**
   * Media bypass (`bypass_media=true`): the bridge only signal-bridged the legs, and its application
   * returned at the answer with the call up. The call is talking, not over: it ends with a hang-up.
   */
  | { readonly _tag: 'SignalBridged' }
  /** The destination did not take the call (no answer, busy, absent, unreachable...): try the fallback. */
  | { readonly _tag: 'NotConnected'; readonly disposition: string }
  /** The caller hung up before or during the attempt: there is nobody left to route. */
  | { readonly _tag: 'CallerGone'; readonly disposition: string };

/**
 * Reads a bridge's result from its CHANNEL_EXECUTE_COMPLETE. Events sent while the bridge rings carry
 * stale `originate_disposition=failure`; only the completion of this very execution is authoritative.
 */
export const bridgeOutcome = (completion: EventFrame, callerGone: boolean): BridgeOutcome => {
  const disposition = completion.header('variable_originate_disposition') ?? completion.header('variable_DIALSTATUS') ?? 'UNKNOWN';
  if (disposition === 'SUCCESS') {
    // Only a signal bridge's completion names its peer in `signal_bridge_to`; a media bridge's comes
    // once it is over, the caller hung up or left alone (Answer-State then says which).
    if (!callerGone && completion.header('variable_signal_bridge_to') !== undefined && completion.header('Answer-State') !== 'hangup') {
      return { _tag: 'SignalBridged' };
    }
    return {
      _tag: 'Answered',
      hangupCause: completion.header('variable_bridge_hangup_cause') ?? completion.header('variable_last_bridge_hangup_cause'),
    };
  }
  return callerGone || completion.header('Answer-State') === 'hangup'
    ? { _tag: 'CallerGone', disposition }
    : { _tag: 'NotConnected', disposition };
};
