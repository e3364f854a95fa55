import type { CloseReason } from '../esl/session.ts';
import type { SocketMode } from './channel-data.ts';

/**
 * The one log line a call leaves: what was decided and why. Built up as the call goes, written once
 * when the router lets go of it.
 */
export interface CallRecord {
  uuid?: string;
  scheme?: string;
  schemeReason?: string;
  caller?: string;
  called?: string;
  mode?: SocketMode;
  crmStatus?: number;
  crmMs?: number;
  destination?: string;
  bridge?: string;
  /** Why routing failed: a RoutingFailure tag, or a telephony failure. */
  failure?: string;
  failureDetail?: string;
  fallback?: string;
  fallbackBridge?: string;
  /** Why the event socket closed, when it was not an ordinary close by either side. */
  socketClose?: CloseReason;
  /** How the router let go: bridged, fallback-dialplan, fallback-bridged, caller-gone, socket-lost. */
  result?: string;
  ms?: number;
}
