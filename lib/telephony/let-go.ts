import { withTimeout } from '../delay.ts';
import { plain } from '../esl/command.ts';
import type { Ending } from './call-state.ts';
import type { Line } from './line.ts';

/**
 * Ends the conversation, whatever state it ended in, within bounded time. A settled call's socket is
 * still open: with plain `linger`, FreeSWITCH announces the hang-up and then waits for `exit` forever,
 * so once it lingers we say `exit` (not before: the events after the hang-up are still to come). A
 * handed-back call's socket is already ended on our side. Whatever FreeSWITCH does not close in time,
 * we close.
 */
export const letGo = async (line: Line, ending: Ending): Promise<void> => {
  const { session, watch, clock, limits } = line;
  if (ending._tag === 'Settled' && !session.isClosed()) {
    await withTimeout(Promise.race([watch.lingering, session.closed]), limits.exitGraceMs, undefined, clock);
    if (!session.isClosed()) await line.send([plain('exit')], limits.exitGraceMs);
    line.release([]);
  }
  // After a hand-back FreeSWITCH still has to read what we wrote before the end (`resume` above all),
  // and a busy one reads late: closing at once could discard it unread.
  const grace = ending._tag === 'HandedBack' ? limits.lateReplyMs : limits.exitGraceMs;
  if ((await withTimeout(session.closed, grace, undefined, clock))._tag !== 'Settled') session.destroy();
};
