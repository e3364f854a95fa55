// The part of FreeSWITCH's originate dial-string syntax the router uses: an optional
// `{name=value,...}` block of originate variables, then one endpoint.

export type EndpointKind = 'user' | 'gateway' | 'sofia' | 'empty' | 'invalid';

export interface DialString {
  readonly vars: Record<string, string>;
  /** The dial string without the {} block. */
  readonly endpoint: string;
  readonly kind: EndpointKind;
  /** The user or number being called (user/<this>[@domain], sofia/gateway/gw/<this>). */
  readonly target: string;
}

export function parseDialString(arg: string): DialString {
  const vars: Record<string, string> = {};
  let rest = arg.trim();
  if (rest.startsWith('{')) {
    const end = rest.indexOf('}');
    const inner = end < 0 ? rest.slice(1) : rest.slice(1, end);
    rest = end < 0 ? '' : rest.slice(end + 1);
    // FreeSWITCH splits the block on commas; values that need a comma are quoted with ''.
    for (const part of inner.split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) vars[part.slice(0, eq).trim()] = part.slice(eq + 1).trim().replace(/^'(.*)'$/, '$1');
    }
  }
  // Only the first endpoint of a `,` (simultaneous) or `|` (sequential) list is dialed.
  const endpoint = rest.split(/[,|]/)[0]!.trim();
  let m: RegExpExecArray | null;
  if (endpoint === '') return { vars, endpoint, kind: 'empty', target: '' };
  if ((m = /^user\/([^@/]+)(?:@.*)?$/.exec(endpoint))) return { vars, endpoint, kind: 'user', target: m[1]! };
  if ((m = /^sofia\/gateway\/[^/]+\/(.+)$/.exec(endpoint))) return { vars, endpoint, kind: 'gateway', target: m[1]! };
  if ((m = /^sofia\/[^/]+\/(?:sip:)?([^@]+)/.exec(endpoint))) return { vars, endpoint, kind: 'sofia', target: m[1]! };
  return { vars, endpoint, kind: 'invalid', target: '' };
}

/** Seconds the bridge may ring: {originate_timeout|leg_timeout}, else the channel's call_timeout, else 60. */
export function ringTimeoutSec(d: DialString, channelVars: ReadonlyMap<string, string>): number {
  for (const v of [d.vars['leg_timeout'], d.vars['originate_timeout'], channelVars.get('call_timeout')]) {
    const n = Number(v);
    if (v !== undefined && v !== '' && Number.isFinite(n) && n > 0) return n;
  }
  return 60;
}
