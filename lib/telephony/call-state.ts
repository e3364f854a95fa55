import type { Scheme } from '../config/codecs.ts';
import type { Call } from '../core/call.ts';
import type { CallFacts, CallResult } from './call-record.ts';
import type { SocketMode } from '../esl/hand-back.ts';
import type { HandedBack } from './hand-back.ts';
import type { Talking } from './talking.ts';

/**
 * A call's life: admitted → asking (ask.ts: the CRM request beside the set-up) → bridging → settled
 * (the bridge is over) / talking (the call goes on without the router, talking.ts) / handed back /
 * lost. The steps of the live states take the call's Line and may send; the endings carry none, and
 * reaching one releases it, so nothing can be sent once one is reached.
 */

/** The connect reply was read: the router knows the call, its mode and its scheme. */
export interface Admitted {
  readonly _tag: 'Admitted';
  readonly call: Call;
  readonly mode: SocketMode;
  readonly scheme: Scheme;
  /** The channel data shows `hangup_after_bridge` and `continue_on_fail` set: the set-up need not set them. */
  readonly bridgeVariablesSet: boolean;
  /** The dialplan answered the caller before `socket`: the caller's answer then says nothing of a destination's. */
  readonly callerAnswered: boolean;
  readonly facts: CallFacts;
}

/** A bridge to `endpoint` is written (or about to be) and its outcome awaited. */
export interface Bridging {
  readonly _tag: 'Bridging';
  readonly admitted: Admitted;
  readonly endpoint: string;
  readonly facts: CallFacts;
}

/** The router is done with the call and the socket is still open: linger, then `exit`. */
export interface Settled {
  readonly _tag: 'Settled';
  readonly result: Extract<CallResult, 'bridged' | 'fallback-bridged' | 'caller-gone'>;
  readonly facts: CallFacts;
}

/** FreeSWITCH closed or broke the socket, or never answered: there is nobody left to talk to. */
export interface Lost {
  readonly _tag: 'Lost';
  readonly result: 'socket-lost';
  readonly facts: CallFacts;
}

/** A connection that closed without a byte: a load balancer's or a monitor's probe, not a call. */
export interface Probe {
  readonly _tag: 'Probe';
}

export type Ending = Settled | Talking | HandedBack | Lost | Probe;

export const lost = (facts: CallFacts): Lost => ({ _tag: 'Lost', result: 'socket-lost', facts });
