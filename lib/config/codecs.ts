/**
 * The configuration file's shape, as io-ts codecs. Decoding also compiles
 * what each call needs (templates, field paths, patterns, the fallback
 * destination) so nothing is parsed per call. Types are derived from these
 * codecs; see the Configuration section of README.md for the reference.
 */
import { BlockList, isIP } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { classifyDestination, showDestination } from '../core/destination.ts';
import { HOST_NAME, SAFE_TOKEN } from '../core/tokens.ts';
import {
  arrayOf,
  checked,
  checkedNumber,
  checkedString,
  mapOf,
  oneOf,
  parsedString,
  problemAt,
  struct,
  taggedBy,
  withDefault,
} from './combinators.ts';
import { SafePattern } from './pattern.ts';
import { compileTemplate } from './template.ts';

const quoted = (u: unknown): string => (u === undefined ? 'nothing' : JSON.stringify(u));

// ---- scalar settings -------------------------------------------------------

export const SafeToken = checkedString(
  'a name of letters, digits, ".", "_" or "-" (1-64 characters, starting with a letter or digit)',
  (s) => SAFE_TOKEN.test(s),
);

export const HostName = checkedString('a host name (letters, digits, "-", dot-separated)', (s) => HOST_NAME.test(s));

const ListenHost = checkedString('a host name or IP address', (s) => HOST_NAME.test(s) || isIP(s) !== 0);
const Port = checkedNumber('an integer port 0..65535', (n) => Number.isInteger(n) && n >= 0 && n <= 65535);

export const HttpUrl = parsedString(
  'an http or https URL',
  (s) => {
    if (!URL.canParse(s)) return undefined;
    const url = new URL(s);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hash === '' ? url.href : undefined;
  },
  t.identity,
);

export const Method = oneOf(['GET', 'POST', 'PUT', 'DELETE']);
export const Submit = oneOf(['http', 'json', 'jsonrpc']);
export const Import = oneOf(['http', 'json', 'jsonrpc']);
export const ParamsIn = oneOf(['query-or-body', 'headers']);
export const LogLevel = oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** `destinationField`: dot-separated names, split once here. */
export const FieldPath = parsedString(
  'a field name or dotted path such as "data.agent.number"',
  (s) => {
    const segments = s.split('.');
    return segments.every((seg) => seg !== '') ? { source: s, segments } : undefined;
  },
  (p: { readonly source: string }) => p.source,
);
export type FieldPath = t.TypeOf<typeof FieldPath>;

export const RpcMethod = checkedString('a JSON-RPC method name (1-128 characters, no control characters)', (s) =>
  /^[^\x00-\x1f\x7f]{1,128}$/.test(s),
);

export const CallTimeout = checkedNumber('an integer number of seconds 1..3600', (n) => Number.isInteger(n) && n >= 1 && n <= 3600);
export const ResponseTimeout = checkedNumber('a number of seconds > 0 and <= 60', (n) => n > 0 && n <= 60);
export const RingbackAfterMs = checkedNumber('an integer number of milliseconds 0..60000', (n) => Number.isInteger(n) && n >= 0 && n <= 60_000);

export const Template = parsedString(
  'a string ("${name}" inserts a channel variable)',
  compileTemplate,
  (tpl: { readonly source: string }) => tpl.source,
);

const ParamName = checkedString('1-128 printable ASCII characters without spaces', (s) => /^[\x21-\x7e]{1,128}$/.test(s));

const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// The HTTP client owns these; letting a scheme set them would corrupt the exchange.
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);
const HeaderName = checkedString(
  'an HTTP header name (not Host, Content-Length, Transfer-Encoding or Connection)',
  (s) => HTTP_TOKEN.test(s) && !RESERVED_HEADERS.has(s.toLowerCase()),
);
const HeaderValue = checkedString('a header value of printable ASCII characters', (s) => /^[\x20-\x7e]*$/.test(s));

const Prefix = checkedString('1-15 ASCII digits (no "+")', (s) => /^[0-9]{1,15}$/.test(s));

