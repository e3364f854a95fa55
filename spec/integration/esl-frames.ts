// Splits an event-socket byte stream into whole frames (a header block, then Content-Length bytes of
// body), keeping each frame's exact bytes: the capture tool writes them verbatim, and the hand-back
// probe reads a few headers. Header values stay %-encoded: nothing here decodes what it passes on.

export interface RawFrame {
  /** The frame exactly as it arrived: header block, blank line, body. */
  readonly bytes: Buffer;
  /** Header names to raw (still %-encoded) values; the first of a repeated header wins. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

const parseHeaders = (block: Buffer): Map<string, string> => {
  const headers = new Map<string, string>();
  for (const line of block.toString('latin1').split('\n')) {
    const colon = line.indexOf(': ');
    if (colon <= 0) continue;
    const name = line.slice(0, colon);
    if (!headers.has(name)) headers.set(name, line.slice(colon + 2));
  }
  return headers;
};

/** A %-encoded header value, decoded; one that is not UTF-8 once decoded (a Latin-1 caller) stays encoded. */
export const decodeValue = (value: string): string => {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

/** Every header of a text/event-plain body (the event itself), decoded. */
export const eventHeaders = (body: Buffer): Map<string, string> => {
  const end = body.indexOf('\n\n');
  const headers = parseHeaders(end < 0 ? body : body.subarray(0, end));
  for (const [name, value] of headers) headers.set(name, decodeValue(value));
  return headers;
};

/**
 * A text/event-plain body as the event's header lookup and the event's own body (after its header
 * block, Content-Length bytes, e.g. a BACKGROUND_JOB's result). A lookup searches the header block for
 * that one name: an event has ~160 headers and a reader wants a handful.
 */
export const splitEvent = (body: Buffer): { header: (name: string) => string | undefined; body: string } => {
  const end = body.indexOf('\n\n');
  const block = end < 0 ? body : body.subarray(0, end + 1);
  const header = (name: string): string | undefined => {
    const prefix = `${name}: `;
    let from: number;
    if (block.toString('latin1', 0, prefix.length) === prefix) from = prefix.length;
    else {
      const at = block.indexOf(`\n${prefix}`, 0, 'latin1');
      if (at < 0) return undefined;
      from = at + 1 + prefix.length;
    }
    const eol = block.indexOf(0x0a, from);
    return decodeValue(block.toString('latin1', from, eol < 0 ? block.length : eol));
  };
  return { header, body: end < 0 ? '' : body.subarray(end + 2).toString('utf8') };
};

export class FrameSplitter {
  private buffered: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns the frames they complete. */
  push(chunk: Buffer): RawFrame[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: RawFrame[] = [];
    for (;;) {
      // Commands from a router may end in "\n\n" after blank-line padding; FreeSWITCH skips leading
      // newlines between frames, and so does this.
      let start = 0;
      while (start < this.buffered.length && (this.buffered[start] === 0x0a || this.buffered[start] === 0x0d)) start++;
      const end = this.buffered.indexOf('\n\n', start);
      if (end < 0) return frames;
      const headers = parseHeaders(this.buffered.subarray(start, end));
      const length = Number(headers.get('Content-Length') ?? 0);
      const total = end + 2 + length;
      if (this.buffered.length < total) return frames;
      frames.push({ bytes: this.buffered.subarray(0, total), headers, body: this.buffered.subarray(end + 2, total) });
      this.buffered = this.buffered.subarray(total);
    }
  }

  /** Bytes that did not (yet) make a whole frame. */
  rest(): Buffer {
    return this.buffered;
  }
}
