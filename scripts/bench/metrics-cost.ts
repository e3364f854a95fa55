/**
 * What the metrics cost a call, alone: the Router wrapper (timer, in-flight gauge, status counter) and
 * the call record's counters, over an immediate Router, against the bare Router.
 *   node --import tsx scripts/bench/metrics-cost.ts
 */
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { createMetrics } from '../../lib/admin/metrics.ts';
import { decodeConfig } from '../../lib/config/load.ts';
import type { Router } from '../../lib/routing/route.ts';
import type { CallRecord } from '../../lib/telephony/call-record.ts';

const decoded = decodeConfig({ schemes: [{ name: 'default', url: 'http://127.0.0.1:1/', destinationField: 'n', gateway: 'pstn' }] });
if (E.isLeft(decoded)) throw new Error('bad config');
const scheme = decoded.right.config.schemes[0];
if (scheme === undefined) throw new Error('no scheme');
const call = { uuid: 'u', callId: 'c', caller: '100', called: '200', variables: {} };
const bare: Router = () => TE.right({ destination: { _tag: 'SipLogin', login: 'a' }, dialString: 'user/a', crmStatus: 200, crmMs: 1 });
const record: CallRecord = { scheme: 'default', bridge: 'user/a', result: 'bridged', ms: 1 };
const N = 200_000;

const run = async (label: string, route: Router, after: () => void): Promise<number> => {
  const signal = new AbortController().signal;
  for (let i = 0; i < 20_000; i++) await route(scheme, call, signal)();
  const start = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    await route(scheme, call, signal)();
    after();
  }
  const used = process.cpuUsage(start);
  const us = (used.user + used.system) / N;
  console.log(`${label}: ${us.toFixed(2)} µs of CPU per call`);
  return us;
};

const metrics = createMetrics({ processMetrics: false });
const without = await run('bare Router', bare, () => {});
const withMetrics = await run('with metrics', metrics.instrument(bare), () => metrics.recordCall(record));
console.log(`metrics add ${(withMetrics - without).toFixed(2)} µs per call`);
