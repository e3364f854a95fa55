/**
 * `npx tsx scripts/bench/young-survival.ts [--rate 500] [--seconds 10]`: how much of what a CRM request
 * allocates outlives V8's young generation, per HTTP client and per object-literal shape.
 *
 * Each variant runs in a node of its own under `--trace-gc-nvp`, making `rate` requests (or literals) a
 * second for `seconds` against a node:http CRM in the same process, and this prints, per variant, the
 * scavenges during that load (start-up's are left out), their mean pause, what each promoted to the old
 * generation, and the process's CPU time over the load per request (the CRM's share included).
 * Whatever a scavenge promotes it has copied twice, and the old generation's collector must then find
 * it dead: on a router, that is CPU per call, and every call in flight during a pause waits it out.
 *
 * Variants:
 * - `node:http`: a bare node:http request with a keep-alive agent, the floor;
 * - `got, merged defaults`: got.extend with the options of lib/crm/fetch.ts's clientFor that shape a
 *   request (not its https agent, nor its request function, which only drops undefined keys), left as
 *   got's merge makes them;
 * - `got, crm-router's client`: clientFor itself, whose defaults hold `cacheOptions: {}`;
 * - `{ ...base, four more }` and `Object.assign({}, base, { four more })`: the literal shape alone,
 *   no request (20 per request, so that it shows at the same rate).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import got, { type Got } from 'got';
import { clientFor } from '../../lib/crm/fetch.ts';
import { inProcessConfig } from './in-process-config.ts';

const VARIANTS = ['node:http', 'got, merged defaults', "got, crm-router's client", '{ ...base, four more }', 'Object.assign({}, base, { four more })'] as const;
type Variant = (typeof VARIANTS)[number];

const BODY = '{"caller":"380441234567","called":"5551234","uuid":"0b1f5c3e-9a43-4d43-8f27-1c2d3e4f5a6b"}';
const LITERALS_PER_REQUEST = 20;
const LOAD_STARTS = 'young-survival: load starts';
const LOAD_ENDS = 'young-survival: load ends';
const SETTLE_MS = 2000;
const REPO = fileURLToPath(new URL('../..', import.meta.url));

const option = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!(value > 0)) throw new Error(`${name} takes a positive number, not ${process.argv[i + 1]}`);
  return value;
};

const gotClient = (variant: Variant, url: string): Got => {
  if (variant === "got, crm-router's client") {
    return clientFor(inProcessConfig(url).schemes[0]!);
  }
  return got.extend({
    agent: { http: new http.Agent({ keepAlive: true }) },
    timeout: { request: 5000 },
    retry: { limit: 0 },
    followRedirect: false,
    throwHttpErrors: false,
    cache: false,
  });
};

/** One variant's load, in this (child) process; prints its count and CPU time as JSON. */
async function child(variant: Variant, rate: number, seconds: number): Promise<void> {
  const crm = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.setHeader('content-type', 'application/json').end('{"number_01":"380441112233"}'));
  });
  await new Promise<void>((resolve) => crm.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(crm.address() as AddressInfo).port}/route`;
  const agent = new http.Agent({ keepAlive: true });
  const client = variant.startsWith('got') ? gotClient(variant, url) : undefined;
  const base = { uuid: 'b', caller: '380441234567', called: '5551234', scheme: 'default', mode: 'sync' };
  let kept: unknown;
  let settled = 0;
  let failed = 0;
  const fail = (): void => {
    failed++;
    settled++;
  };
  // A request's answer is read to its end, as the router reads it, and then dropped.
  const read = (stream: NodeJS.ReadableStream): void => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      kept = chunks;
      settled++;
    });
    stream.on('error', fail);
  };
  const one = (i: number): void => {
    if (variant === '{ ...base, four more }') {
      for (let k = 0; k < LITERALS_PER_REQUEST; k++) kept = { ...base, crmStatus: 200, crmMs: i, destination: 'd', bridge: 'b' };
      settled++;
    } else if (variant === 'Object.assign({}, base, { four more })') {
      for (let k = 0; k < LITERALS_PER_REQUEST; k++) kept = Object.assign({}, base, { crmStatus: 200, crmMs: i, destination: 'd', bridge: 'b' });
      settled++;
    } else if (client) {
      read(client.stream(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY }));
    } else {
      http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, read).on('error', fail).end(BODY);
    }
  };
  let placed = 0;
  process.stdout.write(`${LOAD_STARTS}\n`);
  const started = Date.now();
  const cpu = process.cpuUsage();
  await new Promise<void>((done) => {
    const tick = setInterval(() => {
      const due = Math.floor(((Date.now() - started) * rate) / 1000);
      while (placed < due) one(placed++);
      if (Date.now() - started >= seconds * 1000) {
        clearInterval(tick);
        done();
      }
    }, 2);
  });
  // The last requests' answers, a bounded wait: one still unanswered counts as failed.
  for (const until = Date.now() + SETTLE_MS; settled < placed && Date.now() < until; ) await new Promise((r) => setTimeout(r, 10));
  failed += placed - settled;
  const used = process.cpuUsage(cpu);
  process.stdout.write(`${LOAD_ENDS}\n${JSON.stringify({ result: { placed, failed, cpuMs: (used.user + used.system) / 1000, kept: kept !== undefined } })}\n`);
  agent.destroy();
  crm.close();
  process.exit(0);
}

interface Figures {
  readonly scavenges: number;
  readonly pauseMs: number;
  readonly promotedMb: number;
  readonly placed: number;
  readonly cpuMs: number;
}

/** Runs one variant in a child under --trace-gc-nvp and adds up its scavenges. */
const measure = (variant: Variant, rate: number, seconds: number): Promise<Figures> =>
  new Promise((resolve, reject) => {
    const self = fileURLToPath(import.meta.url);
    const node = spawn(process.execPath, ['--import', 'tsx', '--trace-gc-nvp', self, '--child', variant, '--rate', String(rate), '--seconds', String(seconds)], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    node.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    node.on('error', reject);
    node.on('close', (code) => {
      const result = out.split('\n').find((l) => l.startsWith('{"result"'));
      if (code !== 0 || result === undefined) return reject(new Error(`${variant}: the child exited ${code} without a result`));
      const { placed, failed, cpuMs } = (JSON.parse(result) as { result: { placed: number; failed: number; cpuMs: number } }).result;
      if (failed > 0) return reject(new Error(`${variant}: ${failed} of ${placed} requests failed`));
      const lines = out.split('\n');
      let scavenges = 0;
      let pauseMs = 0;
      let promoted = 0;
      for (const line of lines.slice(lines.indexOf(LOAD_STARTS), lines.indexOf(LOAD_ENDS))) {
        if (!/\bgc=s\b/.test(line)) continue;
        scavenges++;
        pauseMs += Number(/\bpause=([\d.]+)/.exec(line)?.[1] ?? 0);
        promoted += Number(/\bpromoted=(\d+)/.exec(line)?.[1] ?? 0);
      }
      resolve({ scavenges, pauseMs, promotedMb: promoted / 1e6, placed, cpuMs });
    });
  });

async function main(): Promise<void> {
  const rate = option('--rate', 500);
  const seconds = option('--seconds', 10);
  const childAt = process.argv.indexOf('--child');
  if (childAt >= 0) return child(process.argv[childAt + 1] as Variant, rate, seconds);
  process.stdout.write(`young-generation survival, ${rate} requests/s for ${seconds} s each, node ${process.version}\n`);
  process.stdout.write('variant                                  scavenges  mean pause  promoted per scavenge  CPU per request\n');
  for (const variant of VARIANTS) {
    const f = await measure(variant, rate, seconds);
    const perScavenge = f.scavenges === 0 ? 0 : f.promotedMb / f.scavenges;
    const meanPause = f.scavenges === 0 ? 0 : f.pauseMs / f.scavenges;
    process.stdout.write(
      `${variant.padEnd(40)} ${String(f.scavenges).padStart(9)}  ${meanPause.toFixed(2).padStart(7)} ms  ${perScavenge.toFixed(3).padStart(15)} MB  ${((f.cpuMs * 1000) / f.placed).toFixed(0).padStart(10)} µs\n`,
    );
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
