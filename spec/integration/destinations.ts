import type { CalleeBehaviour } from '../emulator/index.ts';

/**
 * What each destination does, by convention, for every PBX the integration specs drive: the emulator
 * follows it through `calleeFor`, and the real FreeSWITCH of scripts/freeswitch/ is configured to
 * behave the same way (its dialplan and directory implement these numbers and logins).
 */
export const DESTINATIONS = {
  /** A phone number through the gateway that answers. */
  number: '380123456789',
  /** A SIP login that answers (a login of digits only would be read as a phone number). */
  login: 'agent1',
  /** A second login that answers: the fallback destination. */
  fallbackLogin: 'agent2',
  /** A phone number that rings and is never answered. */
  noAnswer: '380000000408',
  /** A phone number that is busy. */
  busy: '380000000486',
  /** A login nobody registered. */
  unknownLogin: 'nobody',
  /** A gateway whose far end is not there (nothing listens on its port): every number is unreachable. */
  deadGateway: 'dead',
} as const;

export const calleeFor = (endpoint: string): CalleeBehaviour => {
  if (endpoint.endsWith(`/${DESTINATIONS.noAnswer}`)) return { kind: 'no-answer' };
  if (endpoint.endsWith(`/${DESTINATIONS.busy}`)) return { kind: 'busy' };
  if (endpoint.startsWith(`user/${DESTINATIONS.unknownLogin}`)) return { kind: 'unknown-user' };
  if (endpoint.startsWith(`sofia/gateway/${DESTINATIONS.deadGateway}/`)) return { kind: 'unreachable' };
  return { kind: 'answer', afterMs: 5 };
};
