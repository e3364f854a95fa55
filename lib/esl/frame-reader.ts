import * as E from 'fp-ts/lib/Either.js';
import type { Frame, HeaderLookup } from './frame.ts';

export type MalformedFrame = { readonly _tag: 'MalformedFrame'; readonly reason: string };

export interface FrameReader {
  /** Feeds bytes as they arrive; returns the frames they completed, or why the stream is unusable. */
  readonly push: (chunk: Buffer) => E.Either<MalformedFrame, readonly Frame[]>;
}

const EMPTY = Buffer.alloc(0);
/** The empty line that ends a header block, as bytes: a string would be converted at every search. */
const BLANK_LINE = Buffer.from('\n\n');

const hexValue = (byte: number): number => {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
};

/**
 * A value as FreeSWITCH meant it. It url-encodes values byte by byte (switch_url_encode), whatever
 * the bytes are: a SIP phone's Latin-1 or CP1251 display name arrives as `Jos%E9`, which is no UTF-8.
 * So the escapes become bytes and the bytes are read as UTF-8, an invalid sequence becoming U+FFFD;
 * a broken escape (`%G1`, a `%` at the end) stays as it is. A display name, a User-Agent or an `X-`
 * header is the caller's to choose, and none may cost the call its routing.
 */
const decodeValue = (value: Buffer): string => {
  const first = value.indexOf(0x25);
  if (first < 0) return value.toString('utf8');
  const bytes = Buffer.allocUnsafe(value.length);
  let length = value.copy(bytes, 0, 0, first);
  for (let i = first; i < value.length; i++) {
    const byte = value[i]!;
    const high = byte === 0x25 && i + 2 < value.length ? hexValue(value[i + 1]!) : -1;
    const low = high < 0 ? -1 : hexValue(value[i + 2]!);
    if (low < 0) {
      bytes[length++] = byte;
    } else {
      bytes[length++] = high * 16 + low;
      i += 2;
    }
  }
  return bytes.toString('utf8', 0, length);
};

/**
 * Each name's search pattern, `\n<name>: ` in bytes, made once: a call looks up its twenty-odd names
 * in blocks of 8 KB, and a string pattern would be converted for every search (scripts/bench/README.md).
 * The names come from the code and the configuration, a few dozen; past a bound a name is not kept,
 * so no caller could grow the map.
 */
const PATTERNS = new Map<string, Buffer>();
const MAX_PATTERNS = 512;

const patternOf = (name: string): Buffer => {
  let pattern = PATTERNS.get(name);
  if (pattern === undefined) {
    pattern = Buffer.from(`\n${name}: `, 'latin1');
    if (PATTERNS.size < MAX_PATTERNS) PATTERNS.set(name, pattern);
  }
  return pattern;
};

/**
 * A header block's values, looked up when asked for. A FreeSWITCH event carries ~160 url-encoded
 * headers and a call reads a handful of them, so the block stays bytes (a view into what the socket
 * read): a lookup finds the header with a native search and makes a string of its value alone, which
 * therefore pins nothing else. The first of a repeated header wins, as in FreeSWITCH's own ESL library
 * (esl_event_get_header), and the search stops there: Event-Name, always first, costs no scan at all.
 * Only a looked-up value is decoded, and decoding cannot fail: whatever the other values hold, they
 * are never read.
 */
const lookupIn =
  (block: Buffer): HeaderLookup =>
  (name) => {
    const pattern = patternOf(name);
    let from: number;
    // The block's first header has no `\n` before it.
    if (block.length >= pattern.length - 1 && block.compare(pattern, 1, pattern.length, 0, pattern.length - 1) === 0) {
      from = pattern.length - 1;
    } else {
      const at = block.indexOf(pattern);
      if (at < 0) return undefined;
      from = at + pattern.length;
    }
    const eol = block.indexOf(0x0a, from);
    return decodeValue(block.subarray(from, eol < 0 ? block.length : eol));
  };