/** A fallback destination, classified at boot like a CRM answer (allowedPrefixes do not apply: the operator is trusted). */
export const FallbackDestination = parsedString(
  'a phone number (3-15 digits) or a SIP login ("user" or "user@host")',
  (s) => {
    const d = classifyDestination(s, {});
    return E.isRight(d) ? d.right : undefined;
  },
  showDestination,
);

export const Fallback = taggedBy('a fallback ({"action": "dialplan"} or {"action": "bridge", "destination": ...})', 'action', {
  dialplan: struct('a fallback object', { action: oneOf(['dialplan']) }),
  bridge: struct('a fallback object', { action: oneOf(['bridge']), destination: FallbackDestination }),
});
export type Fallback = t.TypeOf<typeof Fallback>;

// ---- scheme ----------------------------------------------------------------

const SchemeFields = struct(
  'a scheme object',
  {
    name: SafeToken,
    url: HttpUrl,
    method: withDefault(Method, 'POST'),
    submit: withDefault(Submit, 'json'),
    import: withDefault(Import, 'json'),
    callTimeout: withDefault(CallTimeout, 30),
    responseTimeout: withDefault(ResponseTimeout, 5),
    ringbackAfterMs: withDefault(RingbackAfterMs, 200),
    params: withDefault(mapOf('an object of parameter name → value', ParamName, Template), {}),
    headers: withDefault(mapOf('an object of header name → value', HeaderName, HeaderValue), {}),
    gateway: SafeToken,
    fallback: withDefault(Fallback, { action: 'dialplan' }),
    paramsIn: withDefault(ParamsIn, 'query-or-body'),
  },
  {
    destinationField: FieldPath,
    rpcMethod: RpcMethod,
    sipDomain: HostName,
    allowedPrefixes: arrayOf('a non-empty array of digit prefixes', Prefix, 1),
    extensions: SafePattern,
    loginDomains: arrayOf('a non-empty array of host names', HostName, 1),
  },
);

const CheckedScheme = checked(SchemeFields, (s, c) => {
  const problems: t.ValidationError[] = [];
  if ((s.submit === 'jsonrpc' || s.import === 'jsonrpc') && s.rpcMethod === undefined) {
    problems.push(problemAt(c, ['rpcMethod'], undefined, 'expected a JSON-RPC method name (required when submit or import is "jsonrpc"), got nothing'));
  }
  if (s.import === 'json' && s.destinationField === undefined) {
    problems.push(problemAt(c, ['destinationField'], undefined, 'expected a field name (required when import is "json"), got nothing'));
  }
  if (s.paramsIn === 'headers') {
    if (s.submit !== 'http') {
      problems.push(problemAt(c, ['paramsIn'], s.paramsIn, `expected "query-or-body" (only submit "http" can send parameters as headers), got "headers"`));
    }
    const configured = new Set(Object.keys(s.headers).map((h) => h.toLowerCase()));
    for (const name of Object.keys(s.params)) {
      const lower = name.toLowerCase();
      if (!HTTP_TOKEN.test(name)) {
        problems.push(problemAt(c, ['params', name], name, `expected the name to be an HTTP header name (paramsIn is "headers"), got ${quoted(name)}`));
      } else if (RESERVED_HEADERS.has(lower)) {
        problems.push(
          problemAt(c, ['params', name], name, `expected the name of a header the HTTP client does not own (not Host, Content-Length, Transfer-Encoding or Connection; paramsIn is "headers"), got ${quoted(name)}`),
        );
      } else if (configured.has(lower)) {
        problems.push(problemAt(c, ['params', name], name, `expected a name other than a configured header's (paramsIn is "headers"), got ${quoted(name)}`));
      }
    }
  }
  return problems;
});

/** A fallback's digits that the scheme's `extensions` match are that extension, as they would be in a CRM answer. */
function withExtensionFallback(s: t.TypeOf<typeof CheckedScheme>): t.TypeOf<typeof CheckedScheme> {
  if (s.extensions === undefined || s.fallback.action !== 'bridge' || s.fallback.destination._tag !== 'PhoneNumber') return s;
  const d = classifyDestination(showDestination(s.fallback.destination), { extensions: s.extensions });
  return E.isRight(d) ? { ...s, fallback: { action: 'bridge', destination: d.right } } : s;
}

