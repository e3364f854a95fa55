// The integration specs' PBX when CRM_ROUTER_FREESWITCH names a real FreeSWITCH: calls are placed with
// `originate` over its inbound event socket and watched through that socket's events.
//
// Run against FreeSWITCH 1.10.12 built from source (scripts/freeswitch/local.sh); see
// scripts/freeswitch/README.md for what was run where.
//
// How a call is placed (scripts/freeswitch/conf/ must be the FreeSWITCH's configuration):
//
//   bgapi originate {origination_uuid=A,crm_test_run=R,crm_test_call=C,crm_test_socket_mode=sync,
//                    <the script's variables>,...}loopback/<destination>/crm-router &park()
//
// mod_loopback makes two legs: A (loopback/<destination>-a, the uuid we chose, which parks once answered)
// and B (loopback/<destination>-b, uuid chosen by FreeSWITCH), which enters the dialplan context
// `crm-router` and runs `socket`. B is the caller the router sees: its Unique-ID is the uuid the router
// records, so B's uuid is what CallResult.uuid reports. mod_loopback copies every `{}` variable of the
// originate onto B before B is routed (mod_loopback.c, channel_on_init: the "__loopback_vars__" event
// cloned from the originate's variables), which is how `crm_scheme` and the test's own markers reach
// the leg that runs `socket`; B also carries `other_loopback_leg_uuid` = A, which is how B is recognised.
//
// One inbound connection carries the events of all calls (commands go on a second one):
// `event plain <channel events> BACKGROUND_JOB`, filtered to
// this driver's channels with `filter variable_crm_test_run R` (plus `filter Event-Name BACKGROUND_JOB`;
// event-socket filters add up, they do not narrow each other). Channel events of the kinds used here
// (EXECUTE, EXECUTE_COMPLETE, ANSWER, BRIDGE, HANGUP, DESTROY) always carry the channel's variables.
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { decodeValue, eventHeaders, FrameSplitter, splitEvent, type RawFrame } from './esl-frames.ts';
import type { BridgeRecord, CallResult, CallScript, SocketMode } from '../emulator/index.ts';
import { parseDialString } from '../emulator/dial-string.ts';
import { CAPABILITIES, type Capability, type Pbx, type PbxScript } from './pbx.ts';
import { Timers } from '../support/timers.ts';

export interface RealFreeSwitch {
  /** Where the router must listen: the address in the real FreeSWITCH's dialplan `socket` line. */
  readonly routerListen: { readonly host: string; readonly port: number };
  readonly connect: () => Promise<Pbx>;
}

/** Bounds of every wait. A call of the specs lasts well under a second on a healthy FreeSWITCH. */
const CONNECT_TIMEOUT_MS = 5_000;
const COMMAND_TIMEOUT_MS = 5_000;
const CALL_TIMEOUT_MS = 12_000;
/** After a failed originate, how long B may still show up (events of other threads may arrive late). */
const LATE_LEG_GRACE_MS = 500;
const CLOSE_TIMEOUT_MS = 2_000;

/** The dialplan context of scripts/freeswitch/conf/dialplan/crm-router.xml whose extensions run `socket`. */
const ROUTER_CONTEXT = 'crm-router';
/** The global variable (vars.xml) holding the address in the dialplan's `socket` line. */
const SOCKET_ADDRESS_VAR = 'crm_router_socket';

const EVENTS = [
  'CHANNEL_EXECUTE',
  'CHANNEL_EXECUTE_COMPLETE',
  'CHANNEL_ANSWER',
  'CHANNEL_BRIDGE',
  'CHANNEL_HANGUP',
  'CHANNEL_DESTROY',
  'BACKGROUND_JOB',
];

const parseAddress = (name: string, value: string): { host: string; port: number } => {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || m[1] === '' || !(port > 0 && port < 65536)) throw new Error(`${name}=${value}: expected host:port, e.g. 127.0.0.1:8021`);
  return { host: m[1]!, port };
};

