import { plain, type EslCommand } from '../esl/command.ts';
import type { CallFacts, CallResult } from './call-record.ts';
import type { SocketMode } from './channel-data.ts';
import type { Line } from './line.ts';

/**
 * What the router writes before it closes the socket to hand a call back, so that FreeSWITCH
 * continues the dialplan after `socket` (mod_event_socket.c, 1.10):
 * - sync mode: nothing. The listener runs in the `socket` application itself; when it reads the end
 *   of the socket the application returns and the dialplan goes on. `resume` must never be sent here:
 *   at the listener's end it puts the channel in CS_RESET, and in sync mode nothing takes it out.
 * - async mode, before the park loop is known to run: `resume`. The application parks the channel
 *   once `connect` is read, and the park loop ends when the listener, finishing, clears
 *   CF_CONTROLLED; a listener that finishes before the park began clears it too early, and the
 *   channel stays parked, ringing, until the caller gives up. With `resume` the listener's end sets
 *   CS_RESET, which makes a park not yet begun return at once, and the application then sets
 *   CS_EXECUTE: the dialplan goes on either way. FreeSWITCH reads the socket in order, so `resume`
 *   needs no reply before the close.
 * - async mode, once the park loop runs (CHANNEL_PARK, or any application's completion): nothing.
 */
export const handBackCommands = (mode: SocketMode, parked: boolean): readonly EslCommand[] =>
  mode === 'async' && !parked ? [plain('resume')] : [];

/** The call is FreeSWITCH's again: the router has closed its side and sends nothing more. */
export interface HandedBack {
  readonly _tag: 'HandedBack';
  readonly result: Extract<CallResult, 'fallback-dialplan' | 'caller-gone'>;
  readonly facts: CallFacts;
}

export const handBack = (line: Line, mode: SocketMode, facts: CallFacts, result: HandedBack['result'] = 'fallback-dialplan'): HandedBack => {
  line.release(handBackCommands(mode, line.watch.parked()));
  line.markDecided();
  return { _tag: 'HandedBack', result, facts: result === 'fallback-dialplan' ? { fallback: 'dialplan', ...facts } : facts };
};
