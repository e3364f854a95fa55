import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import type { Config } from '../../lib/config/codecs.ts';
import { decodeConfig } from '../../lib/config/load.ts';
import { selectScheme } from '../../lib/routing/select-scheme.ts';
import { call } from '../crm/scheme-fixture.ts';

const scheme = (name: string): Record<string, unknown> => ({ name, url: 'http://127.0.0.1:1/', gateway: 'pstn', destinationField: 'n' });
const decoded = decodeConfig({
  selection: { variable: 'crm_scheme', byCalledNumber: [{ pattern: '^555', scheme: 'sales' }, { pattern: '^5', scheme: 'support' }], default: 'default' },
  schemes: [scheme('default'), scheme('sales'), scheme('support')],
});
if (E.isLeft(decoded)) throw new Error('bad config');
const config: Config = decoded.right.config;

const pick = (called: string, variables: Record<string, string> = {}) => selectScheme(config, { ...call, called, variables });

describe('routing/select-scheme', () => {
  it('uses the channel variable first', () => {
    expect(pick('5551000', { crm_scheme: 'support' })).to.deep.include({ reason: 'variable crm_scheme="support"' });
    expect(pick('5551000', { crm_scheme: 'support' }).scheme.name).to.equal('support');
  });
  it('takes the first called-number rule that matches', () => {
    expect(pick('5551000').scheme.name).to.equal('sales');
    expect(pick('5001000').scheme.name).to.equal('support');
  });
  it('falls back to the default', () => {
    const choice = pick('1000');
    expect([choice.scheme.name, choice.reason]).to.deep.equal(['default', 'default']);
  });
  it('passes over a variable naming no scheme, and says so', () => {
    const choice = pick('5551000', { crm_scheme: 'nope' });
    expect([choice.scheme.name, choice.reason]).to.deep.equal(['sales', 'variable crm_scheme="nope" names no scheme; called number matched /^555/']);
  });
  it('matches no rule against a called number over 64 characters, and says so', () => {
    expect(pick(`555${'1'.repeat(61)}`).scheme.name).to.equal('sales');
    const choice = pick(`555${'1'.repeat(62)}`);
    expect([choice.scheme.name, choice.reason]).to.deep.equal(['default', 'called number longer than 64 characters matches no rule; default']);
  });
  it('ignores an empty variable and never reads prototype names', () => {
    expect(pick('1000', { crm_scheme: '' }).reason).to.equal('default');
    expect(pick('1000', JSON.parse('{"constructor":"x"}') as Record<string, string>).scheme.name).to.equal('default');
  });
});
