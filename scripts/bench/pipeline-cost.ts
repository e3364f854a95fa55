/**
 * `npx tsx scripts/bench/pipeline-cost.ts`: CPU per call of the router's steps outside the event socket
 * and the telephony layer, each alone in a loop: the routing pipeline around an instant fetch (build the
 * request, decode the answer, the dial string), and the call's log line (pino serialising it; the write
 * itself is left out). The rest of a call's cost is the event socket, the telephony layer and got's
 * request (`npm run bench:http`).
 */
import { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig } from '../../lib/config/load.ts';
import { createLogger } from '../../lib/log.ts';
import { makeRouter } from '../../lib/routing/route.ts';
import type { CrmFetch } from '../../lib/crm/fetch.ts';
import { routerConfig } from './actors.ts';

const loaded = decodeConfig(routerConfig(8084, 'http://127.0.0.1:9/route'));
if (E.isLeft(loaded)) throw new Error(JSON.stringify(loaded.left));
const scheme = loaded.right.config.schemes[0]!;
const call = { callId: '1-29102@127.0.0.1', uuid: 'c5c10dda-bc49-44dc-b73f-2c9aed07218d', caller: '380441234567', called: '5551234', variables: {} };
const answer = Buffer.from('{"destination":"380441112233"}');
const instant: CrmFetch = () => () => Promise.resolve(E.right({ status: 200, body: answer, contentType: 'application/json', ms: 1.2 }));
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined };
const route = makeRouter({ log: silent, fetch: instant });
const signal = new AbortController().signal;

async function timeIt(name: string, n: number, step: () => Promise<unknown> | unknown): Promise<void> {
  for (let i = 0; i < n / 10; i++) await step();
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await step();
    runs.push(((performance.now() - t0) * 1000) / n);
  }
  runs.sort((a, b) => a - b);
  process.stdout.write(`${name}: ${runs[2]!.toFixed(2)} µs per call [${runs[0]!.toFixed(2)}–${runs[4]!.toFixed(2)}]\n`);
}

const log = createLogger('info', new Writable({ write: (_c, _e, cb) => cb() }));
const record = {
  uuid: call.uuid, caller: call.caller, called: call.called, mode: 'sync', scheme: 'default', schemeReason: 'default',
  crmStatus: 200, crmMs: 1.2, destination: '380441112233', bridge: 'sofia/gateway/pstn/380441112233', result: 'bridged', ms: 25.3,
};
await timeIt('routing pipeline (buildRequest, instant fetch, decodeAnswer, dialString)', 50_000, () => route(scheme, call, signal)());
await timeIt('call log line (pino info, one object of 13 fields)', 50_000, () => log.info(record, 'call'));
