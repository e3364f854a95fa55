/** A configuration value as a problem line shows it. */

/** Longest string shown in a problem, how far into arrays and objects, and the longest value shown. */
const MAX_SHOWN_CHARS = 120;
const MAX_SHOWN_VALUE = 300;
const MAX_SHOWN_DEPTH = 3;
const MAX_SHOWN_ITEMS = 8;

const shownString = (s: string): string =>
  s.length > MAX_SHOWN_CHARS ? `${JSON.stringify(s.slice(0, MAX_SHOWN_CHARS))}...(${s.length} chars)` : JSON.stringify(s);

/**
 * The offending value as JSON, cut short: a bad file may hold megabytes or
 * nesting deep enough to overflow JSON.stringify's stack, and the problem
 * line must still be one readable line.
 */
export function describe(value: unknown): string {
  const text = preview(value, 0);
  return text.length > MAX_SHOWN_VALUE ? `${text.slice(0, MAX_SHOWN_VALUE)}...` : text;
}

function preview(value: unknown, depth: number): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return shownString(value);
  if (typeof value !== 'object' || value === null) return String(value);
  const more = (n: number): string => (n > MAX_SHOWN_ITEMS ? ',...' : '');
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (depth >= MAX_SHOWN_DEPTH) return '[...]';
    return `[${value.slice(0, MAX_SHOWN_ITEMS).map((v: unknown) => preview(v, depth + 1)).join(',')}${more(value.length)}]`;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return '{}';
  if (depth >= MAX_SHOWN_DEPTH) return '{...}';
  const entries = keys.slice(0, MAX_SHOWN_ITEMS).map((k) => `${shownString(k)}:${preview((value as Record<string, unknown>)[k], depth + 1)}`);
  return `{${entries.join(',')}${more(keys.length)}}`;
}