/** A scheme: one CRM integration. Cross-field rules are checked here so a decoded Scheme is usable as is. */
export const Scheme = new t.Type<t.TypeOf<typeof CheckedScheme>, unknown, unknown>(
  CheckedScheme.name,
  CheckedScheme.is,
  (u, c) => E.map(withExtensionFallback)(CheckedScheme.validate(u, c)),
  CheckedScheme.encode,
);
export type Scheme = t.TypeOf<typeof Scheme>;

// ---- selection and the whole file ------------------------------------------

export const VariableName = checkedString('a channel variable name (letters, digits, "_")', (s) => /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(s));

export const Selection = struct('a selection object', {
  variable: withDefault(VariableName, 'crm_scheme'),
  byCalledNumber: withDefault(arrayOf('an array of {"pattern", "scheme"} rules', struct('a rule object', { pattern: SafePattern, scheme: SafeToken })), []),
  default: withDefault(SafeToken, 'default'),
});
export type Selection = t.TypeOf<typeof Selection>;

/** `listen.allow` entries: an address (a range of one) or a CIDR range, IPv4 or IPv6. */
export const PeerRange = parsedString(
  'an IPv4 or IPv6 address or CIDR range (e.g. "192.0.2.10", "10.0.0.0/8", "fd00::/64")',
  (s) => {
    const [network = '', prefixText, ...more] = s.split('/');
    const version = isIP(network);
    // A zone index (`fe80::1%eth0`) names an interface, not addresses.
    if (version === 0 || network.includes('%') || more.length > 0) return undefined;
    const bits = version === 4 ? 32 : 128;
    if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
    const prefix = prefixText === undefined ? bits : Number(prefixText);
    if (prefix > bits) return undefined;
    return { source: s, family: version === 4 ? ('ipv4' as const) : ('ipv6' as const), network, prefix };
  },
  (r: { readonly source: string }) => r.source,
);
export type PeerRange = t.TypeOf<typeof PeerRange>;

const range = (source: string): PeerRange => {
  const decoded = PeerRange.decode(source);
  if (E.isLeft(decoded)) throw new Error(`not a range: ${source}`);
  return decoded.right;
};

/** What `listen.allow` is when a loopback `listen.host` leaves it out (IPv4-mapped peers match the IPv4 range). */
export const LOOPBACK: readonly PeerRange[] = [range('127.0.0.0/8'), range('::1')];

const loopback = new BlockList();
for (const r of LOOPBACK) loopback.addSubnet(r.network, r.prefix, r.family);

/** Whether only this machine can reach `host`: `localhost` or a loopback address. */
export const isLoopbackHost = (host: string): boolean =>
  host === 'localhost' || (isIP(host) !== 0 && loopback.check(host, isIP(host) === 4 ? 'ipv4' : 'ipv6'));

const MaxConnections = checkedNumber('an integer number of connections 1..1000000', (n) => Number.isInteger(n) && n >= 1 && n <= 1_000_000);

const ListenFields = struct(
  'a listen object',
  {
    host: withDefault(ListenHost, '127.0.0.1'),
    port: withDefault(Port, 8084),
    maxConnections: withDefault(MaxConnections, 10_000),
  },
  { allow: arrayOf('a non-empty array of addresses or CIDR ranges', PeerRange, 1) },
);

/**
 * Where the router listens and who may connect. Left out, `allow` is loopback only when the router
 * listens on loopback, and anyone otherwise (a start-up warning says so: see configWarnings); decoded,
 * `allow` undefined means anyone.
 */
export const Listen = new t.Type<t.TypeOf<typeof ListenFields>, unknown, unknown>(
  ListenFields.name,
  ListenFields.is,
  (u, c) => {
    const decoded = ListenFields.validate(u, c);
    if (E.isLeft(decoded) || decoded.right.allow !== undefined || !isLoopbackHost(decoded.right.host)) return decoded;
    return t.success({ ...decoded.right, allow: LOOPBACK });
  },
  t.identity,
);

// ---- operating the process: admin listener, shutdown --------------------------

