import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { classifyDestination, MAX_RAW_LENGTH } from '../../lib/core/destination.ts';

const tagOf = (raw: string, prefixes?: string[]): string => {
  const r = classifyDestination(raw, prefixes === undefined ? {} : { allowedPrefixes: prefixes });
  return E.isRight(r) ? JSON.stringify(r.right) : r.left._tag;
};
const phone = (number: string): string => JSON.stringify({ _tag: 'PhoneNumber', number });
const login = (l: string, domain?: string): string => JSON.stringify(domain === undefined ? { _tag: 'SipLogin', login: l } : { _tag: 'SipLogin', login: l, domain });

describe('core/destination classifyDestination', () => {
  const table: Array<[string, string]> = [
    ['380123456789', phone('380123456789')],
    ['3 80123456789', phone('380123456789')],
    ['+380 (44) 123-45.67', phone('380441234567')],
    ['+380123456789', phone('380123456789')],
    ['  380123456789\r\n', phone('380123456789')],
    ['100', phone('100')],
    ['123456789012345', phone('123456789012345')],
    ['1234567890123456', 'UnsafeDestination'],
    ['12', 'UnsafeDestination'],
    ['++380123456789', 'UnsafeDestination'],
    ['380+123', 'UnsafeDestination'],
    ['[380]123', 'UnsafeDestination'],
    ['agent.smith', login('agent.smith')],
    ['john_doe-2', login('john_doe-2')],
    ['1000@pbx.example.com', login('1000', 'pbx.example.com')],
    ['a'.repeat(64), login('a'.repeat(64))],
    ['a'.repeat(65), 'UnsafeDestination'],
    ['-agent', 'UnsafeDestination'],
    ['agent@-bad.com', 'UnsafeDestination'],
    ['agent@', 'UnsafeDestination'],
    ['john doe', 'UnsafeDestination'],
    ['1000\t', phone('1000')],
    ['10\t00', 'UnsafeDestination'],
    ['', 'EmptyDestination'],
    [' \r\n\t', 'EmptyDestination'],
    ['\u0663\u0668\u0660123456789', 'UnsafeDestination'],
    ['\uff13\uff18\uff10123456789', 'UnsafeDestination'],
  ];
  for (const [raw, expected] of table) {
    it(`${JSON.stringify(raw)} → ${expected}`, () => expect(tagOf(raw)).to.equal(expected));
  }

  it('checks phone numbers, after normalisation, against allowedPrefixes', () => {
    expect(tagOf('+380 44 123 45 67', ['380'])).to.equal(phone('380441234567'));
    expect(tagOf('+44 20 7946 0000', ['380', '49'])).to.equal('ForbiddenDestination');
    expect(classifyDestination('+44 20 7946 0000', { allowedPrefixes: ['380'] })).to.deep.equal(E.left({ _tag: 'ForbiddenDestination', number: '442079460000' }));
  });

  it('takes the words a CRM prints for "no agent", in any case, as an empty answer, not as a SIP login', () => {
    for (const word of ['null', 'undefined', 'none', 'nil', 'false', 'true', 'NaN', 'NULL', 'Null', ' None\n', 'nan', 'TRUE']) {
      expect(tagOf(word), JSON.stringify(word)).to.equal('EmptyDestination');
    }
    expect(tagOf('nullable')).to.equal(login('nullable'));
    expect(tagOf('null@pbx.example.com')).to.equal(login('null', 'pbx.example.com'));
  });

  describe('extensions', () => {
    const rules = { extensions: /^[1-9]\d{2,4}$/, allowedPrefixes: ['380'] };
    const of = (raw: string, r: object = rules) => classifyDestination(raw, r);

    it('takes digits the scheme\'s extensions match as a SIP login, not a phone number', () => {
      expect(of('1001')).to.deep.equal(E.right({ _tag: 'SipLogin', login: '1001' }));
      expect(of(' 10-01\n')).to.deep.equal(E.right({ _tag: 'SipLogin', login: '1001' }));
      expect(of('12')).to.deep.equal(E.left({ _tag: 'UnsafeDestination', raw: '12', reason: 'a phone number needs 3 to 15 digits' }));
    });

    it('leaves other digits a phone number, still under allowedPrefixes', () => {
      expect(of('380441234567')).to.deep.equal(E.right({ _tag: 'PhoneNumber', number: '380441234567' }));
      expect(of('0100')).to.deep.include({ _tag: 'Left' });
      expect(of('+1001'), 'a + marks an international number').to.deep.equal(E.left({ _tag: 'ForbiddenDestination', number: '1001' }));
      expect(of('+1001', { extensions: rules.extensions })).to.deep.equal(E.right({ _tag: 'PhoneNumber', number: '1001' }));
    });

    it('runs the pattern on at most 64 digits (a login\'s longest)', () => {
      const any = { extensions: /^\d+$/ };
      expect(of('1'.repeat(64), any)).to.deep.equal(E.right({ _tag: 'SipLogin', login: '1'.repeat(64) }));
      expect(of('1'.repeat(65), any)).to.deep.include({ _tag: 'Left' });
    });

    it('is off by default: an all-digit value is a phone number', () => expect(tagOf('1001')).to.equal(phone('1001')));
  });

  describe('login domains', () => {
    it('refuses a login naming a domain other than sipDomain when sipDomain is set', () => {
      const rules = { sipDomain: 'pbx.example.com' };
      expect(classifyDestination('agent@tenant2.example.com', rules)).to.deep.equal(
        E.left({ _tag: 'ForbiddenDestination', login: 'agent', domain: 'tenant2.example.com' }),
      );
      expect(classifyDestination('agent@PBX.Example.com', rules), 'DNS names ignore case').to.deep.equal(E.right({ _tag: 'SipLogin', login: 'agent', domain: 'PBX.Example.com' }));
      expect(classifyDestination('agent', rules)).to.deep.equal(E.right({ _tag: 'SipLogin', login: 'agent' }));
    });

    it('allows exactly the configured loginDomains', () => {
      const rules = { sipDomain: 'a.example.com', loginDomains: ['b.example.com', 'c.example.com'] };
      expect(classifyDestination('agent@c.example.com', rules)).to.deep.equal(E.right({ _tag: 'SipLogin', login: 'agent', domain: 'c.example.com' }));
      expect(classifyDestination('agent@a.example.com', rules)).to.deep.equal(E.left({ _tag: 'ForbiddenDestination', login: 'agent', domain: 'a.example.com' }));
    });

    it('allows any host name when neither sipDomain nor loginDomains is set', () => {
      expect(tagOf('agent@anywhere.example.net')).to.equal(login('agent', 'anywhere.example.net'));
    });
  });

  it('does not apply allowedPrefixes to SIP logins', () => expect(tagOf('agent', ['380'])).to.equal(login('agent')));

  it('refuses over-long values before looking at them, keeping a short escaped copy for the log', () => {
    const r = classifyDestination('1'.repeat(MAX_RAW_LENGTH + 1), {});
    expect(E.isLeft(r) && r.left._tag === 'UnsafeDestination' && r.left.raw).to.match(/^1{80}\.\.\.\(321 chars\)$/);
  });

  it('escapes control and non-ASCII characters in the logged raw value', () => {
    const r = classifyDestination('1000\nuser/\u0663\u0000"', {});
    expect(E.isLeft(r) && r.left._tag === 'UnsafeDestination' && r.left.raw).to.equal('1000\\nuser/\\u0663\\u0000\\"');
  });
});