const classify = (outer: HeaderLookup, contentType: string, body: Buffer): Frame => {
  switch (contentType) {
    case 'command/reply':
      return { _tag: 'CommandReply', replyText: outer('Reply-Text') ?? '', header: outer };
    case 'api/response':
      return { _tag: 'ApiResponse', body: body.toString('utf8') };
    case 'text/event-plain': {
      // The event's headers are the body's own header block; an event may carry a body after it.
      const end = body.indexOf(BLANK_LINE);
      const block = end < 0 ? body : body.subarray(0, end);
      const header = lookupIn(block);
      return { _tag: 'Event', name: header('Event-Name') ?? '', header };
    }
    case 'text/disconnect-notice':
      return { _tag: 'DisconnectNotice', disposition: outer('Content-Disposition'), header: outer };
    default:
      return { _tag: 'Unknown', contentType };
  }
};

export interface FrameReaderOptions {
  /**
   * The events the reader of this stream acts on. Any other event is skipped without being decoded:
   * FreeSWITCH sends a call's every event, each several KB, and a router reads four kinds of them.
   * All events when absent.
   */
  readonly events?: ReadonlySet<string>;
}

const EVENT_NAME = Buffer.from('Event-Name: ');

/**
 * Whether an event is one of `events`, read from the bytes of its body. FreeSWITCH creates an event with
 * its Event-Name header first, so the name is the body's first line; a body that does not start so is
 * kept, to be read in full.
 */
const wanted = (events: ReadonlySet<string>, buffer: Buffer, start: number, end: number): boolean => {
  const nameStart = start + EVENT_NAME.length;
  if (nameStart > end || buffer.compare(EVENT_NAME, 0, EVENT_NAME.length, start, nameStart) !== 0) return true;
  const eol = buffer.indexOf(0x0a, nameStart);
  if (eol < 0 || eol > end) return true;
  return events.has(buffer.toString('latin1', nameStart, eol));
};

/** The longest header block read; FreeSWITCH's outer blocks are a few hundred bytes. */
export const MAX_HEAD_BYTES = 64 * 1024;
/** The longest body read; the largest event in the real captures (a CHANNEL_HANGUP_COMPLETE) is 11.6 KB. */
export const MAX_BODY_BYTES = 1024 * 1024;

const malformed = (reason: string): MalformedFrame => ({ _tag: 'MalformedFrame', reason });

const notByteCount = (block: Buffer, from: number, to: number): MalformedFrame =>
  malformed(`Content-Length ${JSON.stringify(block.toString('latin1', from, Math.min(to, from + 32)))} is not a byte count`);

const CONTENT_LENGTH = Buffer.from('Content-Length: ');
const LINE_CONTENT_LENGTH = Buffer.from('\nContent-Length: ');

/**
 * The body length a header block announces, read from its bytes (it is on every event's path, and
 * first in an event's block): none is 0 (replies and notices have no body); anything but plain decimal
 * digits, or over the cap, is refused rather than read as some other length (a parseInt of `-5` or
 * `12abc` would put the stream off its frames for good).
 */
const announcedLength = (block: Buffer): number | MalformedFrame => {
  let from: number;
  if (block.length >= CONTENT_LENGTH.length && block.compare(CONTENT_LENGTH, 0, CONTENT_LENGTH.length, 0, CONTENT_LENGTH.length) === 0) {
    from = CONTENT_LENGTH.length;
  } else {
    const at = block.indexOf(LINE_CONTENT_LENGTH);
    if (at < 0) return 0;
    from = at + LINE_CONTENT_LENGTH.length;
  }
  const eol = block.indexOf(0x0a, from);
  const to = eol < 0 ? block.length : eol;
  if (to === from || to - from > 16) return notByteCount(block, from, to);
  let length = 0;
  for (let i = from; i < to; i++) {
    const digit = block[i]! - 0x30;
    if (digit < 0 || digit > 9) return notByteCount(block, from, to);
    length = length * 10 + digit;
  }
  return length > MAX_BODY_BYTES ? malformed(`Content-Length ${length} is over the ${MAX_BODY_BYTES}-byte body limit`) : length;
};