/** CRM_ROUTER_FREESWITCH=host:port names the event socket (inbound, 8021) of a real FreeSWITCH. */
export const realFreeSwitchFromEnv = (): RealFreeSwitch | undefined => {
  const address = process.env['CRM_ROUTER_FREESWITCH'];
  if (address === undefined || address === '') return undefined;
  const eventSocket = parseAddress('CRM_ROUTER_FREESWITCH', address);
  const routerListen = parseAddress('CRM_ROUTER_LISTEN', process.env['CRM_ROUTER_LISTEN'] || '127.0.0.1:8084');
  const password = process.env['CRM_ROUTER_FREESWITCH_PASSWORD'] || 'ClueCon';
  return { routerListen, connect: () => connectInWorker({ at: eventSocket, password, routerListen }) };
};

// ---- the driver in a worker thread ------------------------------------------------------------------

export interface WorkerSetup {
  readonly at: { readonly host: string; readonly port: number };
  readonly password: string;
  readonly routerListen: { readonly host: string; readonly port: number };
}

export type ToWorker = { readonly type: 'place'; readonly id: number; readonly mode: SocketMode; readonly script: PbxScript } | { readonly type: 'close' };

export type FromWorker =
  | { readonly type: 'ready'; readonly description: string; readonly can: Readonly<Record<Capability, true | string>> }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'placed'; readonly id: number; readonly result?: CallResult; readonly error?: string }
  | { readonly type: 'closed' };

/**
 * The driver runs in a worker thread of its own: the router, which shares this process, then has its
 * event loop to itself. Busy, a Node event loop accepts one connection per turn (measured: 200
 * pending connects took 2.4 s with 10 ms turns), and with 200 calls at once the driver's own work
 * (hundreds of events of 4-8 KB) made FreeSWITCH's callers wait seconds in the router's listen queue.
 */
const connectInWorker = (setup: WorkerSetup): Promise<Pbx> =>
  new Promise((resolve, reject) => {
    const entry = new URL('./real-freeswitch-worker.ts', import.meta.url).href;
    // tsx's loader does not reach a worker by itself: the worker registers it, then loads the driver.
    const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
    const worker = new Worker(boot, { eval: true, workerData: setup });
    const placing = new Map<number, { resolve: (r: CallResult) => void; reject: (e: Error) => void }>();
    let nextId = 0;
    let gone: Error | undefined;
    let closed: (() => void) | undefined;
    const fail = (why: Error): void => {
      gone ??= why;
      for (const p of placing.values()) p.reject(why);
      placing.clear();
      reject(why);
      closed?.();
    };
    worker.on('error', (err) => fail(new Error(`real FreeSWITCH driver (worker): ${err.message}`)));
    worker.on('exit', (code) => fail(new Error(`real FreeSWITCH driver (worker) exited (${code})`)));
    worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'failed':
          fail(new Error(m.message));
          void worker.terminate();
          return;
        case 'placed': {
          const p = placing.get(m.id);
          placing.delete(m.id);
          if (m.result !== undefined) p?.resolve(m.result);
          else p?.reject(new Error(m.error ?? 'real FreeSWITCH: the call failed'));
          return;
        }
        case 'closed':
          closed?.();
          return;
        case 'ready':
          resolve({
            description: m.description,
            can: (capability) => m.can[capability],
            placeCall: (mode, script = {}) => {
              if (gone) return Promise.reject(gone);
              // Functions cannot cross to the worker; the only ones a script holds are emulator-only.
              const bad = unsupported(script) ?? (script.onCommand !== undefined ? 'onCommand (the router\'s commands)' : undefined);
              if (bad !== undefined) return Promise.reject(new Error(`real FreeSWITCH: the call script asks for ${bad}, which a real FreeSWITCH cannot do`));
              const id = nextId++;
              return new Promise<CallResult>((res, rej) => {
                placing.set(id, { resolve: res, reject: rej });
                worker.postMessage({ type: 'place', id, mode, script } satisfies ToWorker);
              });
            },
            close: async () => {
              if (gone) return;
              await new Promise<void>((done) => {
                closed = done;
                worker.postMessage({ type: 'close' } satisfies ToWorker);
              });
              await worker.terminate();
            },
          });
          return;
      }
    });
  });

/** Every capability's answer, for the worker to hand over once. */
export const capabilitiesOf = (pbx: Pbx): Record<Capability, true | string> =>
  Object.fromEntries(CAPABILITIES.map((c) => [c, pbx.can(c)])) as Record<Capability, true | string>;

