import type { CallFacts, CallResult } from './call-record.ts';
import type { Line } from './line.ts';

/**
 * The destination answered and the call talks on without the router: its socket is closed at once.
 * While a socket is open FreeSWITCH's listener wakes every 20 ms to poll it (mod_event_socket.c,
 * read_packet; in async mode on a thread of its own), for the whole conversation: on a real
 * FreeSWITCH that cost about 1 ms of CPU per second of talk (scripts/bench/README.md). The call
 * does not need the router any more: FreeSWITCH ends the caller's leg with the callee's
 * (`hangup_after_bridge`, which the set-up made sure of), and a signal bridge (media bypass) keeps
 * both legs in CS_HIBERNATE, where the dialplan after `socket` does not run.
 */
export interface Talking {
  readonly _tag: 'Talking';
  readonly result: Extract<CallResult, 'bridged' | 'fallback-bridged'>;
  readonly facts: CallFacts;
}

export const leaveTalking = (line: Line, facts: CallFacts, result: Talking['result']): Talking => {
  // Just the close, in either mode: an async bridge runs only in a park loop that has begun, and a
  // `resume` would have the listener's end reset a channel in the middle of its bridge.
  line.release([]);
  line.markDecided();
  return { _tag: 'Talking', result, facts };
};
