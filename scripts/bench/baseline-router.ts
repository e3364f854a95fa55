/**
 * The baseline: a deliberately minimal router, written for the benchmark only. Raw `net` + `http`, the
 * exchange crm-router spoke before issue 13's levers — connect; myevents, linger, multiset and ring_ready in one
 * write while the CRM is asked (JSON POST, keep-alive agent); bridge with an Event-UUID once both are
 * done; exit when FreeSWITCH lingers — and nothing else: no config, no logging, no validation, no
 * timeouts, no fallback beyond closing the socket. It is the floor crm-router is compared against.
 *
 * Usage: node --import tsx baseline-router.ts <port> <crm-url> [<variant JSON>]
 *
 * A variant changes that exchange the way a proposed lever of crm-router's would (issue 13), so that
 * scripts/bench/levers.ts can measure what FreeSWITCH is spared before crm-router is changed.
 */
import http from 'node:http';
import { createServer, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';

interface Variant {
  /** Event types named in one `nixevent` in the set-up write (none: no nixevent). */
  readonly nix?: readonly string[];
  /** `if-unset`: no multiset when the connect reply shows both variables set already. */
  readonly multiset?: 'always' | 'if-unset';
  /** `after-ms`: ring_ready only if the CRM has not answered within ringbackAfterMs. */
  readonly ringReady?: 'always' | 'after-ms';
  readonly ringbackAfterMs?: number;
  /** `early`: the bridge is written as soon as the CRM has answered, not after the set-up's replies. */
  readonly bridge?: 'after-replies' | 'early';
  readonly linger?: boolean;
  /** `close`: on the linger notice the router closes instead of sending `exit`. */
  readonly end?: 'exit' | 'close';
  /**
   * A bare socket router, the lower rows: no set-up but `myevents` (`myevents`) and one
   * `nixevent` (`nix`) if asked; the bridge at the CRM's answer; the socket closed on the bridge's
   * reply (sync: once it returned) or left to FreeSWITCH's disconnect.
   */
  readonly bare?: 'connect-bridge' | 'myevents' | 'myevents-nix' | 'myevents-filter' | 'event-filter';
  /** Bytes of padding the bridge carries, in a header (`X-Pad`) or as a body: what FreeSWITCH pays per byte read. */
  readonly pad?: { readonly bytes: number; readonly as: 'header' | 'body' };
}

/** What the nix- captures nixed: every type but CHANNEL_EXECUTE_COMPLETE and CHANNEL_HANGUP. */
const NIX_CAPTURED =
  'CHANNEL_STATE CHANNEL_CALLSTATE CHANNEL_CREATE CHANNEL_DESTROY CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_OUTGOING ' +
  'CHANNEL_ORIGINATE CHANNEL_PARK CHANNEL_UNPARK CHANNEL_APPLICATION CHANNEL_HANGUP_COMPLETE CHANNEL_ANSWER CHANNEL_BRIDGE ' +
  'CHANNEL_UNBRIDGE CHANNEL_EXECUTE CALL_UPDATE RECV_RTCP_MESSAGE';

const port = Number(process.argv[2]);
const crmUrl = new URL(process.argv[3] ?? 'http://127.0.0.1:8090/route');
const variant = JSON.parse(process.argv[4] ?? '{}') as Variant;
const agent = new http.Agent({ keepAlive: true });

const MULTISET = 'sendmsg\ncall-command: execute\nexecute-app-name: multiset\nexecute-app-arg: hangup_after_bridge=true continue_on_fail=true\n\n';
const RING_READY = 'sendmsg\ncall-command: execute\nexecute-app-name: ring_ready\n\n';

/** The set-up write and how many replies it brings. */
function setup(connectReply: string): { text: string; replies: number } {
  if (variant.bare !== undefined) {
    const uuid = decoded(headerOf(connectReply, 'Unique-ID'));
    const bare = {
      'connect-bridge': [],
      myevents: ['myevents\n\n'],
      'myevents-nix': ['myevents\n\n', `nixevent ${NIX_CAPTURED}\n\n`],
      'myevents-filter': ['myevents\n\n', 'filter Event-Name CHANNEL_EXECUTE_COMPLETE\n\n', 'filter Event-Name CHANNEL_HANGUP\n\n'],
      'event-filter': [`filter Unique-ID ${uuid}\n\n`, 'event plain CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP\n\n'],
    }[variant.bare];
    return { text: bare.join(''), replies: bare.length };
  }
  const parts = ['myevents\n\n'];
  if (variant.nix !== undefined && variant.nix.length > 0) parts.push(`nixevent ${variant.nix.join(' ')}\n\n`);
  if (variant.linger !== false) parts.push('linger\n\n');
  const alreadySet = headerOf(connectReply, 'variable_hangup_after_bridge') === 'true' && headerOf(connectReply, 'variable_continue_on_fail') === 'true';
  if (variant.multiset !== 'if-unset' || !alreadySet) parts.push(MULTISET);
  if (variant.ringReady !== 'after-ms') parts.push(RING_READY);
  return { text: parts.join(''), replies: parts.length };
}

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
  let setupReplies = Number.POSITIVE_INFINITY;
  let ringback: NodeJS.Timeout | undefined;
  let destination: string | undefined;
  let crmDone = false;
  let bridged = false;
  const bridgeUuid = randomUUID();

  const maybeBridge = (): void => {
    if (bridged || !crmDone || socket.destroyed) return;
    if (variant.bridge !== 'early' && variant.bare === undefined && replies < 1 + setupReplies) return;
    bridged = true;
    if (destination === undefined) {
      socket.end();
      return;
    }
    socket.write(
      'sendmsg\ncall-command: execute\nexecute-app-name: bridge\n' +
        `execute-app-arg: {originate_timeout=30}sofia/gateway/pstn/${destination}\nEvent-UUID: ${bridgeUuid}\n` +
        (variant.pad === undefined ? '\n'
          : variant.pad.as === 'header' ? `X-Pad: ${'p'.repeat(variant.pad.bytes - 8)}\n\n`
          : `Content-Length: ${variant.pad.bytes}\n\n${'p'.repeat(variant.pad.bytes)}`),
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
        const set = setup(headers);
        setupReplies = set.replies;
        if (set.text !== '') socket.write(set.text);
        if (variant.ringReady === 'after-ms') {
          ringback = setTimeout(() => {
            setupReplies++;
            socket.write(RING_READY);
          }, variant.ringbackAfterMs ?? 200);
        }
        const uuid = decoded(headerOf(headers, 'Unique-ID'));
        askCrm(uuid, decoded(headerOf(headers, 'Caller-Caller-ID-Number')), decoded(headerOf(headers, 'Caller-Destination-Number')), (d) => {
          clearTimeout(ringback);
          destination = d;
          crmDone = true;
          maybeBridge();
        });
      }
      else if (variant.bare !== undefined && bridged && replies === 1 + setupReplies + 1) socket.end();
      maybeBridge();
    } else if (type === 'text/event-plain') {
      if (bridged) onEvent(body);
    } else if (type === 'text/disconnect-notice' && headerOf(headers, 'Content-Disposition') === 'linger') {
      if (variant.end === 'close') socket.end();
      else socket.write('exit\n\n');
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
