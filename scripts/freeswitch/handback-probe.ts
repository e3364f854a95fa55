// Which ways of letting go of a call make a real FreeSWITCH continue the dialplan, in each socket mode.
//
// A stand-in for the router listens where scripts/freeswitch/conf's `socket` line dials
// (crm_router_socket, default 127.0.0.1:8084), and calls are placed over the inbound event socket as
// the integration driver places them, one at a time; for each the stand-in sends a scenario's
// commands, then closes the socket. The probe then watches the caller's leg: did it run the
// dialplan's next action (`set crm_router_returned=true`), or is it still there?
//
//   npx tsx scripts/freeswitch/handback-probe.ts [scenario...]   (FreeSWITCH on scripts/freeswitch/conf)
//   CRM_ROUTER_FREESWITCH=127.0.0.1:8021 CRM_ROUTER_LISTEN=127.0.0.1:8084 PROBE_REPEAT=5 PROBE_MODES=sync,async
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { InboundSocket, type Frame } from '../../spec/integration/real-freeswitch.ts';
import { eventHeaders, FrameSplitter, type RawFrame } from '../../spec/integration/esl-frames.ts';

type Step =
  | { readonly send: string }
  /** Waits for this event (myevents must be on) before the next step. */
  | { readonly until: string }
  | { readonly sleepMs: number };

const cmd = (line: string): Step => ({ send: `${line}\n\n` });
const app = (name: string, arg?: string): Step => ({
  send: `sendmsg\ncall-command: execute\nexecute-app-name: ${name}\n${arg === undefined ? '' : `execute-app-arg: ${arg}\n`}\n`,
});

/** The router's set-up when this probe was run; the README's table names it so (the router's set-up now: lib/telephony/set-up.ts). */
const SETUP: Step[] = [cmd('connect'), cmd('myevents'), cmd('linger'), app('multiset', 'hangup_after_bridge=true continue_on_fail=true'), app('ring_ready')];
const FAILED_BRIDGE: Step[] = [...SETUP, app('bridge', 'user/nobody'), { until: 'CHANNEL_EXECUTE_COMPLETE:bridge' }];

const SCENARIOS: Record<string, Step[]> = {
  /** Closed on accept, without a word (what a router over its connection limit might do). */
  'no connect, close': [],
  'resume, close (no connect)': [cmd('resume')],
  'connect, close': [cmd('connect')],
  'connect, wait 300 ms, close': [cmd('connect'), { sleepMs: 300 }],
  'connect, exit': [cmd('connect'), cmd('exit')],
  'connect, resume, close': [cmd('connect'), cmd('resume')],
  'connect, myevents, close': [cmd('connect'), cmd('myevents')],
  // An application FreeSWITCH runs only from the park loop: its completion proves the park has begun.
  'connect, myevents, app done, close': [cmd('connect'), cmd('myevents'), app('set', 'crm_router_parked=true'), { until: 'CHANNEL_EXECUTE_COMPLETE:set' }],
  // Does CHANNEL_PARK reach a subscription made right after connect (written in the same packet)?
  'connect+myevents at once, CHANNEL_PARK, close': [cmd('connect'), { send: 'myevents\n\n' }, { until: 'CHANNEL_PARK:' }],
  'set-up, close': SETUP,
  'set-up, exit': [...SETUP, cmd('exit')],
  'set-up, resume, exit': [...SETUP, cmd('resume'), cmd('exit')],
  'failed bridge, close': FAILED_BRIDGE,
  'failed bridge, exit': [...FAILED_BRIDGE, cmd('exit')],
  'failed bridge, resume, exit': [...FAILED_BRIDGE, cmd('resume'), cmd('exit')],
};

const parseAddress = (value: string): { host: string; port: number } => {
  const m = /^(.+):(\d+)$/.exec(value);
  if (!m) throw new Error(`expected host:port, got ${value}`);
  return { host: m[1]!, port: Number(m[2]) };
};

const esl = parseAddress(process.env['CRM_ROUTER_FREESWITCH'] || '127.0.0.1:8021');
const listen = parseAddress(process.env['CRM_ROUTER_LISTEN'] || '127.0.0.1:8084');
const repeat = Number(process.env['PROBE_REPEAT'] || 3);
const WATCH_MS = 3_000;

/** One connection from FreeSWITCH's socket application, driven through a scenario's steps. */
/** The scenario of the call being placed: calls are placed one at a time. */
let current: Step[] = [];

