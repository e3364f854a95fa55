import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import type { Frame } from '../../lib/esl/frame.ts';
import { createFrameReader, MAX_BODY_BYTES, MAX_HEAD_BYTES } from '../../lib/esl/frame-reader.ts';

type Pushed = ReturnType<ReturnType<typeof createFrameReader>['push']>;

const reasonOf = (pushed: Pushed): string | undefined => (E.isLeft(pushed) ? `${pushed.left._tag}: ${pushed.left.reason}` : undefined);
const framesOf = (pushed: Pushed): readonly Frame[] => {
  if (E.isLeft(pushed)) throw new Error(pushed.left.reason);
  return pushed.right;
};
const reply = (text: string): Buffer => Buffer.from(`Content-Type: command/reply\nReply-Text: ${text}\n\n`);

/**
 * Bytes the reader's native searches and copies go over while `run` runs: the work a peer can make it
 * do. A search that fails went over everything from where it started; one that succeeds, up to its hit.
 */
const workOf = (run: () => void): number => {
  const { indexOf } = Buffer.prototype;
  const { copy } = Buffer.prototype;
  const { concat } = Buffer;
  let bytes = 0;
  Buffer.prototype.indexOf = function (this: Buffer, value: string | number | Uint8Array, byteOffset?: number | BufferEncoding, encoding?: BufferEncoding) {
    const found = indexOf.call(this, value, byteOffset as number, encoding);
    const from = typeof byteOffset === 'number' ? byteOffset : 0;
    bytes += (found < 0 ? this.length : found) - from;
    return found;
  };
  Buffer.prototype.copy = function (this: Buffer, target: Uint8Array, targetStart?: number, sourceStart = 0, sourceEnd = this.length) {
    bytes += sourceEnd - sourceStart;
    return copy.call(this, target, targetStart, sourceStart, sourceEnd);
  };
  Buffer.concat = (list: readonly Uint8Array[], totalLength?: number) => {
    bytes += list.reduce((n, b) => n + b.length, 0);
    return concat(list, totalLength);
  };
  try {
    run();
  } finally {
    Buffer.prototype.indexOf = indexOf;
    Buffer.prototype.copy = copy;
    Buffer.concat = concat;
  }
  return bytes;
};

describe('esl/frame-reader, bounded frames', () => {
  it('ends the stream once a header block passes 64 KiB without an empty line, and not before', () => {
    const reader = createFrameReader();
    const line = Buffer.from(`X-Filler: ${'x'.repeat(1013)}\n`);
    let sent = 0;
    while (sent + line.length <= MAX_HEAD_BYTES) {
      expect(framesOf(reader.push(line))).to.deep.equal([]);
      sent += line.length;
    }
    const over = reader.push(line);
    expect(reasonOf(over)).to.equal(`MalformedFrame: header block over the ${MAX_HEAD_BYTES}-byte limit without an empty line`);
    expect(reasonOf(reader.push(reply('+OK')))).to.equal(reasonOf(over));
  });

  it('reads a header block of exactly 64 KiB, split anywhere', () => {
    const head = `Content-Type: command/reply\nReply-Text: +OK\nX-Filler: `;
    const block = Buffer.from(`${head}${'y'.repeat(MAX_HEAD_BYTES - head.length)}\n\n`);
    for (const split of [1, MAX_HEAD_BYTES - 1, MAX_HEAD_BYTES, MAX_HEAD_BYTES + 1]) {
      const reader = createFrameReader();
      const frames = [...framesOf(reader.push(block.subarray(0, split))), ...framesOf(reader.push(block.subarray(split)))];
      expect(frames.map((f) => (f._tag === 'CommandReply' ? f.replyText : f._tag)), `split at ${split}`).to.deep.equal(['+OK']);
    }
    const over = Buffer.concat([block.subarray(0, 60), Buffer.from('z'), block.subarray(60)]);
    expect(reasonOf(createFrameReader().push(over))).to.match(/header block over/);
  });

  it('refuses an announced body over 1 MiB at once, without waiting for it', () => {
    const reader = createFrameReader();
    const pushed = reader.push(Buffer.from('Content-Length: 2000000000\nContent-Type: text/event-plain\n\n'));
    expect(reasonOf(pushed)).to.equal(`MalformedFrame: Content-Length 2000000000 is over the ${MAX_BODY_BYTES}-byte body limit`);
  });

  it('reads a body of exactly 1 MiB, sent in small reads', () => {
    const reader = createFrameReader();
    const body = Buffer.alloc(MAX_BODY_BYTES, 0x61);
    expect(framesOf(reader.push(Buffer.from(`Content-Length: ${MAX_BODY_BYTES}\nContent-Type: api/response\n\n`)))).to.deep.equal([]);
    const frames: Frame[] = [];
    for (let at = 0; at < body.length; at += 1400) frames.push(...framesOf(reader.push(body.subarray(at, at + 1400))));
    expect(frames.map((f) => (f._tag === 'ApiResponse' ? f.body.length : f._tag))).to.deep.equal([MAX_BODY_BYTES]);
    expect(framesOf(reader.push(reply('+OK after')))).to.have.length(1);
  });

  for (const announced of ['-5', '12abc', '', ' 12', '0x10', '1e3', '99999999999999999999']) {
    it(`refuses Content-Length ${JSON.stringify(announced)} rather than read some other length`, () => {
      const pushed = createFrameReader().push(Buffer.from(`Content-Length: ${announced}\nContent-Type: api/response\n\n+OK\n`));
      expect(reasonOf(pushed)).to.match(/^MalformedFrame: Content-Length .* (is not a byte count|is over the)/);
    });
  }

  it('does work linear in the bytes sent, however finely the peer splits a header block or a body', () => {
    const feed = (size: number, bytes: Buffer): number =>
      workOf(() => {
        const reader = createFrameReader();
        for (let at = 0; at < bytes.length; at += size) reader.push(bytes.subarray(at, at + size));
      });
    const head = Buffer.from(`X-Filler: ${'x'.repeat(MAX_HEAD_BYTES - 20)}`);
    const body = Buffer.concat([Buffer.from(`Content-Length: ${MAX_BODY_BYTES}\n\n`), Buffer.alloc(MAX_BODY_BYTES, 0x62)]);
    // Quadratic (a re-search and a re-copy of all pending bytes per read), 100-byte reads of 64 KiB
    // would go over ~40 MB, 1400-byte reads of 1 MiB over ~800 MB.
    expect(feed(100, head)).to.be.below(4 * head.length);
    expect(feed(1400, body)).to.be.below(4 * body.length);
  });
});
