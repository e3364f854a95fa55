/**
 * Where a call goes: the only shapes a CRM answer (or a configured fallback)
 * can take before it becomes part of a dial string.
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationFailure } from './failure.ts';
import { shown } from './log-safe.ts';
import { SIP_LOGIN } from './tokens.ts';

export const PhoneNumber = t.readonly(t.type({ _tag: t.literal('PhoneNumber'), number: t.string }), 'PhoneNumber');
export const SipLogin = t.readonly(
  t.intersection([t.type({ _tag: t.literal('SipLogin'), login: t.string }), t.partial({ domain: t.string })]),
  'SipLogin',
);
export const Destination = t.union([PhoneNumber, SipLogin], 'Destination');
export type PhoneNumber = t.TypeOf<typeof PhoneNumber>;
export type SipLogin = t.TypeOf<typeof SipLogin>;
export type Destination = t.TypeOf<typeof Destination>;

/** A destination as it is written: the digits of a number, or `login[@domain]`. */
export const showDestination = (d: Destination): string =>
  d._tag === 'PhoneNumber' ? d.number : d.domain === undefined ? d.login : `${d.login}@${d.domain}`;

/** What classification needs from a scheme. */
export interface DestinationRules {
  /** When present, a phone number must start with one of these (digits, no `+`). */
  readonly allowedPrefixes?: ReadonlyArray<string> | undefined;
  /** When present, digits (no `+`) it matches are a SIP login, the extension of that number. */
  readonly extensions?: RegExp | undefined;
  /** The domains a login may name; when absent, only `sipDomain` when it is set, any host otherwise. */
  readonly loginDomains?: ReadonlyArray<string> | undefined;
  readonly sipDomain?: string | undefined;
}

/** Longest raw value looked at: a 64-char login + `@` + a 253-char host, with slack for formatting. */
export const MAX_RAW_LENGTH = 320;
const MIN_DIGITS = 3;
const MAX_DIGITS = 15;

// Surrounding whitespace is forgiven (a CRM's text answer usually ends in a newline); inner tabs/newlines are not.
const SURROUNDING_WHITESPACE = /^[ \t\r\n]+|[ \t\r\n]+$/g;
// A phone number as people write it: an optional leading `+`, digits, and the
// visual separators space, `-`, `.`, `(`, `)`. Square/curly brackets are never
// separators: they are dial-string syntax.
const PHONE_LIKE = /^\+?[0-9 ().-]*[0-9][0-9 ().-]*$/;
const PHONE_SEPARATORS = /[+ ().-]/g;

// What CRMs print when they have no agent: a template rendering a null, a
// boolean, a failed number conversion. Each would otherwise pass as a SIP login.
const NO_AGENT_WORDS = new Set(['null', 'undefined', 'none', 'nil', 'false', 'true', 'nan']);

// A login is at most 64 characters (SAFE_TOKEN), an extension's digits too.
const MAX_EXTENSION_DIGITS = 64;

const unsafe = (raw: string, reason: string): DestinationFailure => ({ _tag: 'UnsafeDestination', raw: shown(raw), reason });

const isExtension = (rules: DestinationRules, value: string, digits: string): boolean =>
  rules.extensions !== undefined && !value.startsWith('+') && digits.length <= MAX_EXTENSION_DIGITS && rules.extensions.test(digits);

/** DNS names are case-insensitive: `PBX.example.com` is `pbx.example.com`. */
function domainAllowed(rules: DestinationRules, domain: string): boolean {
  const allowed = rules.loginDomains ?? (rules.sipDomain === undefined ? undefined : [rules.sipDomain]);
  const wanted = domain.toLowerCase();
  return allowed === undefined || allowed.some((d) => d.toLowerCase() === wanted);
}

/**
 * Turns untrusted text into a Destination, or says why it cannot be one.
 *
 * - Surrounding spaces/tabs/CR/LF are trimmed; nothing left, or a word a CRM
 *   prints for "no agent" (`null`, `undefined`, `none`, `nil`, `false`,
 *   `true`, `NaN`, any case) → EmptyDestination.
 * - Only digits and separators (with at most one leading `+`): without a `+`
 *   and matching the scheme's `extensions` → a SIP login of those digits
 *   (an extension); otherwise a phone number: separators and the `+` are
 *   removed, 3–15 ASCII digits must remain. The `+` is dropped so one number
 *   has one spelling for `allowedPrefixes` and for the gateway (which gets
 *   international digits without `+`).
 * - Otherwise `login` or `login@host` per SIP_LOGIN → a SIP login; a host
 *   outside the scheme's login domains → ForbiddenDestination.
 * - Anything else → UnsafeDestination (reason + log-safe raw value).
 */
export function classifyDestination(raw: string, rules: DestinationRules): E.Either<DestinationFailure, Destination> {
  if (raw.length > MAX_RAW_LENGTH) return E.left(unsafe(raw, `longer than ${MAX_RAW_LENGTH} characters`));
  const value = raw.replace(SURROUNDING_WHITESPACE, '');
  if (value === '' || NO_AGENT_WORDS.has(value.toLowerCase())) return E.left({ _tag: 'EmptyDestination' });
  if (PHONE_LIKE.test(value)) {
    const number = value.replace(PHONE_SEPARATORS, '');
    if (isExtension(rules, value, number)) return E.right({ _tag: 'SipLogin', login: number });
    // PHONE_LIKE leaves nothing but ASCII digits once separators are gone.
    if (number.length < MIN_DIGITS || number.length > MAX_DIGITS) {
      return E.left(unsafe(raw, `a phone number needs ${MIN_DIGITS} to ${MAX_DIGITS} digits`));
    }
    const prefixes = rules.allowedPrefixes;
    if (prefixes !== undefined && !prefixes.some((p) => number.startsWith(p))) {
      return E.left({ _tag: 'ForbiddenDestination', number });
    }
    return E.right({ _tag: 'PhoneNumber', number });
  }
  const login = SIP_LOGIN.exec(value);
  if (login === null) return E.left(unsafe(raw, 'neither a phone number nor a SIP login'));
  const [, user = '', domain] = login;
  if (domain === undefined) return E.right({ _tag: 'SipLogin', login: user });
  if (!domainAllowed(rules, domain)) return E.left({ _tag: 'ForbiddenDestination', login: user, domain });
  return E.right({ _tag: 'SipLogin', login: user, domain });
}
