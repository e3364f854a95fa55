import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type { Frame } from '../../lib/esl/frame.ts';
import { createFrameReader, MAX_BODY_BYTES, MAX_HEAD_BYTES, type FrameReaderOptions } from '../../lib/esl/frame-reader.ts';
import { WATCHED_EVENTS } from '../../lib/telephony/channel-watch.ts';
import { FIXTURE_DIR, loadCapture } from '../emulator/capture.ts';
import { prng } from '../support/prng.ts';

/**
 * The frame reader against what a broken or hostile peer can send, built from the real captures:
 * frames truncated, split at every byte, oversized, with broken escapes, bytes that are not UTF-8,
 * random Content-Lengths and random byte damage. Whatever comes in, the reader does not throw, does
 * work linear in the bytes it was given, and ends in frames or a typed MalformedFrame; and how the
 * bytes are split into reads never changes what it reads. FRAME_FUZZ_SEED=<n> replays or explores a seed.
 */
const SEED = Number(process.env['FRAME_FUZZ_SEED'] ?? 20261201);

/** Every frame FreeSWITCH sent in each capture: each fs->router chunk of a capture is one frame. */
const CAPTURES = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.txt') && f !== 'README.txt')
  .map((f) => loadCapture(f.slice(0, -4)).chunks.filter((c) => c.dir === 'fs->router').map((c) => c.bytes));

const LOOKED_UP = ['Content-Type', 'Content-Length', 'Reply-Text', 'Unique-ID', 'Socket-Mode', 'Caller-Caller-ID-Name', 'Caller-Destination-Number', 'Application-UUID', 'Hangup-Cause', 'variable_sip_h_X-Note'];

/** A frame as plain data: its kind and every value a router could look up, so two readings compare. */
const describeFrame = (f: Frame): string => {
  const values = 'header' in f ? LOOKED_UP.map((name) => f.header(name)) : [];
  for (const v of values) if (v !== undefined && typeof v !== 'string') throw new Error(`a lookup gave ${typeof v}`);
  const main = f._tag === 'CommandReply' ? f.replyText : f._tag === 'Event' ? f.name : f._tag === 'ApiResponse' ? f.body : f._tag === 'DisconnectNotice' ? f.disposition : f.contentType;
  return JSON.stringify([f._tag, main, values]);
};

interface Outcome {
  readonly frames: string[];
  readonly failure: string | undefined;
  /** Bytes the reader's native searches and copies went over (see frame-bounds.spec.ts). */
  readonly work: number;
}

const { indexOf, copy } = Buffer.prototype;
let work = 0;
const counting = {
  indexOf(this: Buffer, value: string | number | Uint8Array, byteOffset?: number | BufferEncoding, encoding?: BufferEncoding) {
    const found = indexOf.call(this, value, byteOffset as number, encoding);
    work += (found < 0 ? this.length : found) - (typeof byteOffset === 'number' ? byteOffset : 0);
    return found;
  },
  copy(this: Buffer, target: Uint8Array, targetStart?: number, sourceStart = 0, sourceEnd = this.length) {
    work += sourceEnd - sourceStart;
    return copy.call(this, target, targetStart, sourceStart, sourceEnd);
  },
};

/** Feeds `pieces` one read each; a failure must be typed and final. */
const feed = (pieces: readonly Buffer[], options: FrameReaderOptions = {}): Outcome => {
  const reader = createFrameReader(options);
  const frames: Frame[] = [];
  let failure: string | undefined;
  work = 0;
  Buffer.prototype.indexOf = counting.indexOf as typeof indexOf;
  Buffer.prototype.copy = counting.copy as typeof copy;
  try {
    for (const piece of pieces) {
      const pushed = reader.push(piece);
      if (E.isLeft(pushed)) {
        if (pushed.left._tag !== 'MalformedFrame' || typeof pushed.left.reason !== 'string') throw new Error(`untyped failure ${JSON.stringify(pushed.left)}`);
        if (failure !== undefined && pushed.left.reason !== failure) throw new Error(`failure changed: ${failure} → ${pushed.left.reason}`);
        failure = pushed.left.reason;
      } else if (failure !== undefined) {
        throw new Error(`frames read after the failure ${failure}`);
      } else {
        frames.push(...pushed.right);
      }
    }
  } finally {
    Buffer.prototype.indexOf = indexOf;
    Buffer.prototype.copy = copy;
  }
  const spent = work;
  return { frames: frames.map(describeFrame), failure, work: spent };
};

