// ESL framing as FreeSWITCH's mod_event_socket writes and reads it: a header block of
// `Name: value` lines closed by an empty line, then exactly Content-Length bytes of body.
// Everything is handled as latin1 so one JS char is one byte and lengths stay byte-exact.

export type Header = readonly [name: string, value: string];

export interface Frame {
  readonly headers: readonly Header[];
  readonly body: string;
  /** The exact bytes of the frame (header block + body), latin1. */
  readonly raw: string;
}

export function header(headers: readonly Header[], name: string): string | undefined {
  for (const [n, v] of headers) if (n === name) return v;
  return undefined;
}

/** FreeSWITCH's own lookup of what a router sent (switch_event_get_header, read_packet): any case. */
export function headerAnyCase(headers: readonly Header[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of headers) if (n.toLowerCase() === lower) return v;
  return undefined;
}

export function parseHeaderBlock(block: string): Header[] {
  const out: Header[] = [];
  for (const line of block.split('\n')) {
    if (line === '') continue;
    const i = line.indexOf(': ');
    // FreeSWITCH tolerates `Name:value`; so do we, so that a sloppy router is still understood.
    if (i < 0) {
      const j = line.indexOf(':');
      out.push(j < 0 ? [line, ''] : [line.slice(0, j), line.slice(j + 1).trimStart()]);
    } else {
      out.push([line.slice(0, i), line.slice(i + 2)]);
    }
  }
  return out;
}

export function encodeHeaderBlock(headers: readonly Header[]): string {
  let s = '';
  for (const [n, v] of headers) s += n + ': ' + v + '\n';
  return s + '\n';
}

// switch_url_encode(): these bytes, controls and non-ASCII become %XX; an existing %XX is kept.
const UNSAFE = new Set('\r\n "#%&+:;<=>?@[\\]^`{|}'.split('').map((c) => c.charCodeAt(0)));
const HEX = '0123456789ABCDEF';

export function urlEncode(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x25 && isHex(bytes[i + 1]) && isHex(bytes[i + 2])) {
      out += '%';
    } else if (b < 0x20 || b > 0x7e || UNSAFE.has(b)) {
      out += '%' + HEX[b >> 4]! + HEX[b & 15]!;
    } else {
      out += String.fromCharCode(b);
    }
  }
  return out;
}

function isHex(b: number | undefined): boolean {
  return b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));
}

export function urlDecode(value: string): string {
  if (!value.includes('%')) return value;
  return Buffer.from(
    value.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8');
}

/** Incremental reader for a byte stream of ESL frames (either direction). */
export class FrameReader {
  private buf = '';

  push(chunk: Buffer | string): Frame[] {
    this.buf += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    const frames: Frame[] = [];
    for (;;) {
      const end = this.buf.indexOf('\n\n');
      if (end < 0) break;
      const headers = parseHeaderBlock(this.buf.slice(0, end));
      const len = Number(headerAnyCase(headers, 'Content-Length') ?? '0');
      const total = end + 2 + (Number.isFinite(len) && len > 0 ? len : 0);
      if (this.buf.length < total) break;
      const raw = this.buf.slice(0, total);
      frames.push({ headers, body: raw.slice(end + 2), raw });
      this.buf = this.buf.slice(total);
    }
    return frames;
  }

  /** Bytes received that do not yet form a whole frame. */
  get pending(): string {
    return this.buf;
  }
}
