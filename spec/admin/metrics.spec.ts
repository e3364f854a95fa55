import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { createMetrics } from '../../lib/admin/metrics.ts';
import type { Router } from '../../lib/routing/route.ts';
import { decodeConfig } from '../../lib/config/load.ts';
import type { CallRecord } from '../../lib/telephony/call-record.ts';

/** A call line as the metrics read it; some carry values no real call has, to show they are closed off. */
const line = (fields: Record<string, unknown>): CallRecord => ({ ms: 1, ...fields }) as unknown as CallRecord;

const series = async (metrics: ReturnType<typeof createMetrics>): Promise<string[]> =>
  (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('crm_router_') && !l.endsWith(' 0'));

describe('admin/metrics', () => {
  it('labels a call only with closed sets: an unknown disposition, result or close reason becomes OTHER/unknown/Other', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.recordCall(line({ scheme: 'default', bridge: 'user/a', failure: 'Bridge:EVIL"{x}', fallback: 'dialplan', result: 'fallback-dialplan' }));
    metrics.recordCall(line({ scheme: 'default', result: 'made-up', socketClose: { _tag: 'Strange' } as never }));
    metrics.recordCall(line({ scheme: 'default', failure: 'NotATag', result: 'fallback-dialplan' }));
    expect(await series(metrics)).to.deep.equal([
      'crm_router_calls_total{scheme="default",result="fallback-dialplan"} 2',
      'crm_router_calls_total{scheme="default",result="unknown"} 1',
      'crm_router_fallbacks_total{scheme="default",reason="Bridge"} 1',
      'crm_router_fallbacks_total{scheme="default",reason="Other"} 1',
      'crm_router_bridge_outcomes_total{attempt="crm",disposition="OTHER"} 1',
      'crm_router_socket_errors_total{reason="Other"} 1',
    ]);
  });

  it('labels a fallback with every registry tag as its own reason (the telephony ones too), and any bridge disposition as Bridge', async () => {
    const metrics = createMetrics({ processMetrics: false });
    for (const failure of ['SocketNotFull', 'SetupRefused', 'ReplyTimeout', 'BridgeLost', 'CrmAborted', 'Bridge:NO_ANSWER'])
      metrics.recordCall(line({ scheme: 's', failure, fallback: 'dialplan', result: 'fallback-dialplan' }));
    expect((await series(metrics)).filter((l) => l.startsWith('crm_router_fallbacks_total'))).to.deep.equal([
      'crm_router_fallbacks_total{scheme="s",reason="SocketNotFull"} 1',
      'crm_router_fallbacks_total{scheme="s",reason="SetupRefused"} 1',
      'crm_router_fallbacks_total{scheme="s",reason="ReplyTimeout"} 1',
      'crm_router_fallbacks_total{scheme="s",reason="BridgeLost"} 1',
      'crm_router_fallbacks_total{scheme="s",reason="CrmAborted"} 1',
      'crm_router_fallbacks_total{scheme="s",reason="Bridge"} 1',
    ]);
  });

  it('tells the CRM bridge from the fallback bridge', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.recordCall(line({ scheme: 's', bridge: 'user/a', failure: 'Bridge:USER_BUSY', fallback: 'bridge', fallbackBridge: 'user/op', result: 'fallback-bridged' }));
    metrics.recordCall(line({ scheme: 's', failure: 'CrmTimeout', fallback: 'bridge', fallbackBridge: 'user/op', failureDetail: 'fallback Bridge:NO_ANSWER', result: 'fallback-dialplan' }));
    expect(await series(metrics)).to.deep.equal([
      'crm_router_calls_total{scheme="s",result="fallback-bridged"} 1',
      'crm_router_calls_total{scheme="s",result="fallback-dialplan"} 1',
      'crm_router_fallbacks_total{scheme="s",reason="Bridge"} 1',
      'crm_router_fallbacks_total{scheme="s",reason="CrmTimeout"} 1',
      'crm_router_bridge_outcomes_total{attempt="crm",disposition="USER_BUSY"} 1',
      'crm_router_bridge_outcomes_total{attempt="fallback",disposition="SUCCESS"} 1',
      'crm_router_bridge_outcomes_total{attempt="fallback",disposition="NO_ANSWER"} 1',
    ]);
  });

  it("adds what the listener's own totals grew by at each scrape", async () => {
    const metrics = createMetrics({ processMetrics: false });
    let counts = { refusedNotAllowed: 2, refusedOverLimit: 0, acceptErrors: 1 };
    metrics.observeServer({ activeCalls: () => 3, listenerCounts: () => counts });
    expect(await series(metrics)).to.include.members([
      'crm_router_calls_in_progress 3',
      'crm_router_connections_refused_not_allowed_total 2',
      'crm_router_accept_errors_total 1',
    ]);
    counts = { refusedNotAllowed: 5, refusedOverLimit: 1, acceptErrors: 1 };
    expect(await series(metrics)).to.include.members([
      'crm_router_connections_refused_not_allowed_total 5',
      'crm_router_connections_refused_over_limit_total 1',
      'crm_router_accept_errors_total 1',
    ]);
  });

  it('an HTTP status outside 100..599 is labelled invalid', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const decoded = decodeConfig({ schemes: [{ name: 'default', url: 'http://127.0.0.1:1/', destinationField: 'n', gateway: 'g' }] });
    if (E.isLeft(decoded)) throw new Error('bad spec config');
    const scheme = decoded.right.config.schemes[0];
    if (scheme === undefined) throw new Error('no scheme');
    const failing: Router = () => TE.left({ _tag: 'CrmHttpStatus', status: 999, ms: 1 });
    await metrics.instrument(failing)(scheme, { uuid: 'u', callId: 'c', caller: '1', called: '2', variables: {} }, new AbortController().signal)();
    expect(await series(metrics)).to.include('crm_router_crm_responses_total{scheme="default",status="invalid"} 1');
  });
});
