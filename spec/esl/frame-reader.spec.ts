import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { createFrameReader } from '../../lib/esl/frame-reader.ts';
import { FIXTURE_DIR, loadCapture } from '../emulator/capture.ts';
import { header, parseHeaderBlock } from '../emulator/frame.ts';
import { liveHeap } from '../support/gc.ts';
import { framesOf } from '../telephony/capture-frames.ts';

/**
 * What FreeSWITCH sent, told by another reader than the one under test: the capture tool's own summary
 * (`# +T (clock) <content-type> ...`), or, in captures without one, the Content-Type of each frame as
 * the emulator's reader parses it (each fs->router chunk is one frame).
 */
const summarisedTypes = (capture: string): string[] => {
  const { annotations, chunks } = loadCapture(capture);
  const summary = annotations
    .map((line) => /^# \+\d+\.\d+s \([^)]*\) (\S+)/.exec(line)?.[1])
    .filter((type): type is string => type !== undefined);
  if (summary.length > 0) return summary;
  return chunks.filter((c) => c.dir === 'fs->router').map((c) => header(parseHeaderBlock(c.bytes.toString('latin1').split('\n\n')[0]!), 'Content-Type') ?? '');
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

  const valueOf = (value: string | Buffer, name = 'Caller-Name'): string | undefined => {
    const body = Buffer.concat([Buffer.from(`Event-Name: CUSTOM\n${name}: `), Buffer.from(value), Buffer.from('\nAfter: ok\n\n')]);
    const frames = createFrameReader().push(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\nContent-Type: text/event-plain\n\n`), body]));
    if (E.isLeft(frames)) return frames.left._tag;
    const [first] = frames.right;
    return first?._tag === 'Event' && first.header('After') === 'ok' ? first.header(name) : 'not read';
  };

  it('decodes escapes into bytes and the bytes as UTF-8, whatever the case of the hex digits', () => {
    expect(valueOf('Zo%C3%AB%20%7E')).to.equal('Zoë ~');
    expect(valueOf('%7e%7E%41')).to.equal('~~A');
    expect(valueOf('%D0%9F%D0%B5%D1%82%D1%80%D0%BE')).to.equal('Петро');
  });

  it('reads bytes that are not UTF-8 — Latin-1 or CP1251 from a SIP phone — as U+FFFD, and the frame as usual', () => {
    expect(valueOf('Jos%E9%20M%FCller')).to.equal('Jos\uFFFD M\uFFFDller');
    expect(valueOf('%CF%E5%F2%F0%EE')).to.equal('\uFFFD'.repeat(5));
    expect(valueOf('%C3%28')).to.equal('\uFFFD(');
    expect(valueOf('%80')).to.equal('\uFFFD');
    expect(valueOf(Buffer.from([0x4a, 0x6f, 0x73, 0xe9]))).to.equal('Jos\uFFFD');
  });

  it('keeps a broken escape as it stands: not hex, cut short, a lone % at the end', () => {
    expect(valueOf('%G1x')).to.equal('%G1x');
    expect(valueOf('100%4')).to.equal('100%4');
    expect(valueOf('%%41')).to.equal('%A');
    expect(valueOf('100%')).to.equal('100%');
    expect(valueOf('%')).to.equal('%');
  });

  it('reads every other value of a block whose one value is broken, and the frames after it', () => {
    const reader = createFrameReader();
    const bad = reader.push(event('Event-Name: CHANNEL_HANGUP\nHangup-Cause: %ZZ\nvariable_sip_from_display: Jos%E9\n\n'));
    const next = reader.push(event('Event-Name: CUSTOM\n\n'));
    if (E.isLeft(bad) || E.isLeft(next)) throw new Error('refused');
    const [hangup] = bad.right;
    expect(hangup?._tag === 'Event' && [hangup.name, hangup.header('Hangup-Cause'), hangup.header('variable_sip_from_display')]).to.deep.equal([
      'CHANNEL_HANGUP',
      '%ZZ',
      'Jos\uFFFD',
    ]);
    expect(next.right.map((f) => (f._tag === 'Event' ? f.name : f._tag))).to.deep.equal(['CUSTOM']);
  });

  it('reads a command reply whose block holds escapes that are not UTF-8 (the connect reply of a Latin-1 caller)', () => {
    const pushed = createFrameReader().push(
      Buffer.from('Content-Type: command/reply\nReply-Text: +OK\nCaller-Caller-ID-Name: Jos%E9%20M%FCller\nUnique-ID: abc\n\n'),
    );
    if (E.isLeft(pushed)) throw new Error(pushed.left.reason);
    const [reply] = pushed.right;
    expect(reply?._tag === 'CommandReply' && [reply.replyText, reply.header('Unique-ID'), reply.header('Caller-Caller-ID-Name')]).to.deep.equal([
      '+OK',
      'abc',
      'Jos\uFFFD M\uFFFDller',
    ]);
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

  it('finds a header however many distinct names were looked up before it (past those it keeps a pattern for)', () => {
    const event = 'Event-Name: CUSTOM\nvariable_x_999: last\nvariable_x_0: first\n\n';
    const frames = createFrameReader().push(Buffer.from(`Content-Length: ${event.length}\nContent-Type: text/event-plain\n\n${event}`));
    if (E.isLeft(frames)) throw new Error(frames.left.reason);
    const [custom] = frames.right;
    if (custom?._tag !== 'Event') throw new Error('no event');
    const found = Array.from({ length: 1000 }, (_, i) => custom.header(`variable_x_${i}`)).filter((v) => v !== undefined);
    expect(found).to.deep.equal(['first', 'last']);
    expect([custom.header('Event-Name'), custom.header('variable_x_999'), custom.header('variable_x_1')]).to.deep.equal(['CUSTOM', 'last', undefined]);
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
