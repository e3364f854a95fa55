import { handBackCommands, type SocketMode } from '../esl/hand-back.ts';
import type { CallFacts, CallResult } from './call-record.ts';
import type { Line } from './line.ts';

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
