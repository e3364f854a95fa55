/**
 * `npx tsx scripts/bench/fetch-latency.ts [calls]`: what the HTTP client adds to a call's connect → bridge.
 * crm-router runs in this process twice over, its CRM exchange made by got (lib/crm/fetch.ts, as in
 * production) or by a bare node:http request with the same bytes, alternating; the emulated FreeSWITCH
 * (scripts/bench/proxies.ts) places calls one at a time in sync mode, and the CRM (node:http, in this
 * process too) answers at once. Prints connect → bridge written, p50 and minimum, after 100 warm-up calls.
 * Both routers share the process with the CRM and the emulator: only the difference between them counts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import * as E from 'fp-ts/lib/Either.js';
import { makeGotFetch, type CrmFetch } from '../../lib/crm/fetch.ts';
import { createLogger } from '../../lib/log.ts';
import { makeRouter } from '../../lib/routing/route.ts';
import { startRouter } from '../../lib/server.ts';
import { inProcessConfig } from './in-process-config.ts';
import { proxyCall } from './proxies.ts';

const WARM_UP = 100;
const calls = Number(process.argv[2] ?? 400);

const agent = new http.Agent({ keepAlive: true });
const nodeHttpFetch: CrmFetch = (_scheme, request, signal) => () =>
  new Promise((resolve) => {
    const start = performance.now();
    const req = http.request(request.url, { method: request.method, headers: request.headers, agent, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(E.right({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), contentType: res.headers['content-type'], ms: performance.now() - start })));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(E.left({ _tag: 'CrmUnreachable', code: error.code ?? 'UNKNOWN', ms: performance.now() - start })));
    req.end(request.body);
  });

async function main(): Promise<void> {
  const crm = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"number_01":"380441112233"}'));
  });
  await new Promise<void>((resolve) => crm.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(crm.address() as AddressInfo).port}/route`;
  const config = inProcessConfig(url);
  const log = createLogger('silent');
  for (const [name, fetch] of [['got', makeGotFetch()], ['node:http', nodeHttpFetch], ['got', makeGotFetch()], ['node:http', nodeHttpFetch]] as const) {
    const router = await startRouter({ config, log, route: makeRouter({ log, fetch }) });
    const ms: number[] = [];
    for (let i = 0; i < WARM_UP + calls; i++) {
      const sample = await proxyCall('127.0.0.1', router.address.port, { mode: 'sync' });
      if (i >= WARM_UP && sample.bridged) ms.push(sample.bridgeMs);
    }
    ms.sort((a, b) => a - b);
    process.stdout.write(`${name.padEnd(9)} connect → bridge p50 ${ms[ms.length >> 1]!.toFixed(3)} ms, min ${ms[0]!.toFixed(3)} ms (${ms.length} calls)\n`);
    await router.drain(1000);
  }
  crm.close();
}

void main().then(() => process.exit(0));
