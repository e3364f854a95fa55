/**
 * Why a call's telephony went wrong: the tags of the call line's `failure` that are not the CRM's
 * (those are RoutingFailure's). Joined with them, these make the one registry of failure tags.
 */

/** A failure the router tells apart by a fixed name. */
export const CALL_FAILURE_TAGS = [
  /** The connect reply is not channel data the router can use (no uuid, no caller, not a reply). */
  'BadChannelData',
  /** The dialplan's `socket` line lacks `full` (`Control: single-channel`): the router cannot drive the call. */
  'SocketNotFull',
  /**
   * FreeSWITCH refused a set-up command: `-ERR`, or uuid_setvar_multi's `-ERR`/`-USAGE` (the replies are on
   * the call line, `setupErrors`); its `-ERR No such channel!` is the caller gone (CallerHungUp) instead.
   */
  'SetupRefused',
  /** A reply did not come within `replyMs`: FreeSWITCH is too slow to route this call, which is handed back. */
  'ReplyTimeout',
  /** FreeSWITCH closed or reset the socket before the router was done. */
  'SocketClosed',
  /** A frame broke the event-socket framing or its caps. */
  'MalformedFrame',
  /** A command carried a frame break (a defect upstream: never sent). */
  'UnsafeCommand',
  /** The caller hung up before the router could route the call. */
  'CallerHungUp',
  /** An async bridge neither connected nor completed within its ringing bound. */
  'BridgeLost',
  /** A defect of the router's own: the call was handed back. */
  'InternalError',
] as const;

export type CallFailureTag = (typeof CALL_FAILURE_TAGS)[number];

/** A bridge that did not connect, by FreeSWITCH's `originate_disposition` (`Bridge:NO_ANSWER`, `Bridge:USER_BUSY`...). */
export type BridgeFailureTag = `Bridge:${string}`;

export const bridgeFailure = (disposition: string): BridgeFailureTag => `Bridge:${disposition}`;