/**
 * Frames as mod_event_socket writes them: a header block ended by an empty line, then exactly
 * Content-Length bytes of body. Bytes stay a Buffer, searched natively; a frame's headers are views
 * into it, and only the values looked up become strings. A frame therefore keeps the bytes it was read
 * from alive for as long as it is held: frames are read and let go, their values kept.
 *
 * A peer decides how much it sends before a frame is complete, so the reader bounds it: a header
 * block over MAX_HEAD_BYTES or a body over MAX_BODY_BYTES ends the stream. Until then the bytes of a
 * partial frame are appended into spare room (capacity doubles, up to the frame's length once that is
 * known), never re-concatenated whole, and the search for the block's end resumes where the
 * previous read stopped: a frame costs time linear in its bytes however finely the peer splits it.
 * Bytes already handed out in a frame are never written over: appending only writes past them.
 */
export const createFrameReader = (options: FrameReaderOptions = {}): FrameReader => {
  const { events } = options;
  /** The partial frame's bytes are `pending[0, filled)`; the rest of `pending` is spare room. */
  let pending: Buffer = EMPTY;
  let filled = 0;
  /** How many bytes of the partial frame's header block were searched for its end, found absent. */
  let searched = 0;
  /** The partial frame's header block and whole length, once the block is complete (0: not yet). */
  let headLength = 0;
  let frameLength = 0;
  let broken: MalformedFrame | undefined;

  const append = (chunk: Buffer): void => {
    const needed = filled + chunk.length;
    if (needed > pending.length) {
      // Doubling, but never past the frame's announced length: a peer that announces 1 MiB and
      // sends a byte must not make every connection hold a megabyte.
      const grown = Buffer.allocUnsafe(Math.max(needed, Math.min(2 * pending.length, frameLength || MAX_HEAD_BYTES + MAX_BODY_BYTES)));
      pending.copy(grown, 0, 0, filled);
      pending = grown;
    }
    chunk.copy(pending, filled);
    filled = needed;
  };

  const fail = (reason: MalformedFrame): E.Either<MalformedFrame, readonly Frame[]> => {
    broken = reason;
    pending = EMPTY;
    return E.left(reason);
  };

  return {
    push: (chunk) => {
      if (broken) return E.left(broken);
      let data: Buffer;
      let end: number;
      if (filled === 0) {
        data = chunk;
        end = chunk.length;
      } else {
        append(chunk);
        // Only the filled part: the spare room past it holds whatever the allocator left there.
        data = pending.subarray(0, filled);
        end = filled;
      }
      const frames: Frame[] = [];
      let at = 0;
      for (;;) {
        let outer: HeaderLookup | undefined;
        if (frameLength === 0) {
          // A `\n` ending the searched part may be the first of the pair.
          const headEnd = data.indexOf(BLANK_LINE, at + Math.max(0, searched - 1));
          if (headEnd < 0 || headEnd - at > MAX_HEAD_BYTES) {
            if (end - at > MAX_HEAD_BYTES + 1) return fail(malformed(`header block over the ${MAX_HEAD_BYTES}-byte limit without an empty line`));
            searched = end - at;
            break;
          }
          const head = data.subarray(at, headEnd);
          const body = announcedLength(head);
          if (typeof body !== 'number') return fail(body);
          outer = lookupIn(head);
          headLength = headEnd - at;
          frameLength = headLength + 2 + body;
        }
        if (end - at < frameLength) break;
        // A block completed by an earlier read is looked up again in the bytes that now hold it.
        outer ??= lookupIn(data.subarray(at, at + headLength));
        const bodyStart = at + headLength + 2;
        const bodyEnd = at + frameLength;
        const contentType = outer('Content-Type') ?? '';
        const skipped = events !== undefined && contentType === 'text/event-plain' && !wanted(events, data, bodyStart, bodyEnd);
        if (!skipped) frames.push(classify(outer, contentType, data.subarray(bodyStart, bodyEnd)));
        at = bodyEnd;
        headLength = 0;
        frameLength = 0;
        searched = 0;
      }
      if (at === end) {
        pending = EMPTY;
        filled = 0;
      } else if (data === chunk || at > 0) {
        // A partial frame is copied out, so a 64 KiB read buffer (or the frames read from it) is not
        // kept alive for its few bytes.
        pending = Buffer.from(data.subarray(at, end));
        filled = pending.length;
      }
      return E.right(frames);
    },
  };
};
