import { EventEmitter } from 'node:events';
import * as E from 'fp-ts/lib/Either.js';
import modesl, { type EslEvent } from 'modesl';
import type { Frame, HeaderLookup } from './frame.ts';

export type MalformedFrame = { readonly _tag: 'MalformedFrame'; readonly reason: string };

export interface FrameReader {
  /** Feeds bytes as they arrive; returns the frames they completed, or why the stream is unusable. */
  readonly push: (chunk: Buffer) => E.Either<MalformedFrame, readonly Frame[]>;
}

const lookup = (event: EslEvent): HeaderLookup => (name) => {
  const value = event.getHeader(name);
  return value === null ? undefined : String(value);
};

const classify = (event: EslEvent, frameHeaders: Record<string, string | number>, body: string | undefined): Frame => {
  const contentType = String(frameHeaders['Content-Type'] ?? '');
  switch (contentType) {
    case 'command/reply':
      return {
        _tag: 'CommandReply',
        replyText: String(event.getHeader('Reply-Text') ?? ''),
        header: lookup(event),
        headerNames: () => event.headers.map((h) => h.name),
      };
    case 'api/response':
      return { _tag: 'ApiResponse', body: body ?? '' };
    case 'text/event-plain':
      return { _tag: 'Event', name: String(event.getHeader('Event-Name') ?? ''), header: lookup(event) };
    case 'text/disconnect-notice': {
      const disposition = event.getHeader('Content-Disposition');
      return { _tag: 'DisconnectNotice', disposition: disposition === null ? undefined : String(disposition), header: lookup(event) };
    }
    default:
      return { _tag: 'Unknown', contentType };
  }
};

/**
 * Frames come from modesl's parser, fed through a private emitter rather than the socket itself: its
 * header decoding throws on a malformed %-escape, and thrown inside a socket 'data' listener that would
 * take the whole process down. Here it becomes a value that ends one call.
 */
export const createFrameReader = (): FrameReader => {
  const source = new EventEmitter();
  const parser = new modesl.Parser(source);
  let completed: Frame[] = [];
  parser.on('esl::event', (event, frameHeaders, body) => {
    completed.push(classify(event, frameHeaders, body));
  });
  let broken: MalformedFrame | undefined;
  return {
    push: (chunk) => {
      if (broken) return E.left(broken);
      try {
        source.emit('data', chunk);
      } catch (cause) {
        broken = { _tag: 'MalformedFrame', reason: cause instanceof Error ? cause.message : String(cause) };
        return E.left(broken);
      }
      const frames = completed;
      completed = [];
      return E.right(frames);
    },
  };
};