// ---- a minimal inbound event-socket client ---------------------------------------------------------

export interface Frame {
  readonly contentType: string;
  /** A header's value, %-decoded (an event's own headers for text/event-plain). */
  readonly header: (name: string) => string | undefined;
  /** Every header, decoded: only read when a call ends, never per event. */
  readonly all: () => ReadonlyMap<string, string>;
  readonly body: string;
}

type Waiter = {
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
  /** A command's timer runs only while it heads the queue (`watchHead`); the greeting's is the connect timer. */
  timer: NodeJS.Timeout | undefined;
  command: string;
  readonly sentAtMs: number;
};

export class InboundSocket {
  private readonly waiters: Waiter[] = [];
  private closedWith: Error | undefined;
  onEvent: (event: Frame) => void = () => undefined;
  onClose: (why: Error) => void = () => undefined;

  private constructor(private readonly socket: net.Socket, private readonly where: string) {
    // Frames are split by Content-Length and headers read only when asked for: 200 calls at once
    // bring tens of MB of events, and a parser that decodes every header of every event (modesl did)
    // starved the router sharing this process, whose accepts then came seconds late.
    const splitter = new FrameSplitter();
    socket.on('data', (chunk: Buffer) => {
      for (const f of splitter.push(chunk)) this.frame(toFrame(f));
    });
    socket.on('error', (err) => this.fail(new Error(`${this.where}: ${err.message}`)));
    socket.on('close', () => this.fail(new Error(`${this.where}: FreeSWITCH closed the event socket`)));
  }

