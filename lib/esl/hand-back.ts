import { plain, type EslCommand } from './command.ts';
import type { ReplyFrame } from './frame.ts';

export type SocketMode = 'async' | 'sync';

/** `Socket-Mode: static` is how FreeSWITCH names the sync mode of the `socket` application. */
export const socketModeOf = (reply: Extract<ReplyFrame, { _tag: 'CommandReply' }>): SocketMode =>
  reply.header('Socket-Mode') === 'static' ? 'sync' : 'async';

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
