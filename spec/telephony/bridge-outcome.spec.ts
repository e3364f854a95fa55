import { expect } from 'chai';
import type { EventFrame } from '../../lib/esl/frame.ts';
import { bridgeOutcome } from '../../lib/telephony/bridge-outcome.ts';
import { framesOf } from './capture-frames.ts';

/** The bridge's own completion in a capture, and whether the caller had hung up before it. */
const bridgeCompletion = (capture: string): { completion: EventFrame; callerGone: boolean } => {
  let callerGone = false;
  for (const frame of framesOf(capture)) {
    if (frame._tag === 'Event' && frame.name === 'CHANNEL_HANGUP') callerGone = true;
    if (frame._tag === 'Event' && frame.name === 'CHANNEL_EXECUTE_COMPLETE' && frame.header('Application') === 'bridge') {
      return { completion: frame, callerGone };
    }
  }
  throw new Error(`${capture}: no bridge completion`);
};

describe('telephony/bridge-outcome (real FreeSWITCH completions)', () => {
  const cases: Array<[capture: string, tag: string, disposition?: string]> = [
    ['a-bridge-user', 'Answered'],
    ['b-bridge-gateway', 'Answered'],
    ['sync-a-bridge-user', 'Answered'],
    ['c-bridge-no-answer', 'NotConnected', 'NO_ANSWER'],
    ['c2-bridge-no-answer-no-continue', 'NotConnected', 'NO_ANSWER'],
    ['sync-c-bridge-no-answer', 'NotConnected', 'NO_ANSWER'],
    ['c3-bridge-unreachable', 'NotConnected', 'NORMAL_TEMPORARY_FAILURE'],
    ['c4-bridge-unreachable-no-continue', 'CallerGone', 'NORMAL_TEMPORARY_FAILURE'],
    ['e-bridge-invalid-user', 'CallerGone', 'SUBSCRIBER_ABSENT'],
    ['e2-invalid-destinations-continue', 'NotConnected', 'SUBSCRIBER_ABSENT'],
    // Media bypass: the completion comes at the answer, the call still up (signal_bridge_to, Answer-State answered).
    ['latin1-a-bridge-user', 'SignalBridged'],
    ['latin1-sync-a-bridge-user', 'SignalBridged'],
    ['nix-a-bridge-user', 'SignalBridged'],
  ];
  for (const [capture, tag, disposition] of cases) {
    it(`${capture} → ${tag}${disposition ? ` (${disposition})` : ''}`, () => {
      const { completion, callerGone } = bridgeCompletion(capture);
      const outcome = bridgeOutcome(completion, callerGone);
      expect(outcome._tag).to.equal(tag);
      if (disposition !== undefined && 'disposition' in outcome) expect(outcome.disposition).to.equal(disposition);
    });
  }
});

describe('telephony/bridge-outcome, the caller gone before the completion', () => {
  const completion = (disposition: string, answerState: string): EventFrame => {
    const headers: Record<string, string> = { variable_originate_disposition: disposition, 'Answer-State': answerState };
    return { _tag: 'Event', name: 'CHANNEL_EXECUTE_COMPLETE', header: (name) => headers[name] };
  };

  it('a bridge that did not connect is CallerGone when the caller had hung up, though the completion still says ringing', () => {
    expect(bridgeOutcome(completion('NO_ANSWER', 'ringing'), true)).to.deep.equal({ _tag: 'CallerGone', disposition: 'NO_ANSWER' });
  });

  it('and NotConnected (the fallback runs) while the caller is up', () => {
    expect(bridgeOutcome(completion('NO_ANSWER', 'ringing'), false)).to.deep.equal({ _tag: 'NotConnected', disposition: 'NO_ANSWER' });
  });
});
