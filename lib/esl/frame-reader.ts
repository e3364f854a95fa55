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
 * headers and a call reads a handful of them, so nothing is split or decoded up front: a lookup finds
 * `\n<name>: ` in the block (the last one, as a parse into an object would keep) and decodes that value.
 * The block has been checked whole by `checkEscapes`, so decoding a value cannot throw here.
 */
const lookupIn =
  (block: string): HeaderLookup =>
  (name) => {
    const needle = `\n${name}: `;
    const at = block.lastIndexOf(needle);
    let from: number;
    if (at >= 0) from = at + needle.length;
    else if (block.startsWith(`${name}: `)) from = name.length + 2;
    else return undefined;
    const end = block.indexOf('\n', from);
    // Decoded even without a `%`: V8 makes a slice of 13+ characters a view into its parent, so a
    // value kept for the call's life (its uuid) would keep the whole ~6 KB block alive; decoding
    // always yields a string of its own.
    return decodeURIComponent(end < 0 ? block.slice(from) : block.slice(from, end));
  };

const isHexDigit = (code: number): boolean => (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);

/**
 * An escape of a byte 0x00-0x7F (`%` then 0-7 then a hex digit) always decodes; anything else after a
 * `%` (a broken escape, or a byte of a multi-byte UTF-8 sequence, which may be invalid) needs the real
 * decoder to tell.
 */
const onlyAsciiEscapes = (block: string): boolean => {
  for (let at = block.indexOf('%'); at >= 0; at = block.indexOf('%', at + 3)) {
    const high = block.charCodeAt(at + 1);
    if (!(high >= 0x30 && high <= 0x37 && isHexDigit(block.charCodeAt(at + 2)))) return false;
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
const checkEscapes = (block: string): void => {
  if (!onlyAsciiEscapes(block)) decodeURIComponent(block);
};

const classify = (outer: HeaderLookup, contentType: string, body: string | undefined): Frame => {
  switch (contentType) {
    case 'command/reply':
      return { _tag: 'CommandReply', replyText: outer('Reply-Text') ?? '', header: outer };
    case 'api/response':
      return { _tag: 'ApiResponse', body: body ?? '' };
    case 'text/event-plain': {
      // The event's headers are the body's own header block; an event may carry a body after it.
      const text = body ?? '';
      const end = text.indexOf('\n\n');
      const block = end < 0 ? text : text.slice(0, end);
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
 * Content-Length bytes of body. Bytes are kept as a Buffer until a whole frame is there, found with
 * native searches, and only the header block (and body) of a complete frame become strings.
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
          const head = pending.toString('utf8', at, headEnd);
          checkEscapes(head);
          const outer = lookupIn(head);
          const length = Number.parseInt(outer('Content-Length') ?? '', 10);
          const bodyStart = headEnd + 2;
          const bodyEnd = bodyStart + (length > 0 ? length : 0);
          if (pending.length < bodyEnd) break;
          const contentType = outer('Content-Type') ?? '';
          const skipped = events !== undefined && contentType === 'text/event-plain' && !wanted(events, pending, bodyStart, bodyEnd);
          if (!skipped) frames.push(classify(outer, contentType, length > 0 ? pending.toString('utf8', bodyStart, bodyEnd) : undefined));
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