const splitAt = (bytes: Buffer, points: readonly number[]): Buffer[] => {
  const sorted = [...new Set(points)].filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b);
  return [0, ...sorted].map((from, i) => bytes.subarray(from, sorted[i] ?? bytes.length));
};

/** A frame as its header block and body, to be mutated and put back together with a true Content-Length. */
const partsOf = (frame: Buffer): { head: string; body: Buffer } => {
  const end = frame.indexOf('\n\n');
  return { head: frame.toString('latin1', 0, end), body: frame.subarray(end + 2) };
};
const assemble = (head: string, body: Buffer, contentLength: string | undefined = String(body.length)): Buffer => {
  const lines = head.split('\n').filter((l) => !l.startsWith('Content-Length: '));
  if (body.length > 0 || contentLength !== String(body.length)) lines.unshift(`Content-Length: ${contentLength}`);
  return Buffer.concat([Buffer.from(`${lines.join('\n')}\n\n`, 'latin1'), body]);
};

const HOSTILE_VALUES = ['%', '%G1', '%E9', '%e9', '%FC%', '%C3', '%C3%28', '%%', '%ZZ', '%0', '%F0%9F%98', '%ED%A0%80', '\xe9', '\xff\xfe', '\x80', '%00', '%0D'];
const BAD_LENGTHS = ['-1', '', 'abc', '1e3', ' 5', '0x10', '12abc', '99999999999999999999', '+5', '5.0'];

