/** Keeps untrusted text readable and harmless in a log line. */

const NON_PRINTABLE_ASCII = /[^\x20-\x7e]/g;

const escapeChar = (ch: string): string => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * `raw` cut to `max` UTF-16 units, with control characters, quotes and every
 * non-ASCII character escaped so look-alike digits and smuggled newlines are
 * visible; the original length is noted when cut.
 */
export function shown(raw: string, max = 80): string {
  const head = raw.length > max ? raw.slice(0, max) : raw;
  const escaped = JSON.stringify(head).slice(1, -1).replace(NON_PRINTABLE_ASCII, escapeChar);
  return raw.length > max ? `${escaped}...(${raw.length} chars)` : escaped;
}
