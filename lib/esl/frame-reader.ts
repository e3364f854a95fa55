import * as E from 'fp-ts/lib/Either.js';
import type { Frame, HeaderLookup } from './frame.ts';

export type MalformedFrame = { readonly _tag: 'MalformedFrame'; readonly reason: string };

export interface FrameReader {
  /** Feeds bytes as they arrive; returns the frames they completed, or why the stream is unusable. */
  readonly push: (chunk: Buffer) => E.Either<MalformedFrame, readonly Frame[]>;
}

const EMPTY = Buffer.alloc(0);

/**
 * A header block's values, looked up when asked for. A FreeSWITCH event carries ~160 url-encoded
 * headers and a call reads a handful of them, so the block stays bytes (a view into what the socket
 * read): a lookup finds the header with a native search and makes a string of its value alone, which
 * therefore pins nothing else. The first of a repeated header wins, as in FreeSWITCH's own ESL library
 * (esl_event_get_header), and the search stops there: Event-Name, always first, costs no scan at all.
 * The block has been checked whole by `checkEscapes`, so decoding a value cannot throw here.
 */
const lookupIn =
  (block: Buffer): HeaderLookup =>
  (name) => {
    let from: number;
    if (block.toString('latin1', 0, name.length + 2) === `${name}: `) {
      from = name.length + 2;
    } else {
      const needle = `\n${name}: `;
      const at = block.indexOf(needle, 0, 'latin1');
      if (at < 0) return undefined;
      from = at + needle.length;
    }
    const eol = block.indexOf(0x0a, from);
    const raw = block.toString('utf8', from, eol < 0 ? block.length : eol);
    return raw.includes('%') ? decodeURIComponent(raw) : raw;
  };

const isHexDigit = (byte: number): boolean => (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);

/**
 * An escape of a byte 0x00-0x7F (`%` then 0-7 then a hex digit) always decodes; anything else after a
 * `%` (a broken escape, or a byte of a multi-byte UTF-8 sequence, which may be invalid) needs the real
 * decoder to tell.
 */
const onlyAsciiEscapes = (block: Buffer): boolean => {
  for (let at = block.indexOf(0x25); at >= 0; at = block.indexOf(0x25, at + 3)) {
    const high = block[at + 1] ?? 0;
    if (!(high >= 0x30 && high <= 0x37 && isHexDigit(block[at + 2] ?? 0))) return false;
  }
  return true;
};

/**
 * FreeSWITCH url-encodes header values. A block that does not decode (a broken %-escape, invalid
 * UTF-8) makes the stream unusable: it is refused here, whole, so that a later lookup never throws
 * inside a socket listener. Escapes cannot span lines, so checking the block is checking every value.
 * Most blocks hold only ASCII escapes (`%3A`, `%20`): hopping from `%` to `%` (a native search) proves
 * them valid without decoding, and allocating, a copy of the block.
 */
const checkEscapes = (block: Buffer): void => {
  if (!onlyAsciiEscapes(block)) decodeURIComponent(block.toString('utf8'));
};

const classify = (outer: HeaderLookup, contentType: string, body: Buffer): Frame => {
  switch (contentType) {
    case 'command/reply':
      return { _tag: 'CommandReply', replyText: outer('Reply-Text') ?? '', header: outer };
    case 'api/response':
      return { _tag: 'ApiResponse', body: body.toString('utf8') };
    case 'text/event-plain': {
      // The event's headers are the body's own header block; an event may carry a body after it.
      const end = body.indexOf('\n\n');
      const block = end < 0 ? body : body.subarray(0, end);
      checkEscapes(block);
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

/**
 * Frames as mod_event_socket writes them: a header block ended by an empty line, then exactly
 * Content-Length bytes of body. Bytes stay a Buffer, searched natively; a frame's headers are views
 * into it, and only the values looked up become strings. A frame therefore keeps the bytes it was read
 * from alive for as long as it is held: frames are read and let go, their values kept.
 */
export const createFrameReader = (options: FrameReaderOptions = {}): FrameReader => {
  const { events } = options;
  let pending: Buffer = EMPTY;
  let broken: MalformedFrame | undefined;
  return {
    push: (chunk) => {
      if (broken) return E.left(broken);
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const frames: Frame[] = [];
      let at = 0;
      try {
        for (;;) {
          const headEnd = pending.indexOf('\n\n', at);
          if (headEnd < 0) break;
          const head = pending.subarray(at, headEnd);
          checkEscapes(head);
          const outer = lookupIn(head);
          const length = Number.parseInt(outer('Content-Length') ?? '', 10);
          const bodyStart = headEnd + 2;
          const bodyEnd = bodyStart + (length > 0 ? length : 0);
          if (pending.length < bodyEnd) break;
          const contentType = outer('Content-Type') ?? '';
          const skipped = events !== undefined && contentType === 'text/event-plain' && !wanted(events, pending, bodyStart, bodyEnd);
          if (!skipped) frames.push(classify(outer, contentType, pending.subarray(bodyStart, bodyEnd)));
          at = bodyEnd;
        }
      } catch (cause) {
        broken = { _tag: 'MalformedFrame', reason: cause instanceof Error ? cause.message : String(cause) };
        return E.left(broken);
      }
      // A partial frame is copied out, so a 64 KiB read buffer is not kept alive for its few bytes.
      pending = at >= pending.length ? EMPTY : at === 0 ? pending : Buffer.from(pending.subarray(at));
      return E.right(frames);
    },
  };
};
