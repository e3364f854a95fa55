import { expect } from 'chai';
import type { RoutingFailure } from '../../lib/core/failure.ts';
import { routingFailureFacts } from '../../lib/telephony/call-record.ts';

describe('telephony/call-record, a CRM failure on the call line', () => {
  it("carries the failure's whole detail as README's Troubleshooting promises, and its figures as crmStatus/crmMs", () => {
    const failures: RoutingFailure[] = [
      { _tag: 'UnsafeDestination', raw: '12;x=1', reason: 'not digits', status: 200, ms: 12.34 },
      { _tag: 'ForbiddenDestination', number: '900123' },
      { _tag: 'ForbiddenDestination', login: 'op', domain: 'evil.example' },
      { _tag: 'JsonRpcError', code: -32601, message: 'Method not found' },
      { _tag: 'CrmTimeout', timeoutMs: 3000, ms: 3001 },
    ];
    expect(failures.map(routingFailureFacts)).to.deep.equal([
      { failure: 'UnsafeDestination', crmStatus: 200, crmMs: 12.3, raw: '12;x=1', reason: 'not digits' },
      { failure: 'ForbiddenDestination', number: '900123' },
      { failure: 'ForbiddenDestination', login: 'op', domain: 'evil.example' },
      { failure: 'JsonRpcError', code: -32601, message: 'Method not found' },
      { failure: 'CrmTimeout', crmMs: 3001, timeoutMs: 3000 },
    ]);
  });
});
