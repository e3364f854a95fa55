import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { FIXTURE_DIR, loadCapture } from '../emulator/capture.ts';
import { framesOf } from '../telephony/capture-frames.ts';

/** The capture tool's own summary of what FreeSWITCH sent: `# +T (clock) <content-type> ...`. */
const summarisedTypes = (capture: string): string[] =>
  loadCapture(capture)
    .annotations.map((line) => /^# \+\d+\.\d+s \([^)]*\) (\S+)/.exec(line)?.[1])
    .filter((type): type is string => type !== undefined);

const TAG_OF: Record<string, string> = {
  'command/reply': 'CommandReply',
  'api/response': 'ApiResponse',
  'text/event-plain': 'Event',
  'text/disconnect-notice': 'DisconnectNotice',
};

describe('esl/frame-reader over every real FreeSWITCH capture', () => {
  const outbound = readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.txt') && f !== 'README.txt' && !f.startsWith('inbound-'))
    .map((f) => f.slice(0, -4));
  for (const capture of outbound) {
    it(`${capture}: reads each frame FreeSWITCH sent, as the kind it is`, () => {
      const expected = summarisedTypes(capture).map((type) => TAG_OF[type] ?? `unknown ${type}`);
      expect(expected.length).to.be.greaterThan(3);
      expect(framesOf(capture).map((f) => f._tag)).to.deep.equal(expected);
    });
  }
});
