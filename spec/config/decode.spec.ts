import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig, formatProblems, loadConfig, type LoadedConfig } from '../../lib/config/load.ts';

const scheme = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'default',
  url: 'http://127.0.0.1:8090/route',
  destinationField: 'number_01',
  gateway: 'pstn',
  ...extra,
});

const ok = (json: unknown): LoadedConfig => {
  const r = decodeConfig(json);
  if (E.isLeft(r)) throw new Error(formatProblems(r.left));
  return r.right;
};

/** The problem lines for a config expected to be refused. */
const problems = (json: unknown): string[] => {
  const r = decodeConfig(json);
  if (E.isRight(r)) throw new Error('expected the config to be refused');
  return formatProblems(r.left).split('\n');
};

const withScheme = (extra: Record<string, unknown>): unknown => ({ schemes: [scheme(extra)] });

describe('config decoding', () => {
  describe('defaults', () => {
    it('fills every optional setting', () => {
      const { config } = ok({ schemes: [scheme()] });
      expect(config.listen).to.deep.include({ host: '127.0.0.1', port: 8084, maxConnections: 10_000 });
      expect(config.logLevel).to.equal('info');
      expect(config.selection).to.deep.equal({ variable: 'crm_scheme', byCalledNumber: [], default: 'default' });
      const s = config.schemes[0];
      expect(s).to.include({ method: 'POST', submit: 'json', import: 'json', callTimeout: 30, responseTimeout: 5, ringbackAfterMs: 200, paramsIn: 'query-or-body' });
      expect(s?.params).to.deep.equal({});
      expect(s?.headers).to.deep.equal({});
      expect(s?.fallback).to.deep.equal({ action: 'dialplan' });
      expect(s?.allowedPrefixes).to.equal(undefined);
    });

    it('compiles templates, field paths, patterns and the fallback destination at boot', () => {
      const { config } = ok({
        selection: { byCalledNumber: [{ pattern: '^555', scheme: 'default' }] },
        schemes: [
          scheme({
            destinationField: 'data.agent.number',
            params: { who: 'n=${caller_id_number}!' },
            fallback: { action: 'bridge', destination: '+38 (044) 123-45-67' },
          }),
        ],
      });
      const s = config.schemes[0];
      expect(s?.destinationField?.segments).to.deep.equal(['data', 'agent', 'number']);
      expect(s?.params['who']?.parts).to.deep.equal(['n=', { variable: 'caller_id_number' }, '!']);
      expect(s?.fallback).to.deep.equal({ action: 'bridge', destination: { _tag: 'PhoneNumber', number: '380441234567' } });
      expect(config.selection.byCalledNumber[0]?.pattern.test('5551')).to.equal(true);
    });

    it('takes a fallback\'s digits that extensions match as that extension, as in a CRM answer', () => {
      const bridge = (destination: string) => ({ action: 'bridge', destination });
      const [ext, pstn] = ok({
        schemes: [scheme({ extensions: '^1\\d{3}$', fallback: bridge('1000') }), scheme({ name: 'b', extensions: '^1\\d{3}$', fallback: bridge('380441234567') })],
      }).config.schemes;
      expect(ext?.fallback).to.deep.equal({ action: 'bridge', destination: { _tag: 'SipLogin', login: '1000' } });
      expect(pstn?.fallback).to.deep.equal({ action: 'bridge', destination: { _tag: 'PhoneNumber', number: '380441234567' } });
      expect(ok(withScheme({ fallback: bridge('1000') })).config.schemes[0]?.fallback).to.deep.equal({ action: 'bridge', destination: { _tag: 'PhoneNumber', number: '1000' } });
    });

    it('accepts the linear patterns operators write, including nested optional groups', () => {
      const rules = ['^380', '^(?:\\+?38)?0\\d{9}$', '^(380441234567|380441234568)$', '^5{3}\\d+$'].map((pattern) => ({ pattern, scheme: 'default' }));
      expect(ok({ selection: { byCalledNumber: rules }, schemes: [scheme({ extensions: '^[1-9]\\d{2,4}$' })] }).config.selection.byCalledNumber).to.have.length(4);
    });

    it('lets parameters named like reserved headers travel in the query or body', () => {
      expect(ok(withScheme({ submit: 'http', params: { host: 'pbx1', connection: 'x' } })).config.schemes[0]?.params).to.have.keys('host', 'connection');
    });

    it('freezes the whole config', () => {
      const { config } = ok(withScheme({ params: { a: 'b' }, allowedPrefixes: ['380'] }));
      expect(Object.isFrozen(config)).to.equal(true);
      expect(Object.isFrozen(config.schemes)).to.equal(true);
      expect(Object.isFrozen(config.schemes[0]?.params['a']?.parts)).to.equal(true);
      expect(Object.isFrozen(config.schemes[0]?.allowedPrefixes)).to.equal(true);
    });
  });

  describe('one path-precise line per mistake', () => {
    const cases: Array<[string, unknown, string[]]> = [
      ['wrong enum', { schemes: [scheme(), scheme({ name: 'b', method: 'PATCH' })] }, ['schemes[1].method: expected GET|POST|PUT|DELETE, got "PATCH"']],
      ['wrong submit', withScheme({ submit: 'xml' }), ['schemes[0].submit: expected http|json|jsonrpc, got "xml"']],
      ['missing field', { schemes: [{ name: 'x', gateway: 'pstn', destinationField: 'n' }] }, ['schemes[0].url: expected an http or https URL, got nothing']],
      ['wrong type', withScheme({ callTimeout: '30' }), ['schemes[0].callTimeout: expected an integer number of seconds 1..3600, got "30"']],
      ['out of bounds', withScheme({ responseTimeout: 0 }), ['schemes[0].responseTimeout: expected a number of seconds > 0 and <= 60, got 0']],
      ['non-integer', withScheme({ callTimeout: 2.5 }), ['schemes[0].callTimeout: expected an integer number of seconds 1..3600, got 2.5']],
      ['ringback too late', withScheme({ ringbackAfterMs: 60_001 }), ['schemes[0].ringbackAfterMs: expected an integer number of milliseconds 0..60000, got 60001']],
      ['misspelt setting', withScheme({ metod: 'GET' }), ['schemes[0].metod: unknown setting']],
      ['unknown top-level setting', { schemes: [scheme()], loglevel: 'info' }, ['loglevel: unknown setting']],
      ['unknown nested setting', { listen: { host: '127.0.0.1', prot: 1 }, schemes: [scheme()] }, ['listen.prot: unknown setting']],
      ['bad URL', withScheme({ url: 'not a url' }), ['schemes[0].url: expected an http or https URL, got "not a url"']],
      ['non-http URL', withScheme({ url: 'ftp://crm/route' }), ['schemes[0].url: expected an http or https URL, got "ftp://crm/route"']],
      ['duplicate scheme names', { schemes: [scheme(), scheme()] }, ['schemes[1].name: expected a name not used by an earlier scheme, got "default"']],
      [
        'selection names an unknown scheme',
        { selection: { default: 'sales' }, schemes: [scheme()] },
        ['selection.default: expected the name of a configured scheme (one of "default"), got "sales"'],
      ],
      [
        'rule names an unknown scheme',
        { selection: { byCalledNumber: [{ pattern: '^1', scheme: 'default' }, { pattern: '^2', scheme: 'x' }] }, schemes: [scheme()] },
        ['selection.byCalledNumber[1].scheme: expected the name of a configured scheme (one of "default"), got "x"'],
      ],
      ['bad pattern', { selection: { byCalledNumber: [{ pattern: '(', scheme: 'default' }] }, schemes: [scheme()] }, ['selection.byCalledNumber[0].pattern: expected a regular expression, got "("']],
      [
        'rpcMethod missing for jsonrpc',
        withScheme({ submit: 'jsonrpc' }),
        ['schemes[0].rpcMethod: expected a JSON-RPC method name (required when submit or import is "jsonrpc"), got nothing'],
      ],
      [
        'destinationField missing for json import',
        { schemes: [{ name: 'a', url: 'http://crm/', gateway: 'pstn' }] },
        ['schemes[0].destinationField: expected a field name (required when import is "json"), got nothing'],
      ],
      ['empty segment in destinationField', withScheme({ destinationField: 'data..number' }), ['schemes[0].destinationField: expected a field name or dotted path such as "data.agent.number", got "data..number"']],
      [
        'bad fallback destination',
        withScheme({ fallback: { action: 'bridge', destination: '1000,user/evil' } }),
        ['schemes[0].fallback.destination: expected a phone number (3-15 digits) or a SIP login ("user" or "user@host"), got "1000,user/evil"'],
      ],
      ['bad fallback action', withScheme({ fallback: { action: 'hangup' } }), ['schemes[0].fallback.action: expected dialplan|bridge, got "hangup"']],
      ['fallback destination missing', withScheme({ fallback: { action: 'bridge' } }), ['schemes[0].fallback.destination: expected a phone number (3-15 digits) or a SIP login ("user" or "user@host"), got nothing']],
      [
        'bad gateway token',
        withScheme({ gateway: 'pstn/../x' }),
        ['schemes[0].gateway: expected a name of letters, digits, ".", "_" or "-" (1-64 characters, starting with a letter or digit), got "pstn/../x"'],
      ],
      ['bad sipDomain', withScheme({ sipDomain: 'example.com;transport=tcp' }), ['schemes[0].sipDomain: expected a host name (letters, digits, "-", dot-separated), got "example.com;transport=tcp"']],
      ['prefix with +', withScheme({ allowedPrefixes: ['380', '+44'] }), ['schemes[0].allowedPrefixes[1]: expected 1-15 ASCII digits (no "+"), got "+44"']],
      ['empty prefix list', withScheme({ allowedPrefixes: [] }), ['schemes[0].allowedPrefixes: expected a non-empty array of digit prefixes, got []']],
      ['unclosed template', withScheme({ params: { who: '${caller_id_number' } }), ['schemes[0].params.who: expected a string ("${name}" inserts a channel variable), got "${caller_id_number"']],
      ['non-string param', withScheme({ params: { n: 1 } }), ['schemes[0].params.n: expected a string ("${name}" inserts a channel variable), got 1']],
      ['header with CR/LF', withScheme({ headers: { Authorization: 'Bearer x\r\nX-Evil: 1' } }), ['schemes[0].headers.Authorization: expected a header value of printable ASCII characters, got "Bearer x\\r\\nX-Evil: 1"']],
      ['reserved header', withScheme({ headers: { Host: 'evil' } }), ['schemes[0].headers.Host: expected the name to be an HTTP header name (not Host, Content-Length, Transfer-Encoding or Connection), got "Host"']],
      ['paramsIn headers without submit http', withScheme({ paramsIn: 'headers' }), ['schemes[0].paramsIn: expected "query-or-body" (only submit "http" can send parameters as headers), got "headers"']],
      [
        'param name unusable as a header',
        withScheme({ submit: 'http', paramsIn: 'headers', params: { 'a:b': 'x' } }),
        ['schemes[0].params["a:b"]: expected the name to be an HTTP header name (paramsIn is "headers"), got "a:b"'],
      ],
      ...['Host', 'content-length', 'Transfer-Encoding', 'CONNECTION'].map((name): [string, unknown, string[]] => [
        `reserved header ${name} as a parameter`,
        withScheme({ submit: 'http', paramsIn: 'headers', params: { [name]: 'x' } }),
        [`schemes[0].params${/-/.test(name) ? `["${name}"]` : `.${name}`}: expected the name of a header the HTTP client does not own (not Host, Content-Length, Transfer-Encoding or Connection; paramsIn is "headers"), got "${name}"`],
      ]),
      [
        'configured header as a parameter',
        withScheme({ submit: 'http', paramsIn: 'headers', headers: { Authorization: 'Bearer t' }, params: { authorization: '${caller_id_number}' } }),
        ['schemes[0].params.authorization: expected a name other than a configured header\'s (paramsIn is "headers"), got "authorization"'],
      ],
      ['param name with a space', withScheme({ params: { 'a b': 'x' } }), ['schemes[0].params["a b"]: expected the name to be 1-128 printable ASCII characters without spaces, got "a b"']],
      [
        'called-number pattern with exponential backtracking',
        { selection: { byCalledNumber: [{ pattern: '^380', scheme: 'default' }, { pattern: '^(\\d+)+$', scheme: 'default' }] }, schemes: [scheme()] },
        ['selection.byCalledNumber[1].pattern: expected a regular expression that runs in linear time, got "^(\\\\d+)+$" (exponential backtracking, found by recheck)'],
      ],
      [
        'called-number pattern with polynomial backtracking',
        { selection: { byCalledNumber: [{ pattern: '^\\d*\\d*x$', scheme: 'default' }] }, schemes: [scheme()] },
        ['selection.byCalledNumber[0].pattern: expected a regular expression that runs in linear time, got "^\\\\d*\\\\d*x$" (polynomial backtracking, found by recheck)'],
      ],
      [
        'extensions with exponential backtracking',
        withScheme({ extensions: '^(1|1)*$' }),
        ['schemes[0].extensions: expected a regular expression that runs in linear time, got "^(1|1)*$" (exponential backtracking, found by recheck)'],
      ],
      [
        'over-long pattern',
        withScheme({ extensions: `^(${'1'.repeat(600)})$` }),
        ['schemes[0].extensions: expected a regular expression of at most 512 characters, got 604 characters'],
      ],
      ['bad extensions pattern', withScheme({ extensions: '^[1-9' }), ['schemes[0].extensions: expected a regular expression, got "^[1-9"']],
      ['extensions not a string', withScheme({ extensions: 1000 }), ['schemes[0].extensions: expected a regular expression, got 1000']],
      ['bad login domain', withScheme({ loginDomains: ['pbx.example.com', 'evil;transport=tcp'] }), ['schemes[0].loginDomains[1]: expected a host name (letters, digits, "-", dot-separated), got "evil;transport=tcp"']],
      ['empty loginDomains', withScheme({ loginDomains: [] }), ['schemes[0].loginDomains: expected a non-empty array of host names, got []']],
      ['no schemes', { schemes: [] }, ['schemes: expected a non-empty array of schemes, got []']],
      ['bad log level', { logLevel: 'verbose', schemes: [scheme()] }, ['logLevel: expected fatal|error|warn|info|debug|trace|silent, got "verbose"']],
      ['bad port', { listen: { port: 70000 }, schemes: [scheme()] }, ['listen.port: expected an integer port 0..65535, got 70000']],
      ['not an object', [], ['(root): expected a configuration object, got []']],
      ['__proto__ key', JSON.parse('{"schemes":[{"name":"a","url":"http://x/","gateway":"g","destinationField":"n","__proto__":{"x":1}}]}'), ['schemes[0].__proto__: unknown setting']],
    ];
    for (const [what, json, expected] of cases) {
      it(what, () => expect(problems(json)).to.deep.equal(expected));
    }

    it('shows a value nested too deep for JSON.stringify, or megabytes long, cut short instead of throwing', () => {
      let deep: unknown = [];
      for (let i = 0; i < 10_000; i++) deep = [deep];
      expect(problems({ listen: deep, schemes: [scheme()] })).to.deep.equal(['listen: expected a listen object, got [[[[...]]]]']);
      expect(problems(withScheme({ gateway: 'x'.repeat(1_000_000) }))).to.deep.equal([
        `schemes[0].gateway: expected a name of letters, digits, ".", "_" or "-" (1-64 characters, starting with a letter or digit), got "${'x'.repeat(120)}"...(1000000 chars)`,
      ]);
    });

    it('ignores keys starting with // (comments)', () => {
      expect(ok({ '//': 'top', schemes: [scheme({ '// why': 'because' })] }).config.schemes).to.have.length(1);
    });

    it('reports every problem, not just the first', () => {
      const lines = problems({ schemes: [scheme({ method: 'PATCH', gateway: 'a b' }), scheme({ name: 'b', metod: 'GET' })] });
      expect(lines).to.have.length(3);
    });
  });

  describe('warnings', () => {
    it('says that json and jsonrpc submission force POST', () => {
      const { warnings } = ok({
        schemes: [scheme({ method: 'GET', allowedPrefixes: ['380'] }), scheme({ name: 'r', submit: 'jsonrpc', rpcMethod: 'route', method: 'PUT', allowedPrefixes: ['380'] })],
      });
      expect(warnings).to.deep.equal([
        'schemes[0].method: submit "json" always uses POST; the configured "GET" is ignored',
        'schemes[1].method: submit "jsonrpc" always uses POST; the configured "PUT" is ignored',
      ]);
    });

    it('names settings that have no effect', () => {
      const { warnings } = ok(withScheme({ import: 'http', submit: 'http', rpcMethod: 'x', allowedPrefixes: ['380'] }));
      expect(warnings).to.deep.equal([
        'schemes[0].destinationField: unused, import "http" reads the whole body',
        'schemes[0].rpcMethod: unused, neither submit nor import is "jsonrpc"',
      ]);
    });

    it('names a scheme whose gateway takes any number (no allowedPrefixes: the toll-fraud guard is off)', () => {
      const { warnings } = ok({ schemes: [scheme({ allowedPrefixes: ['380'] }), scheme({ name: 'sales', gateway: 'carrier1' })] });
      expect(warnings).to.deep.equal([
        'schemes[1].allowedPrefixes: scheme "sales" sends any phone number its CRM answers through gateway "carrier1" (toll-fraud risk); list the prefixes it may call',
      ]);
    });

    it('is silent for a clean config', () => expect(ok(withScheme({ allowedPrefixes: ['380'] })).warnings).to.deep.equal([]));
  });
});

