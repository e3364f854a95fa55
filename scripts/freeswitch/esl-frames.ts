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

/** Headers of a text/event-plain body (the event itself), %-decoded as FreeSWITCH encoded them. */
export const eventHeaders = (body: Buffer): Map<string, string> => {
  const end = body.indexOf('\n\n');
  const headers = parseHeaders(end < 0 ? body : body.subarray(0, end));
  for (const [name, value] of headers) {
    try {
      headers.set(name, decodeURIComponent(value));
    } catch {
      headers.set(name, value); // not UTF-8 once decoded (a Latin-1 caller): keep it encoded
    }
  }
  return headers;
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
