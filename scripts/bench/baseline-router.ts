/**
 * The baseline: a deliberately minimal router, written for the benchmark only. Raw `net` + `http`, the
 * same exchange as crm-router on the wire — connect; myevents, linger, multiset and ring_ready in one
 * write while the CRM is asked (JSON POST, keep-alive agent); bridge with an Event-UUID once both are
 * done; exit when FreeSWITCH lingers — and nothing else: no config, no logging, no validation, no
 * timeouts, no fallback beyond closing the socket. It is the floor crm-router is compared against.
 *
 * Usage: node --import tsx baseline-router.ts <port> <crm-url>
 */
import http from 'node:http';
import { createServer, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';

const port = Number(process.argv[2]);
const crmUrl = new URL(process.argv[3] ?? 'http://127.0.0.1:8090/route');
const agent = new http.Agent({ keepAlive: true });

const SETUP =
  'myevents\n\nlinger\n\n' +
  'sendmsg\ncall-command: execute\nexecute-app-name: multiset\nexecute-app-arg: hangup_after_bridge=true continue_on_fail=true\n\n' +
  'sendmsg\ncall-command: execute\nexecute-app-name: ring_ready\n\n';
const SETUP_REPLIES = 4;

/** The value of `name: value` in a header block, or ''. */
function headerOf(block: string, name: string): string {
  const at = block.indexOf(`\n${name}: `);
  const from = at < 0 ? (block.startsWith(`${name}: `) ? name.length + 2 : -1) : at + name.length + 3;
  if (from < 0) return '';
  const end = block.indexOf('\n', from);
  return block.slice(from, end < 0 ? block.length : end);
}

const decoded = (value: string): string => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

function askCrm(uuid: string, caller: string, called: string, done: (destination: string | undefined) => void): void {
  const body = JSON.stringify({ call_id: uuid, uuid, caller, called, scheme: 'default' });
  const req = http.request(
    crmUrl,
    { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
    (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          const answer = JSON.parse(text) as { destination?: unknown };
          done(typeof answer.destination === 'string' ? answer.destination : undefined);
        } catch {
          done(undefined);
        }
      });
    },
  );
  req.on('error', () => done(undefined));
  req.end(body);
}

function handle(socket: Socket): void {
  let buffer = '';
  let connected = false;
  let replies = 0;
  let destination: string | undefined;
  let crmDone = false;
  let bridged = false;
  const bridgeUuid = randomUUID();

  const maybeBridge = (): void => {
    if (bridged || !crmDone || replies < 1 + SETUP_REPLIES || socket.destroyed) return;
    bridged = true;
    if (destination === undefined) {
      socket.end();
      return;
    }
    socket.write(
      'sendmsg\ncall-command: execute\nexecute-app-name: bridge\n' +
        `execute-app-arg: {originate_timeout=30}sofia/gateway/pstn/${destination}\nEvent-UUID: ${bridgeUuid}\n\n`,
    );
  };

  /** The bridge's own CHANNEL_EXECUTE_COMPLETE decides: not answered → close, FreeSWITCH runs the dialplan on. */
  const onEvent = (event: string): void => {
    if (headerOf(event, 'Event-Name') !== 'CHANNEL_EXECUTE_COMPLETE' || headerOf(event, 'Application-UUID') !== bridgeUuid) return;
    if (headerOf(event, 'variable_originate_disposition') !== 'SUCCESS' && headerOf(event, 'Answer-State') !== 'hangup') socket.end();
  };

  const onFrame = (headers: string, body: string): void => {
    const type = headerOf(headers, 'Content-Type');
    if (type === 'command/reply') {
      replies++;
      if (!connected) {
        connected = true;
        socket.write(SETUP);
        const uuid = decoded(headerOf(headers, 'Unique-ID'));
        askCrm(uuid, decoded(headerOf(headers, 'Caller-Caller-ID-Number')), decoded(headerOf(headers, 'Caller-Destination-Number')), (d) => {
          destination = d;
          crmDone = true;
          maybeBridge();
        });
      }
      maybeBridge();
    } else if (type === 'text/event-plain') {
      if (bridged) onEvent(body);
    } else if (type === 'text/disconnect-notice' && headerOf(headers, 'Content-Disposition') === 'linger') {
      socket.write('exit\n\n');
    }
  };

  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end < 0) return;
      const headers = buffer.slice(0, end);
      const length = Number(headerOf(headers, 'Content-Length') || 0);
      if (buffer.length < end + 2 + length) return;
      const body = buffer.slice(end + 2, end + 2 + length);
      buffer = buffer.slice(end + 2 + length);
      onFrame(headers, body);
    }
  });
  socket.on('end', () => socket.end());
  socket.on('error', () => socket.destroy());
  socket.write('connect\n\n');
}

const server = createServer({ noDelay: true }, handle);
server.listen(port, '127.0.0.1', () => process.send?.({ type: 'listening' }));
process.on('SIGTERM', () => process.exit(0));