/** `null` turns the setting off; anything else must pass `codec`. */
const orNull = <C extends t.Mixed>(codec: C): t.Type<t.TypeOf<C> | null, unknown, unknown> =>
  new t.Type<t.TypeOf<C> | null, unknown, unknown>(
    `${codec.name} or null`,
    (u): u is t.TypeOf<C> | null => u === null || codec.is(u),
    (u, c) => (u === null ? t.success(null) : codec.validate(u, c)),
    t.identity,
  );

export const DEFAULT_ADMIN_LISTEN = { host: '127.0.0.1', port: 9084 } as const;

/** The HTTP listener for /metrics, /healthz and /readyz; `listen: null` runs without it. */
export const Admin = struct('an admin object', {
  listen: withDefault(orNull(struct('an admin listen object', { host: withDefault(ListenHost, '127.0.0.1'), port: withDefault(Port, 9084) })), DEFAULT_ADMIN_LISTEN),
});
export type Admin = t.TypeOf<typeof Admin>;

const DrainSeconds = checkedNumber('a number of seconds 0..3600', (n) => n >= 0 && n <= 3600);

/** On SIGTERM, how long calls in progress get to make their decision before the process exits anyway. */
export const Shutdown = struct('a shutdown object', { drainSeconds: withDefault(DrainSeconds, 30) });

const ConfigFields = struct('a configuration object', {
  listen: withDefault(Listen, { host: '127.0.0.1', port: 8084, maxConnections: 10_000, allow: LOOPBACK }),
  logLevel: withDefault(LogLevel, 'info'),
  admin: withDefault(Admin, { listen: DEFAULT_ADMIN_LISTEN }),
  shutdown: withDefault(Shutdown, { drainSeconds: 30 }),
  selection: withDefault(Selection, { variable: 'crm_scheme', byCalledNumber: [], default: 'default' }),
  schemes: arrayOf('a non-empty array of schemes', Scheme, 1),
});

/** The whole file. Scheme names are unique and every name the selection uses exists. */
export const Config = checked(ConfigFields, (cfg, c) => {
  const problems: t.ValidationError[] = [];
  const names = new Set<string>();
  cfg.schemes.forEach((s, i) => {
    if (names.has(s.name)) problems.push(problemAt(c, ['schemes', i, 'name'], s.name, `expected a name not used by an earlier scheme, got ${quoted(s.name)}`));
    names.add(s.name);
  });
  const known = `one of ${[...names].map(quoted).join(', ')}`;
  const refer = (keys: ReadonlyArray<string | number>, name: string): void => {
    if (!names.has(name)) problems.push(problemAt(c, keys, name, `expected the name of a configured scheme (${known}), got ${quoted(name)}`));
  };
  refer(['selection', 'default'], cfg.selection.default);
  cfg.selection.byCalledNumber.forEach((rule, i) => refer(['selection', 'byCalledNumber', i, 'scheme'], rule.scheme));
  return problems;
});
export type Config = t.TypeOf<typeof Config>;

/** Things that decode but deserve a word at start-up. */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.listen.allow === undefined) {
    warnings.push(
      `listen.allow: the router listens on ${config.listen.host}, which is not loopback, and takes calls from anyone who connects; set listen.allow to FreeSWITCH's addresses`,
    );
  }
  config.schemes.forEach((s, i) => {
    const at = `schemes[${i}]`;
    if (s.submit !== 'http' && s.method !== 'POST') {
      warnings.push(`${at}.method: submit "${s.submit}" always uses POST; the configured "${s.method}" is ignored`);
    }
    if (s.import === 'http' && s.destinationField !== undefined) {
      warnings.push(`${at}.destinationField: unused, import "http" reads the whole body`);
    }
    if (s.submit !== 'jsonrpc' && s.import !== 'jsonrpc' && s.rpcMethod !== undefined) {
      warnings.push(`${at}.rpcMethod: unused, neither submit nor import is "jsonrpc"`);
    }
    if (s.allowedPrefixes === undefined) {
      warnings.push(
        `${at}.allowedPrefixes: scheme "${s.name}" sends any phone number its CRM answers through gateway "${s.gateway}" (toll-fraud risk); list the prefixes it may call`,
      );
    }
  });
  return warnings;
}
