import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { createFrameReader } from '../../lib/esl/frame-reader.ts';
import { FIXTURE_DIR, loadCapture } from '../emulator/capture.ts';
import { liveHeap } from '../support/gc.ts';
import { framesOf } from '../telephony/capture-frames.ts';

/**
 * The capture tool's own summary of what FreeSWITCH sent: `# +T (clock) <content-type> ...`. Captures
 * written without that summary (latin1-, nix-) give each chunk's Content-Type instead: every
 * FreeSWITCH chunk of a capture is exactly one frame.
 */
const summarisedTypes = (capture: string): string[] => {
  const cap = loadCapture(capture);
  const summary = cap.annotations
    .map((line) => /^# \+\d+\.\d+s \([^)]*\) (\S+)/.exec(line)?.[1])
    .filter((type): type is string => type !== undefined);
  if (summary.length > 0) return summary;
  return cap.chunks
    .filter((c) => c.dir === 'fs->router')
    .map((c) => /^Content-Type: (\S+)$/m.exec(c.bytes.toString('latin1').split('\n\n')[0]!)?.[1] ?? 'none');
};

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

describe('esl/frame-reader, frame by frame', () => {
  const event = (body: string): Buffer =>
    Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-plain\n\n${body}`);

  it('reads the same frames whatever the chunking', () => {
    const whole = Buffer.concat(loadCapture('c-bridge-no-answer').chunks.filter((c) => c.dir === 'fs->router').map((c) => c.bytes));
    const read = (size: number): string[] => {
      const reader = createFrameReader();
      const names: string[] = [];
      for (let i = 0; i < whole.length; i += size) {
        const frames = reader.push(whole.subarray(i, i + size));
        if (E.isLeft(frames)) throw new Error(frames.left.reason);
        for (const f of frames.right) names.push(f._tag === 'Event' ? `${f.name}:${f.header('Application-UUID') ?? ''}` : f._tag);
      }
      return names;
    };
    expect(read(37)).to.deep.equal(read(whole.length));
    expect(read(whole.length)).to.have.length(summarisedTypes('c-bridge-no-answer').length);
  });

  it('skips, unread, the events its reader does not act on, and keeps every other frame', () => {
    const capture = 'a-bridge-user';
    const whole = Buffer.concat(loadCapture(capture).chunks.filter((c) => c.dir === 'fs->router').map((c) => c.bytes));
    const all = createFrameReader().push(whole);
    const some = createFrameReader({ events: new Set(['CHANNEL_BRIDGE', 'CHANNEL_HANGUP']) }).push(whole);
    if (E.isLeft(all) || E.isLeft(some)) throw new Error('unreadable capture');
    const kept = all.right.filter((f) => f._tag !== 'Event' || f.name === 'CHANNEL_BRIDGE' || f.name === 'CHANNEL_HANGUP');
    const describe = (f: (typeof all.right)[number]): string => (f._tag === 'Event' ? f.name : f._tag);
    expect(some.right.map(describe)).to.deep.equal(kept.map(describe));
    expect(some.right.length).to.be.lessThan(all.right.length);
  });

  it('url-decodes values once, and the first of a repeated header wins, as in FreeSWITCH\'s own ESL library', () => {
    const frames = createFrameReader().push(event('Event-Name: CUSTOM\nx: 1\nReply: %2BOK%20a%3Ab\nx: 2\nEvent-Name: OTHER\n\n'));
    const first = E.isRight(frames) ? frames.right[0] : undefined;
    expect(first?._tag === 'Event' && [first.name, first.header('Reply'), first.header('x'), first.header('missing')]).to.deep.equal([
      'CUSTOM',
      '+OK a:b',
      '1',
      undefined,
    ]);
  });

  it('refuses an event whose header block holds a broken %-escape, and stays refused', () => {
    const reader = createFrameReader();
    const bad = reader.push(event('Event-Name: CHANNEL_HANGUP\nHangup-Cause: %ZZ\n\n'));
    expect(E.isLeft(bad) && bad.left._tag).to.equal('MalformedFrame');
    expect(E.isLeft(reader.push(event('Event-Name: CUSTOM\n\n')))).to.equal(true);
  });

  it('tells a valid escape from a broken one wherever it stands: UTF-8, a truncated escape, a lone % at the end', () => {
    const read = (value: string) => {
      const frames = createFrameReader().push(event(`Event-Name: CUSTOM\nCaller-Name: ${value}\n\n`));
      return E.isLeft(frames) ? frames.left._tag : frames.right[0]?._tag === 'Event' ? frames.right[0].header('Caller-Name') : undefined;
    };
    expect(read('Zo%C3%AB%20%7E')).to.equal('Zoë ~');
    expect(read('%7e%7E%41')).to.equal('~~A');
    expect(read('%C3%28')).to.equal('MalformedFrame');
    expect(read('%80')).to.equal('MalformedFrame');
    expect(read('100%4')).to.equal('MalformedFrame');
    expect(read('%%41')).to.equal('MalformedFrame');
    expect(read('100%')).to.equal('MalformedFrame');
  });
});

describe('esl/frame-reader, header lookups stay inside their own frame', () => {
  it('does not read a header from the next frame in the same chunk', () => {
    const reply = 'Content-Type: command/reply\nReply-Text: +OK\n\n';
    const event = 'Event-Name: CHANNEL_HANGUP\nHangup-Cause: NORMAL_CLEARING\n\n';
    const chunk = Buffer.from(`${reply}Content-Length: ${event.length}\nContent-Type: text/event-plain\n\n${event}`);
    const frames = createFrameReader().push(chunk);
    if (E.isLeft(frames)) throw new Error(frames.left.reason);
    const [first, second] = frames.right;
    expect(first?._tag === 'CommandReply' && [first.replyText, first.header('Hangup-Cause'), first.header('Content-Length')]).to.deep.equal([
      '+OK',
      undefined,
      undefined,
    ]);
    expect(second?._tag === 'Event' && second.header('Reply-Text')).to.equal(undefined);
  });

  it('does not read past a block shorter than the header name it is asked for', () => {
    const long = 'A-Header-Name-Much-Longer-Than-The-Block-Before-It';
    const event = `Event-Name: CUSTOM\n${long}: from the event\n\n`;
    const notice = 'Content-Type: text/disconnect-notice\n\n';
    const chunk = Buffer.from(`${notice}Content-Length: ${event.length}\nContent-Type: text/event-plain\n\n${event}`);
    const frames = createFrameReader().push(chunk);
    if (E.isLeft(frames)) throw new Error(frames.left.reason);
    const [disconnect, custom] = frames.right;
    expect(disconnect?._tag === 'DisconnectNotice' && disconnect.header(long)).to.equal(undefined);
    expect(custom?._tag === 'Event' && custom.header(long)).to.equal('from the event');
  });
});

describe('esl/frame-reader, what a looked-up value keeps alive', () => {
  it('a value kept after its frame is gone does not keep the frame text alive', () => {
    // A call keeps its uuid for its whole life; the CHANNEL_DATA block it came from is ~6 KB.
    const padding = `Variable-Padding: ${'x'.repeat(60_000)}`;
    const frames = 100;
    const before = liveHeap();
    const kept: Array<string | undefined> = [];
    for (let i = 0; i < frames; i++) {
      const head = `Content-Type: command/reply\nReply-Text: +OK\nUnique-ID: ${String(i).padStart(36, '0')}\n${padding}\n\n`;
      const pushed = createFrameReader().push(Buffer.from(head));
      if (E.isLeft(pushed)) throw new Error(pushed.left.reason);
      const reply = pushed.right[0];
      kept.push(reply?._tag === 'CommandReply' ? reply.header('Unique-ID') : undefined);
    }
    const grown = liveHeap() - before;
    expect(kept[frames - 1]).to.equal(String(frames - 1).padStart(36, '0'));
    // Pinned, the blocks would be 100 × 60 KB = 6 MB; the uuids themselves are a few KB.
    expect(grown).to.be.below(1_000_000);
  });
});
