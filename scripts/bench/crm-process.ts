/**
 * The CRM for the benchmark, as its own process: a node:http server on 127.0.0.1 that answers every
 * request with the same destination, after a delay the orchestrator sets (0 for throughput and
 * latency, 5 s for the memory figure). It times each request itself — from the moment node:http hands
 * it over (headers parsed) to the moment the answer is flushed — so that the CRM's own time can be
 * subtracted from what the load generator sees, per call, by the call uuid the router sends.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CrmReply, CrmRequest } from './messages.ts';

/** A phone number: the router sends it through the scheme's gateway. */
const ANSWER = JSON.stringify({ destination: '380441112233' });
const UUID_FIELD = /"uuid"\s*:\s*"([^"]+)"/;

const send = (reply: CrmReply): void => {
  process.send?.(reply);
};

let delayMs = 0;
let waiting = 0;
let answered = 0;
let uuids: string[] = [];
let times: number[] = [];

const server = http.createServer((req, res) => {
  const start = performance.now();
  waiting++;
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    // Both routers send the uuid in a JSON body (crm-router's `submit: json`); a regex keeps the
    // CRM's own cost small and identical for both.
    const uuid = UUID_FIELD.exec(body)?.[1] ?? '';
    const answer = (): void => {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ANSWER) });
      res.end(ANSWER);
    };
    res.on('finish', () => {
      answered++;
      uuids.push(uuid);
      times.push(performance.now() - start);
    });
    res.on('close', () => waiting--);
    if (delayMs === 0) answer();
    else setTimeout(answer, delayMs);
  });
});
// Thousands of requests wait at once in the memory phase: no per-server cap may refuse them.
server.maxConnections = Infinity;
server.requestTimeout = 0;

process.on('message', (message: CrmRequest) => {
  switch (message.type) {
    case 'answer':
      delayMs = message.delayMs;
      return send({ type: 'answer', id: message.id });
    case 'status':
      return send({ type: 'status', id: message.id, waiting, answered });
    case 'collect': {
      const reply: CrmReply = { type: 'collect', id: message.id, uuids, ms: times };
      uuids = [];
      times = [];
      answered = 0;
      return send(reply);
    }
  }
});
process.on('disconnect', () => process.exit(0));
// An orderly exit, so that a --cpu-prof profile is written.
process.on('SIGTERM', () => process.exit(0));

server.listen(0, '127.0.0.1', () => send({ type: 'ready', port: (server.address() as AddressInfo).port }));