describe('config loading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crm-router-config-'));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('loads the shipped default config', () => {
    const r = loadConfig('conf/crm-router.json');
    expect(E.isRight(r) && r.right.config.schemes[0]?.name).to.equal('default');
    expect(E.isRight(r) && r.right.warnings).to.deep.equal([]);
  });

  it('loads the shipped example schemes', () => {
    const r = loadConfig('conf/example-schemes.json');
    if (E.isLeft(r)) throw new Error(formatProblems(r.left));
    expect(r.right.config.schemes.map((s) => `${s.submit}/${s.import}`)).to.include.members(['http/http', 'json/json', 'jsonrpc/jsonrpc']);
    expect(r.right.warnings, 'every shipped scheme keeps the toll-fraud guard on').to.deep.equal([]);
  });

  it('gives line and column of invalid JSON', () => {
    const r = loadConfig(file('bad.json', '{\n  "schemes": [\n    { "name": "a", }\n  ]\n}'));
    expect(E.isLeft(r) && formatProblems(r.left)).to.match(/^\(root\): invalid JSON at line 3, column 20: /);
  });

  it('names a missing file', () => {
    const r = loadConfig(join(dir, 'nope.json'));
    expect(E.isLeft(r) && formatProblems(r.left)).to.equal(`(root): cannot read ${join(dir, 'nope.json')}: ENOENT`);
  });

  it('decodes a file the same as decodeConfig', () => {
    const r = loadConfig(file('ok.json', JSON.stringify(withScheme({ method: 'PATCH' }))));
    expect(E.isLeft(r) && formatProblems(r.left)).to.equal('schemes[0].method: expected GET|POST|PUT|DELETE, got "PATCH"');
  });
});
