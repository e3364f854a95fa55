/**
 * `npm run bench:http`: what crm-router's HTTP client costs on its own, against node:http doing the
 * same exchange the way the baseline router does. The router's request is built by lib/crm (the
 * benchmark's scheme: JSON POST) and sent by lib/crm/fetch.ts, got and all; the other client sends
 * the same bytes with `http.request` on a keep-alive agent. The CRM is the benchmark's own CRM process,
 * on another core when there is one, so the CPU measured here is the client's alone.
 *
 * Per client: CPU per request (user + system of this process, 50 requests in flight, the CRM
 * answering at once), the garbage collector's pauses over those requests (the process stands still in
 * them: what a router's p99 feels), and heap per request in flight (1000 requests held by the CRM,
 * after a full GC).
 * Median of 3 runs, clients alternating. Run with `node --expose-gc`; the npm script does.
 */
import http from 'node:http';
import { PerformanceObserver, performance, type PerformanceEntry } from 'node:perf_hooks';
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig } from '../../lib/config/load.ts';
import { buildRequest, type CrmRequest } from '../../lib/crm/build-request.ts';
import { makeGotFetch } from '../../lib/crm/fetch.ts';
import type { Scheme } from '../../lib/config/codecs.ts';
import { routerConfig, startCrm, type Crm } from './actors.ts';
import { pinSelf, placement } from './procs.ts';
import { spread } from './stats.ts';

const REQUESTS = 20_000;
const WARMUP = 3_000;
const IN_FLIGHT = 50;
const HELD = 1_000;
const RUNS = 3;

type Send = (request: CrmRequest) => Promise<void>;

function gotClient(scheme: Scheme): Send {
  const fetch = makeGotFetch();
  return async (request) => {
    const result = await fetch(scheme, request, new AbortController().signal)();
    if (E.isLeft(result)) throw new Error(`got: ${result.left._tag}`);
  };
}

/** node:http as the baseline router uses it: a keep-alive agent, the body collected, no more. */
function nodeClient(): Send {
  const agent = new http.Agent({ keepAlive: true });
  return (request) =>
    new Promise((resolve, reject) => {
      const req = http.request(request.url, { method: request.method, agent, headers: request.headers, signal: new AbortController().signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`node:http: ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(request.body);
    });
}

interface Load {
  readonly cpuUs: number;
  /** Garbage collection's pauses per request (V8's own timings). */
  readonly gcUs: number;
}

async function load(send: Send, requests: readonly CrmRequest[], count: number): Promise<Load> {
  let next = 0;
  let paused = 0;
  const record = (entry: PerformanceEntry): void => {
    paused += entry.duration;
  };
  const observer = new PerformanceObserver((list) => list.getEntries().forEach(record));
  observer.observe({ entryTypes: ['gc'] });
  const start = process.cpuUsage();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) await send(requests[next++ % requests.length] as CrmRequest);
    }),
  );
  const used = process.cpuUsage(start);
  // Entries still queued are delivered on takeRecords.
  observer.takeRecords().forEach(record);
  observer.disconnect();
  return {
    cpuUs: (used.user + used.system) / count,
    gcUs: (paused * 1000) / count,
  };
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

async function heapPerHeldRequest(send: Send, requests: readonly CrmRequest[], crm: Crm): Promise<number> {
  gc();
  const before = process.memoryUsage().heapUsed;
  await crm.setDelay(60_000);
  // Stopping the CRM fails the held requests: that is their end here.
  void Promise.all(requests.slice(0, HELD).map(send)).catch(() => undefined);
  const deadline = performance.now() + 20_000;
  while ((await crm.status()).waiting < HELD) {
    if (performance.now() > deadline) throw new Error('the CRM never held every request');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  gc();
  const held = process.memoryUsage().heapUsed;
  await crm.stop();
  return (held - before) / HELD;
}

async function main(): Promise<void> {
  if ((globalThis as { gc?: unknown }).gc === undefined) throw new Error('run with node --expose-gc (npm run bench:http does)');
  const place = placement();
  // The CRM gets the router's core: this process is the one measured.
  const crmPlace = place.cpus ? { ...place, cpus: { ...place.cpus, crm: place.cpus.router, orchestrator: place.cpus.load } } : place;
  pinSelf(crmPlace);
  const clients: Array<[string, (scheme: Scheme) => Send]> = [
    ['got (lib/crm/fetch.ts)', gotClient],
    ['node:http', () => nodeClient()],
  ];
  const cpu = new Map<string, number[]>();
  const heap = new Map<string, number[]>();
  const gcTime = new Map<string, number[]>();
  console.log(`HTTP client alone: ${REQUESTS} requests per run, ${IN_FLIGHT} in flight; heap with ${HELD} held; median of ${RUNS} runs`);
  for (let run = 0; run < RUNS; run++) {
    for (const [name, make] of clients) {
      const crm = await startCrm(crmPlace);
      const decoded = decodeConfig(routerConfig(0, crm.url));
      if (E.isLeft(decoded)) throw new Error('the benchmark scheme does not decode');
      const scheme = decoded.right.config.schemes[0] as Scheme;
      const requests = Array.from({ length: HELD }, (_, i) =>
        buildRequest(scheme, { callId: `call-${i}`, uuid: `uuid-${run}-${i}`, caller: '380501234567', called: '1000', variables: {} }, i),
      );
      const send = make(scheme);
      await load(send, requests, WARMUP);
      const measured = await load(send, requests, REQUESTS);
      cpu.set(name, [...(cpu.get(name) ?? []), measured.cpuUs]);
      gcTime.set(name, [...(gcTime.get(name) ?? []), measured.gcUs]);
      heap.set(name, [...(heap.get(name) ?? []), await heapPerHeldRequest(send, requests, crm)]);
    }
  }
  const row = (name: string, values: number[], unit: string, digits: number): string => {
    const s = spread(values);
    return `${name.padEnd(24)} ${s.median.toFixed(digits).padStart(7)} ${unit}  [${s.min.toFixed(digits)}–${s.max.toFixed(digits)}]`;
  };
  console.log('\nCPU per request (client only)');
  for (const [name] of clients) console.log(row(name, cpu.get(name) ?? [], 'µs', 0));
  console.log('\ngarbage collection per request (its pauses)');
  for (const [name] of clients) console.log(row(name, gcTime.get(name) ?? [], 'µs', 0));
  console.log('\nheap per request in flight');
  for (const [name] of clients) console.log(row(name, (heap.get(name) ?? []).map((b) => b / 1024), 'KiB', 1));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('bench:http failed:', error);
    process.exit(1);
  },
);
