import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig, formatProblems, type LoadedConfig } from '../../lib/config/load.ts';

const SCHEME = { name: 'default', url: 'http://127.0.0.1:8090/route', destinationField: 'number_01', gateway: 'pstn', allowedPrefixes: ['380'] };

const decode = (listen: unknown): E.Either<string[], LoadedConfig> => {
  const r = decodeConfig(listen === undefined ? { schemes: [SCHEME] } : { listen, schemes: [SCHEME] });
  return E.isLeft(r) ? E.left(formatProblems(r.left).split('\n')) : E.right(r.right);
};
const ok = (listen: unknown): LoadedConfig => {
  const r = decode(listen);
  if (E.isLeft(r)) throw new Error(r.left.join('\n'));
  return r.right;
};
const problems = (listen: unknown): string[] => {
  const r = decode(listen);
  if (E.isRight(r)) throw new Error('expected the config to be refused');
  return r.left;
};
const sources = (c: LoadedConfig): string[] | undefined => c.config.listen.allow?.map((r) => r.source);

describe('config: listen.allow and listen.maxConnections', () => {
  it('decodes addresses and CIDR ranges, IPv4 and IPv6, into ranges', () => {
    const { config } = ok({ allow: ['192.0.2.10', '10.0.0.0/8', 'fd00::/64', '2001:db8::1', '0.0.0.0/0'] });
    expect(config.listen.allow?.map((r) => [r.family, r.network, r.prefix])).to.deep.equal([
      ['ipv4', '192.0.2.10', 32],
      ['ipv4', '10.0.0.0', 8],
      ['ipv6', 'fd00::', 64],
      ['ipv6', '2001:db8::1', 128],
      ['ipv4', '0.0.0.0', 0],
    ]);
  });

  it('refuses what is not an address or range, at the exact entry', () => {
    const expected = 'expected an IPv4 or IPv6 address or CIDR range (e.g. "192.0.2.10", "10.0.0.0/8", "fd00::/64")';
    expect(problems({ allow: ['10.0.0.1', '10.0.0.300', 'pbx.example.com', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/', '10.0.0.0/8/8', 'fe80::1%eth0', '10.0.0.0/-1', 7] })).to.deep.equal([
      `listen.allow[1]: ${expected}, got "10.0.0.300"`,
      `listen.allow[2]: ${expected}, got "pbx.example.com"`,
      `listen.allow[3]: ${expected}, got "10.0.0.0/33"`,
      `listen.allow[4]: ${expected}, got "fd00::/129"`,
      `listen.allow[5]: ${expected}, got "10.0.0.0/"`,
      `listen.allow[6]: ${expected}, got "10.0.0.0/8/8"`,
      `listen.allow[7]: ${expected}, got "fe80::1%eth0"`,
      `listen.allow[8]: ${expected}, got "10.0.0.0/-1"`,
      `listen.allow[9]: ${expected}, got 7`,
    ]);
    expect(problems({ allow: [] })).to.deep.equal(['listen.allow: expected a non-empty array of addresses or CIDR ranges, got []']);
    expect(problems({ allow: '10.0.0.0/8' })).to.deep.equal(['listen.allow: expected a non-empty array of addresses or CIDR ranges, got "10.0.0.0/8"']);
  });

  it('allows loopback only when it listens on loopback and no allow-list is given, without a warning', () => {
    for (const host of [undefined, '127.0.0.1', '127.0.0.53', '::1', 'localhost']) {
      const loaded = ok(host === undefined ? undefined : { host });
      expect(sources(loaded), String(host)).to.deep.equal(['127.0.0.0/8', '::1']);
      expect(loaded.warnings, String(host)).to.deep.equal([]);
    }
  });

  it('warns at start-up when it listens on a non-loopback address with no allow-list, and lets anyone connect', () => {
    for (const host of ['0.0.0.0', '::', '192.0.2.1', 'router.example.com']) {
      const loaded = ok({ host });
      expect(loaded.config.listen.allow, host).to.equal(undefined);
      expect(loaded.warnings, host).to.deep.equal([
        `listen.allow: the router listens on ${host}, which is not loopback, and takes calls from anyone who connects; set listen.allow to FreeSWITCH's addresses`,
      ]);
    }
    const listed = ok({ host: '0.0.0.0', allow: ['192.0.2.0/24'] });
    expect([sources(listed), listed.warnings]).to.deep.equal([['192.0.2.0/24'], []]);
  });

  it('takes maxConnections as a positive integer, 10,000 by default', () => {
    expect(ok(undefined).config.listen.maxConnections).to.equal(10_000);
    expect(ok({ maxConnections: 50 }).config.listen.maxConnections).to.equal(50);
    for (const bad of [0, -1, 1.5, '100', 2_000_000]) {
      expect(problems({ maxConnections: bad })).to.deep.equal([`listen.maxConnections: expected an integer number of connections 1..1000000, got ${JSON.stringify(bad)}`]);
    }
  });
});