const drive = async (socket: net.Socket): Promise<void> => {
  const steps = current;
  const splitter = new FrameSplitter();
  const replies: RawFrame[] = [];
  const events: string[] = [];
  let wake = (): void => undefined;
  socket.on('data', (chunk: Buffer) => {
    for (const f of splitter.push(chunk)) {
      const type = f.headers.get('Content-Type');
      if (type === 'command/reply' || type === 'api/response') replies.push(f);
      else if (type === 'text/event-plain') {
        const h = eventHeaders(f.body);
        events.push(`${h.get('Event-Name')}:${h.get('Application') ?? ''}`);
      }
    }
    wake();
  });
  socket.on('error', () => undefined);
  const waitFor = async (ok: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!ok()) {
      if (Date.now() > deadline || socket.destroyed) throw new Error(`stand-in: no ${what}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  };
  let expected = 0;
  for (const step of steps) {
    if ('send' in step) {
      socket.write(step.send);
      if (step.send.startsWith('exit')) break; // FreeSWITCH answers, then closes; the probe closes too.
      // FreeSWITCH never answers the first command of an outbound socket unless it is `connect`
      // (mod_event_socket.c, listener_run: the first packet's reply is not sent).
      if (expected === 0 && !step.send.startsWith('connect')) {
        await sleep(100);
        continue;
      }
      expected++;
      await waitFor(() => replies.length >= expected, `reply to ${step.send.split('\n')[0]}`);
    } else if ('until' in step) await waitFor(() => events.includes(step.until), step.until);
    else await sleep(step.sleepMs);
  }
  socket.end();
};

const main = async (): Promise<void> => {
  const wanted = process.argv.slice(2);
  const names = wanted.length > 0 ? wanted : Object.keys(SCENARIOS);
  for (const n of names) if (!SCENARIOS[n]) throw new Error(`unknown scenario ${JSON.stringify(n)}; known: ${Object.keys(SCENARIOS).join(' | ')}`);

  const server = net.createServer((socket) => {
    drive(socket).catch((err: Error) => {
      console.error(err.message);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(listen.port, listen.host, resolve));

  const client = await InboundSocket.open(esl.host, esl.port, process.env['CRM_ROUTER_FREESWITCH_PASSWORD'] || 'ClueCon');
  const run = randomUUID();
  const returned = new Set<string>();
  client.onEvent = (e: Frame) => {
    if (e.header('Event-Name') === 'CHANNEL_EXECUTE' && e.header('Application') === 'set' && (e.header('Application-Data') ?? '').startsWith('crm_router_returned=')) {
      returned.add(e.header('variable_crm_test_call') ?? '');
    }
  };
  await client.command('event plain CHANNEL_EXECUTE');
  await client.command(`filter variable_crm_test_run ${run}`);
  console.log((await client.api('version')).trim());

  const modes = (process.env['PROBE_MODES'] || 'sync,async').split(',') as Array<'sync' | 'async'>;
  for (const mode of modes) {
    for (const name of names) {
      const outcomes: string[] = [];
      for (let i = 0; i < repeat; i++) {
        current = SCENARIOS[name]!;
        const id = randomUUID();
        const a = randomUUID();
        const vars = `origination_uuid=${a},crm_test_run=${run},crm_test_call=${id},crm_test_socket_mode=${mode},loopback_bowout=false`;
        await client.bgapi(`originate {${vars}}loopback/5551234/crm-router &park()`);
        const deadline = Date.now() + WATCH_MS;
        while (!returned.has(id) && Date.now() < deadline) await sleep(50);
        if (returned.has(id)) {
          outcomes.push('continued');
        } else {
          const b = (await client.api(`uuid_getvar ${a} other_loopback_leg_uuid`)).trim();
          const dump = b.startsWith('-ERR') || b === '' ? '' : await client.api(`uuid_dump ${b}`);
          const field = (n: string): string => new RegExp(`^${n}: (.*)$`, 'm').exec(dump)?.[1] ?? '?';
          outcomes.push(dump === '' ? 'gone (no dialplan)' : `STUCK ${decodeURIComponent(field('Channel-State'))}/${decodeURIComponent(field('Channel-Call-State'))}/${decodeURIComponent(field('variable_current_application'))}`);
          for (const leg of [a, b]) if (leg !== '' && !leg.startsWith('-ERR')) await client.api(`uuid_kill ${leg}`);
        }
      }
      const counts = new Map<string, number>();
      for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
      console.log(`${mode.padEnd(5)}  ${name.padEnd(36)}  ${[...counts].map(([o, n]) => `${o} ×${n}`).join(', ')}`);
    }
  }
  await client.close();
  server.close();
};

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
