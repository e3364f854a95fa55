import { expect } from 'chai';
import { dialString } from '../../lib/routing/dial-string.ts';

describe('routing/dial-string', () => {
  it('sends phone numbers through the scheme gateway', () => {
    expect(dialString({ gateway: 'pstn' }, { _tag: 'PhoneNumber', number: '380123456789' })).to.equal('sofia/gateway/pstn/380123456789');
  });
  it('dials a login as a local user, without a domain when none is known', () => {
    expect(dialString({ gateway: 'pstn' }, { _tag: 'SipLogin', login: '1000' })).to.equal('user/1000');
  });
  it('adds the scheme sipDomain to a bare login', () => {
    expect(dialString({ gateway: 'pstn', sipDomain: 'pbx.example.com' }, { _tag: 'SipLogin', login: 'agent' })).to.equal('user/agent@pbx.example.com');
  });
  it("keeps the login's own domain over the scheme's", () => {
    expect(dialString({ gateway: 'pstn', sipDomain: 'pbx.example.com' }, { _tag: 'SipLogin', login: 'agent', domain: 'other.example.com' })).to.equal(
      'user/agent@other.example.com',
    );
  });
});
