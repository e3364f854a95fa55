import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { FIXTURE_DIR, loadCapture } from '../emulator/capture.ts';
import { eventHeaders, FrameSplitter, splitEvent } from './esl-frames.ts';

/**
 * The real-FreeSWITCH driver's and the capture tool's frame splitter, against what a real FreeSWITCH
 * sent (each capture's fs->router chunks are its frames, one each): fed in arbitrary pieces, it must
 * give back exactly those frames, and an event's headers as the event carries them.
 */
describe('integration/esl-frames over every real FreeSWITCH capture', () => {
  const captures = readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.txt') && f !== 'README.txt' && !f.startsWith('inbound-'))
    .map((f) => f.slice(0, -4));

  for (const name of captures) {
    it(`${name}: splits FreeSWITCH's bytes, fed in pieces of 1-997 bytes, into its frames`, () => {
      const frames = loadCapture(name).chunks.filter((c) => c.dir === 'fs->router').map((c) => c.bytes);
      const stream = Buffer.concat(frames);
      const splitter = new FrameSplitter();
      const got: Buffer[] = [];
      for (let at = 0, step = 1; at < stream.length; at += step, step = (step * 7 + 3) % 997 || 1) {
        got.push(...splitter.push(stream.subarray(at, at + step)).map((f) => f.bytes));
      }
      expect(got.map((b) => b.toString('latin1'))).to.deep.equal(frames.map((b) => b.toString('latin1')));
      expect(splitter.rest().length).to.equal(0);
    });
  }

  it('looks up an event header (first, middle, last, absent) as the full parse reads it', () => {
    const event = loadCapture('a-bridge-user')
      .chunks.filter((c) => c.dir === 'fs->router')
      .map((c) => new FrameSplitter().push(c.bytes)[0]!)
      .find((f) => f.headers.get('Content-Type') === 'text/event-plain')!;
    const all = eventHeaders(event.body);
    const lookup = splitEvent(event.body);
    const names = [...all.keys()];
    for (const n of [names[0]!, 'Unique-ID', 'Caller-Caller-ID-Name', names.at(-1)!]) expect(lookup.header(n), n).to.equal(all.get(n));
    expect(lookup.header('No-Such-Header')).to.equal(undefined);
    expect(all.get('Event-Name')).to.equal('CHANNEL_PARK');
  });

  it("keeps a Latin-1 caller's name %-encoded rather than failing", () => {
    const body = Buffer.from('Event-Name: CHANNEL_EXECUTE\nCaller-Caller-ID-Name: Jos%E9%20M%FCller\nApplication: bridge\n\n');
    expect(splitEvent(body).header('Caller-Caller-ID-Name')).to.equal('Jos%E9%20M%FCller');
    expect(splitEvent(body).header('Application')).to.equal('bridge');
  });
});
