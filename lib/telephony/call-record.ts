import type { CloseReason } from '../esl/session.ts';
import { ROUTING_FAILURE_TAGS, type FailureTag, type RoutingFailure } from '../core/failure.ts';
import type { SocketMode } from '../esl/hand-back.ts';

/** How the router let go of a call: the one word an operator greps the call lines for. */
export type CallResult = 'bridged' | 'fallback-bridged' | 'fallback-dialplan' | 'caller-gone' | 'socket-lost';

/** What the steps of a call learn on the way; the record is made of these once, at the end. */
export interface CallFacts {
  readonly uuid?: string;
  readonly scheme?: string;
  readonly schemeReason?: string;
  readonly caller?: string;
  readonly called?: string;
  readonly mode?: SocketMode;
  readonly crmStatus?: number;
  readonly crmMs?: number;
  readonly destination?: string;
  readonly bridge?: string;
  readonly failure?: FailureTag;
  readonly failureDetail?: string;
  /**
   * A CRM failure's own detail, for the operator: Node's error `code` or JSON-RPC's `code` and
   * `message`, the answer's `field` and what it `got`, the parser's `reason`, the refused destination
   * (`raw`, `number`, `login`/`domain`), the bound that was hit (`timeoutMs`, `limit`).
   */
  readonly code?: string | number | null;
  readonly message?: string;
  readonly field?: string;
  readonly got?: string;
  readonly reason?: string;
  readonly raw?: string;
  readonly number?: string;
  readonly login?: string;
  readonly domain?: string;
  readonly timeoutMs?: number;
  readonly limit?: number;
  /** Set-up commands FreeSWITCH refused, as `command: reply`. */
  readonly setupErrors?: readonly string[];
  readonly fallback?: 'bridge' | 'dialplan';
  readonly fallbackBridge?: string;
}

/** The one log line a call leaves: what was decided and why. */
export interface CallRecord extends CallFacts {
  readonly result: CallResult;
  /** Why the event socket closed, when it was not an ordinary close by either side. */
  readonly socketClose?: CloseReason;
  /** From the connection to the router letting go, in ms rounded to 0.1. */
  readonly ms: number;
}

export const roundMs = (ms: number): number => Math.round(ms * 10) / 10;

/** What the call line says of a CRM failure: its tag, the exchange's figures and its own detail. */
export const routingFailureFacts = (failure: RoutingFailure): CallFacts => {
  const { _tag, status, ms, ...detail } = failure;
  return {
    failure: _tag,
    ...(status === undefined ? {} : { crmStatus: status }),
    ...(ms === undefined ? {} : { crmMs: roundMs(ms) }),
    ...detail,
  };
};

/** The call line's record, built with Object.assign rather than a leading spread (see bridgeFound, handle-call.ts). */
export const callRecord = (facts: CallFacts, result: CallResult, ms: number, socketClose: CloseReason | undefined): CallRecord =>
  Object.assign({}, facts, { result, ...(socketClose === undefined ? {} : { socketClose }), ms: roundMs(ms) });

/** Every routing failure is the CRM's but CrmAborted: the caller hung up while the CRM was asked. */
const CRM_FAULTS: ReadonlySet<string> = new Set(Object.keys(ROUTING_FAILURE_TAGS).filter((tag) => tag !== 'CrmAborted'));

/** A call the CRM failed, or one the router lost, wants the operator's eye; every other call is routine. */
export const recordLevel = (record: CallRecord): 'info' | 'warn' =>
  record.result === 'socket-lost' || (record.failure !== undefined && CRM_FAULTS.has(record.failure)) ? 'warn' : 'info';