describe(`esl/frame-reader, edge fuzz (seed ${SEED}; FRAME_FUZZ_SEED=<n> for another)`, function () {
  this.timeout(60_000);
  const random = prng(SEED);
  const int = (n: number): number => Math.floor(random() * n);
  const pick = <A>(xs: readonly A[]): A => xs[int(xs.length)]!;
  const at = (what: string) => `${what} (seed ${SEED})`;

  /** Replaces one value of a header line (the outer block, or an event's own block) with hostile bytes. */
  const breakValue = (frame: Buffer): Buffer => {
    const { head, body } = partsOf(frame);
    const inner = body.indexOf('\n\n');
    const inBody = inner > 0 && random() < 0.7;
    const text = inBody ? body.toString('latin1', 0, inner) : head;
    const lines = text.split('\n');
    const line = int(lines.length);
    const colon = lines[line]!.indexOf(': ');
    if (colon < 0 || lines[line]!.startsWith('Content-Length') || lines[line]!.startsWith('Content-Type')) return frame;
    const value = lines[line]!.slice(colon + 2);
    const cut = int(value.length + 1);
    lines[line] = `${lines[line]!.slice(0, colon + 2)}${value.slice(0, cut)}${pick(HOSTILE_VALUES)}${value.slice(cut)}`;
    if (!inBody) return assemble(lines.join('\n'), body);
    return assemble(head, Buffer.concat([Buffer.from(lines.join('\n'), 'latin1'), body.subarray(inner)]));
  };

  const stream = (frames: readonly Buffer[]): Buffer => Buffer.concat(frames);
  const someFrames = (): Buffer[] => {
    const capture = pick(CAPTURES);
    const from = int(capture.length);
    return capture.slice(from, from + 1 + int(8));
  };
  const randomSplits = (bytes: Buffer): number[] => Array.from({ length: 1 + int(6) }, () => int(bytes.length + 1));
  let inputs = 0;
  /** Half the time, the router's own reader: the events it does not act on skipped unread. */
  const routerReads = (): FrameReaderOptions => (random() < 0.5 ? { events: WATCHED_EVENTS } : {});

  /** The same bytes whole and split: the same frames, or the same failure; bounded work either way. */
  const check = (bytes: Buffer, what: string, options: FrameReaderOptions = {}): Outcome => {
    inputs++;
    const whole = feed([bytes], options);
    const split = feed(splitAt(bytes, randomSplits(bytes)), options);
    const bound = 12 * bytes.length + 8_192;
    expect(whole.work, at(`${what}: work on ${bytes.length} bytes fed whole`)).to.be.below(bound);
    expect(split.work, at(`${what}: work on ${bytes.length} bytes fed split`)).to.be.below(bound);
    expect(split.failure, at(`${what}: failure whole vs split`)).to.equal(whole.failure);
    if (whole.failure === undefined) expect(split.frames, at(`${what}: frames whole vs split`)).to.deep.equal(whole.frames);
    return whole;
  };

  it('reads real frames the same however a read splits them, at every byte', () => {
    // The connect reply of the Latin-1 caller, an event of its call and the disconnect notice.
    const latin1 = loadCapture('latin1-a-bridge-user').chunks.filter((c) => c.dir === 'fs->router').map((c) => c.bytes);
    {
      for (const frame of [latin1[0]!, latin1[5]!, latin1.at(-1)!]) {
        const whole = feed([frame]);
        expect(whole.frames, at('one real frame')).to.have.length.at.most(1);
        for (let cut = 1; cut < frame.length; cut++) {
          inputs++;
          const split = feed([frame.subarray(0, cut), frame.subarray(cut)]);
          if (split.failure !== undefined || split.frames.join() !== whole.frames.join()) {
            expect([split.failure, split.frames], at(`a real frame split at byte ${cut}`)).to.deep.equal([undefined, whole.frames]);
          }
        }
      }
    }
  });

  it('reads the frames of a stream cut anywhere that end before the cut, and waits for the rest', () => {
    for (let i = 0; i < 1_500; i++) {
      const frames = someFrames();
      const bytes = stream(frames);
      const cut = int(bytes.length + 1);
      let whole = 0;
      for (let end = 0, i = 0; i < frames.length && (end += frames[i]!.length) <= cut; i++) whole = end;
      const complete = feed([bytes.subarray(0, whole)]).frames;
      const truncated = check(bytes.subarray(0, cut), `a stream cut at ${cut} of ${bytes.length}`);
      expect([truncated.failure, truncated.frames], at(`a stream cut at ${cut}`)).to.deep.equal([undefined, complete]);
    }
  });

  it('reads every frame of a stream whose values hold broken escapes and bytes that are not UTF-8', () => {
    for (let i = 0; i < 2_000; i++) {
      const frames = someFrames();
      const expectedKinds = feed([stream(frames)]).frames.map((f) => JSON.parse(f)[0]);
      const broken = frames.map((f) => (random() < 0.6 ? breakValue(f) : f));
      const read = check(stream(broken), 'hostile values');
      expect(read.failure, at('hostile values')).to.equal(undefined);
      expect(read.frames.map((f) => JSON.parse(f)[0]), at('hostile values: frame kinds')).to.deep.equal(expectedKinds);
    }
  });

  it('ends the stream with a typed MalformedFrame at an oversized header block or body, wherever it comes', () => {
    for (let i = 0; i < 1_000; i++) {
      const frames = someFrames();
      const victim = int(frames.length);
      const { head, body } = partsOf(frames[victim]!);
      const oversized =
        random() < 0.5
          ? assemble(`${head}\nX-Padding: ${'p'.repeat(MAX_HEAD_BYTES + int(4096))}`, body)
          : assemble(head, body, String(MAX_BODY_BYTES + 1 + int(2_000_000_000)));
      const read = check(stream([...frames.slice(0, victim), oversized, ...frames.slice(victim + 1)]), 'oversized', routerReads());
      expect(read.failure, at('oversized')).to.match(/^(header block over the 65536-byte limit|Content-Length \d+ is over the 1048576-byte body limit)/);
    }
  });

  it('never loses its footing on a random Content-Length or random byte damage', () => {
    for (let i = 0; i < 2_500; i++) {
      const frames = someFrames();
      const victim = int(frames.length);
      let damaged: Buffer;
      if (random() < 0.4) {
        const { head, body } = partsOf(frames[victim]!);
        const length = random() < 0.5 ? pick(BAD_LENGTHS) : String(Math.max(0, body.length + int(41) - 20));
        damaged = stream([...frames.slice(0, victim), assemble(head, body, length), ...frames.slice(victim + 1)]);
      } else {
        damaged = Buffer.from(stream(frames));
        for (let n = 1 + int(8); n > 0; n--) damaged[int(damaged.length)] = random() < 0.3 ? 0x0a : int(256);
        if (random() < 0.3) damaged = Buffer.concat([damaged.subarray(0, int(damaged.length)), damaged.subarray(int(damaged.length))]);
      }
      check(damaged, 'damaged', routerReads());
    }
  });

  it('ran at least 10,000 inputs', () => {
    expect(inputs).to.be.at.least(10_000);
  });
});