  /** Connects and authenticates, or rejects saying why. */
  static open(host: string, port: number, password: string): Promise<InboundSocket> {
    const where = `FreeSWITCH event socket ${host}:${port}`;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      const client = new InboundSocket(socket, where);
      let settled = false;
      const give = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(() => give(new Error(`${where}: no auth/request within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      socket.once('error', (err) => give(new Error(`${where}: cannot connect (${err.message})`)));
      client.onClose = (why) => give(why);
      // The first frame is FreeSWITCH's `auth/request` (or a `text/rude-rejection` when its ACL refuses us).
      client.waiters.push({
        command: '(greeting)',
        timer,
        sentAtMs: Date.now(),
        reject: give,
        resolve: (greeting) => {
          if (greeting.contentType !== 'auth/request') {
            give(new Error(`${where}: expected auth/request, got ${greeting.contentType || 'no Content-Type'}: ${greeting.body.trim()}`));
            return;
          }
          client.command(`auth ${password}`).then(
            (reply) => {
              const text = reply.header('Reply-Text') ?? '';
              if (!text.startsWith('+OK')) return give(new Error(`${where}: authentication refused (${text}); check CRM_ROUTER_FREESWITCH_PASSWORD`));
              if (settled) return;
              settled = true;
              clearTimeout(timer);
              client.onClose = () => undefined;
              resolve(client);
            },
            (err: Error) => give(err),
          );
        },
      });
    });
  }

  /** Sends one command; resolves with its command/reply or api/response. */
  command(line: string): Promise<Frame> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (/[\r\n]/.test(line)) return Promise.reject(new Error(`refusing to send a command with a line break: ${JSON.stringify(line)}`));
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject, timer: undefined, command: line, sentAtMs: Date.now() });
      if (this.waiters.length === 1) this.watchHead();
      // One byte per character: the lines are ASCII, but for a caller name of Latin-1 bytes.
      this.socket.write(`${line}\n\n`, 'latin1');
    });
  }

  /**
   * Bounds the wait for the oldest command's reply. FreeSWITCH reads a connection's commands one at a
   * time and answers in order, and answers a bgapi only once the job's thread has started
   * (mod_event_socket.c, parse_command): with 200 calls starting on 2 cores that is milliseconds a
   * command, so the last of 400 pipelined originates and kills can wait seconds on a FreeSWITCH that is
   * not stuck. A command's clock therefore starts when the one before it is answered. When it runs
   * out, the verdict waits for the next turn's I/O: a worker busy with a flood of events runs expired
   * timers before it reads what arrived meanwhile, and a reply in that turn's reading is not late.
   */
  private watchHead(): void {
    const head = this.waiters[0];
    if (head === undefined || head.timer !== undefined) return;
    const startedAtMs = Date.now();
    head.timer = setTimeout(() => setImmediate(() => {
      if (this.waiters[0] !== head) return;
      const waited = `${Date.now() - startedAtMs} ms as the oldest, ${Date.now() - head.sentAtMs} ms since sent`;
      // The reply may still come and would answer the next command: this connection is no longer usable.
      this.fail(new Error(`${this.where}: no reply to "${head.command.slice(0, 80)}" within ${COMMAND_TIMEOUT_MS} ms (${waited}; ${this.waiters.length - 1} more waiting)`));
      this.socket.destroy();
    }), COMMAND_TIMEOUT_MS);
  }

  /** `api <cmd>`: the body of the api/response. */
  async api(cmd: string): Promise<string> {
    return (await this.command(`api ${cmd}`)).body;
  }

  /** `bgapi <cmd>`: the Job-UUID of the background job (its result comes as a BACKGROUND_JOB event). */
  async bgapi(cmd: string): Promise<string> {
    const reply = await this.command(`bgapi ${cmd}`);
    const text = reply.header('Reply-Text') ?? '';
    const job = reply.header('Job-UUID') ?? /Job-UUID: (\S+)/.exec(text)?.[1];
    if (!text.startsWith('+OK') || job === undefined) throw new Error(`${this.where}: bgapi ${cmd.slice(0, 80)} refused: ${text}`);
    return job;
  }

  async close(): Promise<void> {
    if (this.closedWith) return;
    const closed = new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      setTimeout(resolve, CLOSE_TIMEOUT_MS).unref();
    });
    this.socket.write('exit\n\n');
    await closed;
    this.socket.destroy();
  }

  private frame(f: Frame): void {
    switch (f.contentType) {
      case 'text/event-plain':
        this.onEvent(f);
        return;
      case 'command/reply':
      case 'api/response':
      case 'auth/request':
      case 'text/rude-rejection': {
        const waiter = this.waiters.shift();
        if (waiter) {
          clearTimeout(waiter.timer);
          waiter.resolve(f);
        }
        this.watchHead();
        return;
      }
      default:
        return; // text/disconnect-notice after `exit`; the close follows.
    }
  }

  private fail(why: Error): void {
    if (this.closedWith) return;
    this.closedWith = why;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(why);
    }
    this.onClose(why);
  }
}

/** For an event, the event's own headers (its body's header block) and body; otherwise the frame's. */
const toFrame = (raw: RawFrame): Frame => {
  const contentType = raw.headers.get('Content-Type') ?? '';
  if (contentType === 'text/event-plain') {
    const event = splitEvent(raw.body);
    return { contentType, header: (n) => event.header(n), all: () => eventHeaders(raw.body), body: event.body };
  }
  const decoded = new Map([...raw.headers].map(([k, v]) => [k, decodeValue(v)]));
  return { contentType, header: (n) => decoded.get(n), all: () => decoded, body: raw.body.toString('utf8') };
};

// ---- one placed call -------------------------------------------------------------------------------

interface OpenBridge extends BridgeRecord {
  readonly appUuid: string | undefined;
  done: boolean;
}

class PlacedCall {
  readonly id: string;
  readonly aUuid: string;
  private bUuid: string | undefined;
  private readonly startMs = Date.now();
  private readonly bridges: OpenBridge[] = [];
  private lastWithVars: Frame | undefined;
  private socketStarted = false;
  private socketDone = false;
  private answered = false;
  private hungUp = false;
  private hungUpDuringSocket = false;
  private hangupCause: string | undefined;
  private returnedToDialplan = false;
  private killScheduled = false;
  private jobFailure: string | undefined;
  private finished = false;
  private readonly timers = new Timers();
  private readonly seen: string[] = [];
  private resolveResult!: (r: CallResult) => void;
  private rejectResult!: (e: Error) => void;
  readonly result = new Promise<CallResult>((resolve, reject) => {
    this.resolveResult = resolve;
    this.rejectResult = reject;
  });

  constructor(
    ids: { id: string; aUuid: string },
    private readonly mode: SocketMode,
    private readonly script: CallScript,
    private readonly kill: (uuid: string, cause: string) => void,
    private readonly done: (call: PlacedCall) => void,
  ) {
    this.id = ids.id;
    this.aUuid = ids.aUuid;
    this.after(CALL_TIMEOUT_MS, () => this.fail(`the call did not end within ${CALL_TIMEOUT_MS} ms`));
  }

  /** Every leg of this call FreeSWITCH may still hold. */
  legs(): string[] {
    return this.bUuid === undefined ? [this.aUuid] : [this.aUuid, this.bUuid];
  }

  jobResult(body: string): void {
    if (body.startsWith('+OK')) return;
    this.jobFailure = body.trim();
    // Nothing ran `socket`: the originate itself failed (configuration, module, dialplan).
    if (!this.socketStarted) this.after(LATE_LEG_GRACE_MS, () => {
      if (!this.socketStarted) this.fail(`originate failed before any leg ran the socket application: ${this.jobFailure}`);
    });
  }

  event(e: Frame): void {
    if (this.finished) return;
    const name = e.header('Event-Name') ?? '';
    const uuid = e.header('Unique-ID');
    if (uuid === undefined || uuid === this.aUuid) return; // A only parks; what matters happens on B.
    if (e.header('variable_other_loopback_leg_uuid') !== this.aUuid && e.header('variable_loopback_leg') !== 'B') return;
    if (this.bUuid === undefined) this.bUuid = uuid;
    if (uuid !== this.bUuid) return;
    this.captureVars(e);
    const app = e.header('Application') ?? '';
    const data = e.header('Application-Data') ?? '';
    this.seen.push(app === '' ? name : `${name}(${app})`);
    switch (name) {
      case 'CHANNEL_EXECUTE':
        if (app === 'socket') return this.onSocket();
        if (app === 'bridge') return this.onBridge(data, e.header('Application-UUID'));
        if (app === 'set' && data.startsWith('crm_router_returned=') && this.socketDone) this.returnedToDialplan = true;
        return;
      case 'CHANNEL_EXECUTE_COMPLETE':
        if (app === 'bridge') return this.onBridgeDone(e);
        if (app === 'socket') this.socketDone = true;
        return;
      case 'CHANNEL_ANSWER':
        this.answered = true;
        return;
      case 'CHANNEL_BRIDGE':
        return this.onAnsweredBridge();
      case 'CHANNEL_HANGUP':
        if (this.hungUp) return;
        this.hungUp = true;
        if (this.socketStarted && !this.socketDone) {
          this.hungUpDuringSocket = true;
          this.hangupCause = e.header('Hangup-Cause');
        }
        return;
      case 'CHANNEL_DESTROY':
        return this.finish();
      default:
        return;
    }
  }

  /** The event socket died: nothing more can be observed. */
  abort(why: Error): void {
    this.fail(why.message);
  }

  private onSocket(): void {
    this.socketStarted = true;
    const at = this.script.callerHangupAtMs;
    if (at !== undefined) {
      // The caller gives up `at` ms after FreeSWITCH started the socket application (≈ the router's connect).
      this.after(at, () => {
        if (!this.hungUp && this.bUuid !== undefined) this.kill(this.bUuid, this.answered ? 'NORMAL_CLEARING' : 'ORIGINATOR_CANCEL');
      });
    }
  }

  private onBridge(arg: string, appUuid: string | undefined): void {
    const d = parseDialString(arg);
    this.bridges.push({ arg, endpoint: d.endpoint, vars: d.vars, outcome: '', startedAtMs: Date.now() - this.startMs, appUuid, done: false });
  }

  private onBridgeDone(e: Frame): void {
    const appUuid = e.header('Application-UUID');
    const open =
      (appUuid !== undefined ? this.bridges.find((b) => !b.done && b.appUuid === appUuid) : undefined) ??
      this.bridges.find((b) => !b.done);
    if (!open) return;
    open.done = true;
    // Read from the bridge's own completion, never from events while it rings (they may say "failure").
    open.outcome = e.header('variable_originate_disposition') ?? e.header('variable_DIALSTATUS') ?? 'UNKNOWN';
  }

  /** The callee answered and the legs are bridged: the caller hangs up shortly after (default 20 ms). */
  private onAnsweredBridge(): void {
    if (this.killScheduled || this.hungUp) return;
    this.killScheduled = true;
    this.after(this.script.callerHangupAfterAnswerMs ?? 20, () => {
      if (!this.hungUp && this.bUuid !== undefined) this.kill(this.bUuid, 'NORMAL_CLEARING');
    });
  }

  /** The variables of B's last event that has any, decoded only when the call ends. */
  private captureVars(e: Frame): void {
    if (e.header('variable_uuid') !== undefined) this.lastWithVars = e;
  }

  private channelVars(): Record<string, string> {
    const vars: Record<string, string> = {};
    for (const [n, v] of this.lastWithVars?.all() ?? []) if (n.startsWith('variable_')) vars[n.slice('variable_'.length)] = v;
    return vars;
  }

  private finish(): void {
    if (this.finished || this.bUuid === undefined) return;
    this.end();
    this.resolveResult({
      uuid: this.bUuid,
      // The router's commands travel on its own socket; a third party cannot see them.
      commands: [],
      bridges: this.bridges.map(({ arg, endpoint, vars, outcome, startedAtMs }) => ({ arg, endpoint, vars, outcome, startedAtMs })),
      channelVars: this.channelVars(),
      callerAnswered: this.answered,
      callerHungUp: this.hungUpDuringSocket,
      ...(this.hangupCause !== undefined ? { hangupCause: this.hangupCause } : {}),
      returnedToDialplan: this.returnedToDialplan,
      // Best effort: the dialplan went on after `socket` only if the router let go of a live call.
      closedBy: this.returnedToDialplan ? 'router' : 'freeswitch',
      // INFERRED, not observed: the channel hung up while the router held it, and FreeSWITCH then
      // destroyed it. The router's `linger` keeps the channel until the router sends `exit` (or closes),
      // so the destruction implies the router released it. The `exit` itself is not visible here.
      sentExit: this.hungUpDuringSocket,
      durationMs: Date.now() - this.startMs,
      written: '',
    });
  }

  private fail(why: string): void {
    if (this.finished) return;
    this.end();
    for (const uuid of this.legs()) this.kill(uuid, 'NORMAL_CLEARING');
    const state = `${this.mode} mode, A=${this.aUuid}, B=${this.bUuid ?? '(never seen)'}, events on B: ${this.seen.join(' ') || '(none)'}` +
      (this.jobFailure !== undefined ? `, originate: ${this.jobFailure}` : '');
    this.rejectResult(new Error(`real FreeSWITCH: ${why} (${state})`));
  }

  private end(): void {
    this.finished = true;
    this.timers.clear();
    this.done(this);
  }

  private after(ms: number, fn: () => void): void {
    this.timers.after(ms, fn);
  }
}

// ---- the Pbx --------------------------------------------------------------------------------------

const SAFE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// `{}` variables of an originate are split on commas and the command line on spaces: keep values plain.
const SAFE_VALUE = /^[A-Za-z0-9_.:@+\-/]*$/;
const RESERVED = /^(origination_|crm_test_|loopback_)/;

/** Printable Latin-1 without what the originate line's syntax uses (`,` `'` `{` `}` and the space inside quotes is fine). */
const SAFE_NAME_BYTES = /^[A-Za-z0-9 .\-\u00a0-\u00ff]*$/;

const originateLine = (call: { id: string; aUuid: string }, run: string, mode: SocketMode, script: PbxScript): string => {
  const caller = script.caller ?? '380441234567';
  const destination = script.destination ?? '5551234';
  if (!/^\d+$/.test(destination)) throw new Error(`real FreeSWITCH: destination ${JSON.stringify(destination)} must be digits (the crm-router context matches ^(\\d+)$)`);
  if (!SAFE_VALUE.test(caller)) throw new Error(`real FreeSWITCH: caller ${JSON.stringify(caller)} has characters an originate line cannot carry`);
  const vars: Array<[string, string]> = [
    ['origination_uuid', call.aUuid],
    ['origination_caller_id_number', caller],
    // Quoted: a name may hold a space. Its bytes reach FreeSWITCH as they are (InboundSocket writes Latin-1).
    ['origination_caller_id_name', script.callerNameBytes === undefined ? caller : `'${script.callerNameBytes}'`],
    ['crm_test_run', run],
    ['crm_test_call', call.id],
    ['crm_test_socket_mode', mode],
    // `single-channel`: the dialplan's extension whose `socket` line lacks `full`.
    ['crm_test_socket_control', script.control ?? 'full'],
    // Keep the loopback pair in place even if both of its legs end up bridged.
    ['loopback_bowout', 'false'],
  ];
  if (script.callerNameBytes !== undefined && !SAFE_NAME_BYTES.test(script.callerNameBytes)) {
    throw new Error(`real FreeSWITCH: caller name ${JSON.stringify(script.callerNameBytes)} has characters an originate line cannot carry`);
  }
  for (const [name, value] of Object.entries(script.variables ?? {})) {
    if (!SAFE_NAME.test(name) || RESERVED.test(name)) throw new Error(`real FreeSWITCH: channel variable name ${JSON.stringify(name)} is not supported`);
    if (!SAFE_VALUE.test(value)) throw new Error(`real FreeSWITCH: value of ${name} (${JSON.stringify(value)}) has characters an originate line cannot carry`);
    vars.push([name, value]);
  }
  return `originate {${vars.map(([n, v]) => `${n}=${v}`).join(',')}}loopback/${destination}/${ROUTER_CONTEXT} &park()`;
};

/** What the emulator can be told to do and a real FreeSWITCH cannot. */
export const unsupported = (script: PbxScript): string | undefined => {
  if (script.uuid !== undefined) return 'uuid (FreeSWITCH picks the uuid of the loopback leg that runs `socket`)';
  if (script.callee !== undefined) return 'callee (the far ends are scripts/freeswitch/conf, following destinations.ts)';
  if (script.resetAtMs !== undefined || script.resetMidFrame) return 'resetAtMs/resetMidFrame';
  if (script.chunked) return 'chunked';
  if (script.parkDelayMs !== undefined || script.lingerGiveUpMs !== undefined || script.msPerSecond !== undefined) return 'parkDelayMs/lingerGiveUpMs/msPerSecond (emulator timing)';
  if (script.mode !== undefined) return 'mode in the script (pass it to placeCall)';
  return undefined;
};

const REASONS: Partial<Record<Capability, string>> = {
  'router-commands': "a real FreeSWITCH does not show a third party the commands the router sends on its own socket; only their effects (channel events) are observable",
  'socket-reset': 'a real FreeSWITCH cannot be told to reset its outbound socket (mid-frame) on demand',
  'chunked-frames': 'a real FreeSWITCH writes its frames itself; how they are split into TCP segments cannot be chosen',
  'media-bypass': "the driver's callers are loopback legs, which carry media themselves: bypass_media needs SIP on both legs (a sipp caller and callee, as the perf branch's scripts/bench/freeswitch-cost.ts has)",
};

export async function connectRealFreeSwitch(
  at: { host: string; port: number },
  password: string,
  routerListen: { host: string; port: number },
): Promise<Pbx> {
  const where = `${at.host}:${at.port}`;
  const hint = 'start one with scripts/freeswitch/local.sh (or run.sh, Docker), or unset CRM_ROUTER_FREESWITCH to run against the emulator';
  // Two connections: FreeSWITCH writes a listener's queued events before it reads the listener's next
  // command, so under a flood of events (200 calls at once: tens of MB) a command on the events'
  // connection waits behind them, for seconds. Commands go on their own connection.
  let esl: InboundSocket;
  let events: InboundSocket;
  try {
    esl = await InboundSocket.open(at.host, at.port, password);
    events = await InboundSocket.open(at.host, at.port, password).catch(async (err: Error) => {
      await esl.close().catch(() => undefined);
      throw err;
    });
  } catch (err) {
    throw new Error(`CRM_ROUTER_FREESWITCH=${where}: ${(err as Error).message}; ${hint}`);
  }
  const calls = new Map<string, PlacedCall>();
  const jobs = new Map<string, PlacedCall>();
  const lateJobs = new Map<string, string>();
  /** Jobs whose result nobody reads (uuid_kill): dropped when their BACKGROUND_JOB comes. */
  const ignoredJobs = new Set<string>();
  const run = randomUUID();
  let broken: Error | undefined;

  const refuse = async (why: string): Promise<never> => {
    await Promise.all([esl.close().catch(() => undefined), events.close().catch(() => undefined)]);
    throw new Error(`CRM_ROUTER_FREESWITCH=${where}: ${why}`);
  };

  // Is this the FreeSWITCH of scripts/freeswitch/conf, and does its dialplan dial the router we start?
  const version = (await esl.api('version')).trim();
  const socketLine = (await esl.api(`global_getvar ${SOCKET_ADDRESS_VAR}`)).trim();
  if (socketLine === '' || socketLine.startsWith('-ERR')) {
    await refuse(`this FreeSWITCH has no global variable ${SOCKET_ADDRESS_VAR}: it does not run scripts/freeswitch/conf`);
  }
  if (socketLine !== `${routerListen.host}:${routerListen.port}`) {
    await refuse(`its dialplan sends calls to ${socketLine} but the router will listen on ${routerListen.host}:${routerListen.port} (CRM_ROUTER_LISTEN)`);
  }
  if ((await esl.api('module_exists mod_loopback')).trim() !== 'true') await refuse('mod_loopback is not loaded');
  const gateway = await esl.api('sofia status gateway pstn');
  if (/Invalid Gateway/i.test(gateway) || gateway.trim() === '') await refuse('it has no sofia gateway "pstn"');

  events.onEvent = (e) => {
    if (e.header('Event-Name') === 'BACKGROUND_JOB') {
      const job = e.header('Job-UUID');
      if (job === undefined) return;
      if (ignoredJobs.delete(job)) return;
      const call = jobs.get(job);
      if (call) {
        jobs.delete(job);
        call.jobResult(e.body);
      } else lateJobs.set(job, e.body); // the event overtook our reading of the bgapi reply
      return;
    }
    const id = e.header('variable_crm_test_call');
    if (id !== undefined) calls.get(id)?.event(e);
  };
  const lost = (why: Error): void => {
    broken = why;
    for (const call of [...calls.values()]) call.abort(why);
  };
  esl.onClose = lost;
  events.onClose = lost;

  const subscribed = await events.command(`event plain ${EVENTS.join(' ')}`);
  if (!(subscribed.header('Reply-Text') ?? '').startsWith('+OK')) await refuse(`event subscription refused: ${subscribed.header('Reply-Text')}`);
  for (const filter of [`variable_crm_test_run ${run}`, 'Event-Name BACKGROUND_JOB']) {
    const reply = await events.command(`filter ${filter}`);
    if (!(reply.header('Reply-Text') ?? '').startsWith('+OK')) await refuse(`filter ${filter} refused: ${reply.header('Reply-Text')}`);
  }

  const kill = (uuid: string, cause: string): void => {
    // The leg may be gone already (-ERR No such channel): that is fine, and so is a dead socket here.
    esl.bgapi(`uuid_kill ${uuid} ${cause}`).then(
      (job) => {
        if (!lateJobs.delete(job)) ignoredJobs.add(job);
      },
      () => undefined,
    );
  };

  return {
    description: `a real FreeSWITCH at ${where} (${version}); the router listens on ${routerListen.host}:${routerListen.port}`,
    can: (capability) => REASONS[capability] ?? true,
    placeCall: async (mode, script = {}) => {
      if (broken) throw broken;
      const bad = unsupported(script);
      if (bad !== undefined) throw new Error(`real FreeSWITCH: the call script asks for ${bad}, which a real FreeSWITCH cannot do`);
      const ids = { id: randomUUID(), aUuid: randomUUID() };
      const line = originateLine(ids, run, mode, script); // throws on a script it cannot carry
      const call = new PlacedCall(ids, mode, script, kill, (c) => calls.delete(c.id));
      calls.set(call.id, call);
      try {
        const job = await esl.bgapi(line);
        const early = lateJobs.get(job);
        if (early !== undefined) {
          lateJobs.delete(job);
          call.jobResult(early);
        } else jobs.set(job, call);
      } catch (err) {
        call.abort(err as Error);
      }
      return call.result;
    },
    close: async () => {
      for (const call of [...calls.values()]) call.abort(new Error('the spec closed the PBX while the call was up'));
      await Promise.all([esl.close().catch(() => undefined), events.close().catch(() => undefined)]);
    },
  };
}
