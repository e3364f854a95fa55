/** The FreeSWITCH endpoint for a destination (the telephony layer adds `{originate_timeout=N}`). */
import type { Scheme } from '../config/codecs.ts';
import type { Destination } from '../core/destination.ts';

/**
 * Safe by construction: every piece was validated as a token, host name or
 * digit string, either at boot (gateway, sipDomain) or by classifyDestination.
 * A login that carries its own domain keeps it; otherwise the scheme's
 * sipDomain is appended when configured.
 */
export function dialString(scheme: Pick<Scheme, 'gateway' | 'sipDomain'>, d: Destination): string {
  if (d._tag === 'PhoneNumber') return `sofia/gateway/${scheme.gateway}/${d.number}`;
  const domain = d.domain ?? scheme.sipDomain;
  return domain === undefined ? `user/${d.login}` : `user/${d.login}@${domain}`;
}
