// One emulated channel talking to the router over one outbound-socket connection.
// Event order and contents follow the captures (see flows.ts for which capture each sequence
// comes from); this file holds the state machine: command handling, socket modes, the park loop,
// linger/exit and hang-up.
import { randomUUID } from 'node:crypto';
import { FrameReader, headerAnyCase, parseHeaderBlock, urlDecode, urlEncode, type Frame, type Header } from './frame.ts';
import { Slot, SLOT_COUNT, applyOps, fill, type EventTemplate } from './templates.ts';
import { parseDialString, ringTimeoutSec, type DialString } from './dial-string.ts';
import * as F from './flows.ts';
import type { BridgeRecord, CallResult, CallScript, CalleeBehaviour, RecordedCommand } from './types.ts';
import { Timers } from '../support/timers.ts';
import { Subscription } from './subscription.ts';
import type { Channels } from './channels.ts';

export interface Transport {
  write(data: string): void;
  end(): void;
  reset(): void;
}

let eventSequence = 1000;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
let dateCacheSec = -1;
let dateLocal = '';
let dateGmt = '';
const p2 = (n: number): string => (n < 10 ? '0' : '') + n;

/** Event-Date-Local / Event-Date-GMT, already url-encoded; the emulated host runs on UTC like the captured one. */
function eventDates(ms: number): void {
  const sec = Math.floor(ms / 1000);
  if (sec === dateCacheSec) return;
  dateCacheSec = sec;
  const d = new Date(sec * 1000);
  const hms = `${p2(d.getUTCHours())}%3A${p2(d.getUTCMinutes())}%3A${p2(d.getUTCSeconds())}`;
  dateLocal = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}%20${hms}`;
  dateGmt = `${DAYS[d.getUTCDay()]},%20${p2(d.getUTCDate())}%20${MONTHS[d.getUTCMonth()]}%20${d.getUTCFullYear()}%20${hms}%20GMT`;
}

interface QueuedApp {
  app: string;
  arg: string;
  uuid: string;
}

/** Where the channel stands, which decides the capture a hang-up sequence is taken from. */
type Context = F.TeardownKey;

export class EmulatedCall {
  readonly uuid: string;
  private readonly script: Required<Pick<CallScript, 'mode' | 'parkDelayMs' | 'callerHangupAfterAnswerMs' | 'lingerGiveUpMs' | 'msPerSecond'>> & CallScript;
  private readonly slots: string[] = new Array<string>(SLOT_COUNT).fill('');
  private readonly vars = new Map<string, string>();
  private readonly reader = new FrameReader();
  private readonly startMs = Date.now();
  private readonly commands: RecordedCommand[] = [];
  private readonly bridges: BridgeRecord[] = [];
  private readonly timers = new Timers();
  private written = '';

  private connected = false;
  private readonly subscription = new Subscription();
  private parkDue = false;
  private linger: number | undefined; // undefined: no linger; -1: forever; N: seconds
  private answered = false;
  private hungUp = false;
  private hangupCause: string | undefined;
  private context: Context = 'idle';
  private closed = false;
  private closedBy: CallResult['closedBy'] = 'router';
  private sentExit = false;
  private returnedToDialplan = false;
  /** The router's socket is gone while an application still runs on the channel. */
  private routerGone = false;
  /** Async mode: the `socket` application has entered its park loop (switch_ivr_park). */
  private parkStarted = false;
  /** `resume` was read: at the listener's end the channel goes to CS_RESET (socket_resume=true). */
  private resume = false;
  private stuck: CallResult['stuck'];

  private readonly queue: QueuedApp[] = [];
  private pickupScheduled = false;
  private running: QueuedApp | undefined;
  /** Sync mode: events held back while an execute is in flight, and commands read after it. */
  private held: string[] = [];
  private syncBacklog: Frame[] = [];
  private interrupt: (() => void) | undefined;
  private chunkChain: Promise<void> = Promise.resolve();
  private resolveResult!: (r: CallResult) => void;
  readonly result: Promise<CallResult>;

  constructor(
    script: CallScript,
    private readonly transport: Transport,
    private readonly channels?: Channels,
  ) {
    this.script = {
      mode: 'async', parkDelayMs: 20, callerHangupAfterAnswerMs: 20, lingerGiveUpMs: 10000, msPerSecond: 1000,
      ...stripUndefined(script),
    };
    this.uuid = script.uuid ?? randomUUID();
    this.result = new Promise((r) => (this.resolveResult = r));
    const s = this.slots;
    s[Slot.CallUuid] = this.uuid;
    s[Slot.OtherUuid] = randomUUID();
    s[Slot.SocketAppUuid] = randomUUID();
    const caller = script.caller ?? '380441234567';
    s[Slot.Caller] = urlEncode(caller);
    s[Slot.CallerRaw] = caller;
    s[Slot.Dest] = urlEncode(script.destination ?? '5551234');
    const created = String(Date.now() * 1000 + Math.floor(Math.random() * 1000));
    s[Slot.Created] = created;
    for (const t of [Slot.Progress, Slot.ProgressMedia, Slot.Answered, Slot.Bridged, Slot.Hangup]) s[t] = '0';
    s[Slot.Cause] = 'NORMAL_CLEARING';
    const data = F.connectReply(this.script.mode);
    for (const [n, v] of data.vars) {
      if (n === 'current_application_data') {
        for (const [k, val] of Object.entries(script.variables ?? {})) this.vars.set(k, urlEncode(val));
      }
      this.vars.set(n, fill(v, s));
    }
    if (script.callerHangupAtMs !== undefined) this.after(script.callerHangupAtMs, () => this.callerHangup());
    if (script.resetAtMs !== undefined) this.after(script.resetAtMs, () => this.reset());
  }

  // ---- wire ----------------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    if (this.lag() > 0) this.readLate(chunk);
    else this.read(chunk);
  }

  /** What a busy FreeSWITCH has not read yet: it wakes `readLagMs` after new bytes and reads all there is. */
  private unread: Array<Buffer | 'close'> = [];

  private readLate(what: Buffer | 'close'): void {
    this.unread.push(what);
    if (this.unread.length > 1) return;
    setTimeout(() => {
      const all = this.unread;
      this.unread = [];
      for (const item of all) {
        if (item === 'close') this.routerClosed();
        else this.read(item);
      }
    }, this.lag());
  }

  private read(chunk: Buffer): void {
    for (const frame of this.reader.push(chunk)) {
      if (this.closed) return;
      if (this.script.mode === 'sync' && this.running) this.syncBacklog.push(frame);
      else this.handle(frame);
    }
  }

  /**
   * The router closed its side (FIN) or the connection broke. An application already running, a bridge
   * above all, is the channel's, not the socket's: it carries on, and the dialplan resumes after it.
   */
  onRouterClose(): void {
    if (this.lag() > 0 || this.unread.length > 0) this.readLate('close');
    else this.routerClosed();
  }

  private lag(): number {
    return this.script.readLagAfterConnect === true && !this.connected ? 0 : (this.script.readLagMs ?? 0);
  }

  /**
   * What the listener's end does to the channel (mod_event_socket.c): async, it clears CF_CONTROLLED,
   * which ends a park loop already running; one not yet begun then parks for good unless `resume` set
   * CS_RESET first (the park returns at once and the application sets CS_EXECUTE). Sync, `resume`
   * leaves the channel in CS_RESET.
   */
  private routerClosed(): void {
    if (this.closed || this.routerGone) return;
    this.routerGone = true;
    if (!this.hungUp && this.connected) {
      if (this.script.mode === 'async' && !this.parkStarted && !this.resume) this.stuck = 'parked';
      if (this.script.mode === 'sync' && this.resume) this.stuck = 'reset';
    }
    if (this.stuck !== undefined) this.finish('router');
    // A signal bridge left both legs in CS_HIBERNATE, where the dialplan does not run (the execute loop
    // runs only in CS_EXECUTE, switch_core_state_machine.c): the call talks on until a leg hangs up.
    else if (this.context === 'bypassed' && !this.hungUp) return;
    else if (!this.running) this.leaveToDialplan();
  }

  private leaveToDialplan(): void {
    if (!this.hungUp) this.returnedToDialplan = true;
    this.finish('router');
  }

  private startPark(): void {
    if (this.parkStarted || this.closed || this.routerGone) return;
    this.parkStarted = true;
    if (this.parkDue && !this.hungUp) this.event(F.park());
    if (this.queue.length > 0) this.schedulePickup();
  }

  /** Called when an application has finished: with the router gone, the dialplan takes the call back. */
  private appFinished(): void {
    if (this.routerGone) this.leaveToDialplan();
  }

  private write(data: string): void {
    if (this.closed || this.routerGone) return;
    if (this.script.recordWritten === true) this.written += data;
    if (this.pendingResetMidFrame) {
      this.pendingResetMidFrame = false;
      this.transport.write(data.slice(0, Math.max(1, data.length >> 1)));
      this.finish('reset');
      this.transport.reset();
      return;
    }
    if (!this.script.chunked) {
      this.transport.write(data);
      return;
    }
    const max = typeof this.script.chunked === 'object' ? this.script.chunked.maxChunk : 7;
    this.chunkChain = this.chunkChain.then(async () => {
      for (let i = 0; i < data.length && !this.closed; ) {
        const n = 1 + Math.floor(Math.random() * max);
        this.transport.write(data.slice(i, i + n));
        i += n;
        await new Promise<void>((r) => setImmediate(r));
      }
    });
  }

  private pendingResetMidFrame = false;

  private reset(): void {
    if (this.closed) return;
    if (this.script.resetMidFrame) {
      this.pendingResetMidFrame = true;
      return;
    }
    this.finish('reset');
    this.transport.reset();
  }

  private reply(text: string): void {
    this.write(F.reply(text));
  }

  // ---- commands ------------------------------------------------------------------------------

  private handle(frame: Frame): void {
    const firstLine = frame.raw.slice(0, frame.raw.indexOf('\n'));
    const [name = '', ...args] = firstLine.trim().split(/\s+/);
    const headers: Record<string, string> = {};
    for (const [n, v] of frame.headers.slice(1)) headers[n] = v;
    const command: RecordedCommand = { raw: frame.raw, name, headers, atMs: Date.now() - this.startMs };
    this.commands.push(command);
    this.script.onCommand?.(command);
    if (!this.connected) {
      // FreeSWITCH waits for `connect` and ignores anything before it.
      if (name !== 'connect') return;
      this.connected = true;
      this.write(this.renderConnectReply());
      if (this.script.mode === 'async') this.after(this.script.parkStartMs ?? 2, () => this.startPark());
      return;
    }
    if (this.script.refuse?.includes(name) === true) return this.reply(`-ERR ${name} refused`);
    switch (name) {
      case 'connect': return this.reply('+OK');
      case 'myevents': return this.subscribe(this.subscription.myevents());
      case 'event': return this.subscribe(this.subscription.event(args));
      case 'nixevent': return this.subscribe(this.subscription.nixevent(args));
      case 'noevents': return this.subscribe(this.subscription.noevents());
      case 'filter':
        if (args.length === 0) return this.reply('-ERR command not found');
        return this.subscribe(this.subscription.filter(firstLine.slice(firstLine.indexOf('filter') + 7).replace(/^ +/, '')));
      case 'linger': {
        const n = Number(args[0]);
        this.linger = args[0] !== undefined && Number.isFinite(n) && n > 0 ? n : -1;
        return this.reply(this.linger > 0 ? `+OK will linger ${this.linger} seconds` : '+OK will linger');
      }
      case 'nolinger':
        this.linger = undefined;
        return this.reply('+OK will not linger');
      case 'exit': return this.exit();
      case 'resume':
        this.resume = true;
        return this.reply('+OK');
      case 'api': return this.write(this.api(firstLine.trim()));
      case 'sendmsg': return this.sendmsg(frame);
      default: return this.reply('-ERR command not found');
    }
  }

  /** After a command that changes what the socket is sent. */
  private subscribe(replyText: string): void {
    const wasOn = this.parkDue;
    // A command read after the call ended must not file it among the live channels again.
    if (!this.closed) this.channels?.place(this, this.subscription.reach());
    this.reply(replyText);
    if (wasOn || !this.subscription.enabled) return;
    this.parkDue = true;
    // The CHANNEL_PARK of the socket app is queued before the router subscribes and delivered
    // shortly after; real FreeSWITCH sometimes loses this race (b, c2-c4 have none).
    if (this.script.mode === 'async' && this.parkStarted && !this.hungUp) this.after(0, () => this.event(F.park()));
  }

  private exit(): void {
    this.sentExit = true;
    this.reply('+OK bye');
    this.write(F.disconnectNotice(this.uuid));
    if (!this.hungUp && this.script.mode === 'async' && !this.parkStarted && !this.resume) {
      this.stuck = 'parked';
      this.finish('freeswitch');
      return;
    }
    if (!this.hungUp && this.script.mode === 'sync' && this.resume) {
      this.stuck = 'reset';
      this.finish('freeswitch');
      return;
    }
    if (!this.hungUp) this.returnedToDialplan = true;
    this.finish('freeswitch');
  }

  private sendmsg(frame: Frame): void {
    const get = (name: string): string | undefined => headerAnyCase(frame.headers, name);
    const cmd = (get('call-command') ?? '').toLowerCase();
    const sync = this.script.mode === 'sync';
    if (cmd === 'execute' && !this.hungUp) {
      const app = get('execute-app-name') ?? '';
      // switch_ivr_parse_event: the body is the argument only when execute-app-arg is empty and the body is text/plain.
      const headerArg = get('execute-app-arg') ?? '';
      const arg = headerArg !== '' ? headerArg : get('content-type')?.toLowerCase() === 'text/plain' ? frame.body : '';
      const q: QueuedApp = { app, arg, uuid: get('Event-UUID') ?? randomUUID() };
      if (sync) {
        this.running = q;
        void this.runApp(q).then(() => this.syncDone());
        return;
      }
      this.reply('+OK');
      this.queue.push(q);
      this.schedulePickup();
      return;
    }
    if (cmd === 'hangup' && !this.hungUp) {
      this.reply('+OK');
      void this.hangup(get('hangup-cause') ?? 'NORMAL_CLEARING');
      return;
    }
    // Unknown call-command, or any command for a channel that has gone: +OK and nothing else.
    this.reply('+OK');
  }

  private syncDone(): void {
    this.running = undefined;
    this.appFinished();
    this.reply('+OK');
    const held = this.held;
    this.held = [];
    for (const e of held) this.write(e);
    if (this.hungUp) this.afterHangupNotices();
    const backlog = this.syncBacklog;
    this.syncBacklog = [];
    for (const f of backlog) {
      if (this.running) this.syncBacklog.push(f);
      else this.handle(f);
    }
  }

  private schedulePickup(): void {
    // Queued applications run from the park loop only.
    if (this.pickupScheduled || this.running || !this.parkStarted) return;
    this.pickupScheduled = true;
    this.after(this.script.parkDelayMs, () => {
      this.pickupScheduled = false;
      void this.drainQueue();
    });
  }

  private async drainQueue(): Promise<void> {
    while (this.queue.length > 0 && !this.hungUp && !this.closed) {
      const q = this.queue.shift()!;
      this.running = q;
      await this.runApp(q);
      this.running = undefined;
      this.appFinished();
    }
    this.queue.length = 0;
  }

  // ---- applications --------------------------------------------------------------------------

  private async runApp(q: QueuedApp): Promise<void> {
    const app = q.app.toLowerCase();
    if (!F.KNOWN_APPS.has(app)) {
      // No CHANNEL_EXECUTE at all: FreeSWITCH fails the lookup and kills the channel (e2).
      await this.hangup('DESTINATION_OUT_OF_ORDER', 'e2');
      return;
    }
    if (app === 'bridge') return this.bridge(q);
    this.execute(q, this.answered ? F.executeAnswered() : F.executeRinging());
    switch (app) {
      case 'set':
      case 'export':
        this.setVar(q.arg);
        break;
      case 'multiset':
        for (const kv of q.arg.split(/\s+/)) if (kv) this.setVar(kv);
        break;
      case 'answer':
        if (!this.answered) this.markAnswered(F.answerEvent());
        break;
      case 'ring_ready':
        if (this.slots[Slot.Progress] === '0') this.event(F.progressEvent('CHANNEL_PROGRESS'), { skipOps: true, at: Slot.Progress });
        break;
      case 'pre_answer':
        if (this.slots[Slot.ProgressMedia] === '0') this.event(F.progressEvent('CHANNEL_PROGRESS_MEDIA'), { skipOps: true, at: Slot.ProgressMedia });
        break;
      case 'sleep':
        await this.wait(Number(q.arg) || 0);
        break;
      case 'hangup':
        await this.hangup(q.arg.trim() || 'NORMAL_CLEARING', undefined, q);
        return;
    }
    if (this.hungUp) return;
    this.complete(q, app === 'answer' ? F.answerComplete() : this.answered ? F.completeAnswered() : F.completeRinging());
  }

  /**
   * `api` on the call's own socket, the line split as mod_event_socket.c and mod_commands.c split it:
   * the command at the first space, the uuid at the next, the variables at `;` (trimmed; a trailing
   * `;` adds none). uuid_setvar_multi as mod_commands.c runs it, any other command as F.apiResponse.
   */
  private api(line: string): string {
    const rest = line.slice(4);
    const space = rest.indexOf(' ');
    const command = space < 0 ? rest : rest.slice(0, space);
    if (command !== 'uuid_setvar_multi') return F.apiResponse(rest);
    const arg = space < 0 ? '' : rest.slice(space + 1);
    if (arg === '') return F.apiReply(`-USAGE: ${F.SETVAR_MULTI_SYNTAX}\n`);
    const gap = arg.indexOf(' ');
    // A uuid alone: the command writes nothing, and api_exec answers for it.
    if (gap < 0) return F.apiReply('');
    // A channel that is down is found no more (switch_core_session_read_lock refuses it).
    if (arg.slice(0, gap) !== this.uuid || this.hungUp) return F.apiReply(`-ERR No such channel!\n-USAGE: ${F.SETVAR_MULTI_SYNTAX}\n`);
    const pairs = arg.slice(gap + 1).split(';').map((pair) => pair.trim());
    if (pairs.length > 1 && pairs[pairs.length - 1] === '') pairs.pop();
    let out = '';
    let set = 0;
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      if (name === '') {
        out += '-ERR No variable specified\n';
        continue;
      }
      // Without `=` FreeSWITCH sets the variable to NULL, which unsets it.
      if (eq < 0) this.vars.delete(name);
      else this.setVar(pair);
      set++;
    }
    return F.apiReply(set > 0 ? `${out}+OK\n` : `${out}-USAGE: ${F.SETVAR_MULTI_SYNTAX}\n`);
  }

  private setVar(kv: string): void {
    const eq = kv.indexOf('=');
    if (eq <= 0) return;
    const name = kv.slice(0, eq);
    const value = kv.slice(eq + 1);
    this.vars.delete(name);
    if (value !== '') this.vars.set(name, urlEncode(value));
  }

  private execute(q: QueuedApp, tpl: EventTemplate): void {
    this.vars.delete('current_loop');
    this.vars.set('current_loop', '1');
    this.vars.delete('total_loops');
    this.vars.set('total_loops', '1');
    this.vars.delete('current_application');
    this.vars.set('current_application', urlEncode(q.app));
    this.vars.delete('current_application_data');
    if (q.arg !== '') this.vars.set('current_application_data', urlEncode(q.arg));
    this.event(tpl, { post: F.appPost(q.app, q.arg, q.uuid, false) });
    // The application runner sets current_application again before the application runs.
    this.vars.delete('current_application');
    this.vars.set('current_application', urlEncode(q.app));
  }

  private complete(q: QueuedApp, tpl: EventTemplate, overrides?: Record<string, string>): void {
    this.event(tpl, { post: F.appPost(q.app, q.arg, q.uuid, true), overrides });
    if (tpl.afterComplete) applyOps(tpl.afterComplete, this.vars, this.slots);
  }

  private markAnswered(tpl: EventTemplate): void {
    this.answered = true;
    this.slots[Slot.Answered] = this.nowUs();
    // FreeSWITCH stamps progress on answer when there was none (a2: answer app, then bridge).
    if (this.slots[Slot.Progress] === '0') this.slots[Slot.Progress] = this.slots[Slot.Answered]!;
    this.event(tpl);
  }

  private callee(d: DialString): CalleeBehaviour {
    if (d.kind === 'invalid' || d.kind === 'empty') return { kind: 'unreachable' };
    return this.script.callee?.(d.endpoint) ?? { kind: 'answer' };
  }

  private async bridge(q: QueuedApp): Promise<void> {
    const d = parseDialString(q.arg);
    const started = Date.now() - this.startMs;
    const record: BridgeRecord = { arg: q.arg, endpoint: d.endpoint, vars: d.vars, outcome: '', startedAtMs: started };
    this.bridges.push(record);
    this.slots[Slot.Dialed] = urlEncode(d.target);
    this.slots[Slot.OtherUuid] = randomUUID();
    const behaviour = this.callee(d);
    if (behaviour.kind === 'answer' && !this.answered && this.varIs('bypass_media')) return this.signalBridge(q, record, behaviour);
    const cont = this.varIs('continue_on_fail');
    const flow = F.bridgeFlow(d.kind, behaviour.kind, this.answered, cont, this.script.callerAckAt);
    this.execute(q, flow.execute);
    record.outcome = flow.disposition;

    if (behaviour.kind === 'answer' && flow.kind === 'answer') {
      const ringMs = behaviour.afterMs ?? 0;
      if (flow.progress) {
        this.event(flow.progress, { at: Slot.Progress });
        if (await this.wait(ringMs)) return this.callerGoneWhileRinging(q, record);
        this.markAnswered(flow.answer!);
      } else if (await this.wait(ringMs)) return this.callerGoneWhileRinging(q, record);
      this.slots[Slot.Bridged] = this.nowUs();
      this.event(flow.bridge!);
      this.context = flow.source === 'b' ? 'b' : 'bridged';
      const calleeMs = behaviour.hangupAfterMs ?? Infinity;
      const callerMs = this.script.callerHangupAfterAnswerMs;
      const interrupted = await this.wait(Math.min(calleeMs, callerMs === undefined ? Infinity : callerMs));
      if (interrupted || callerMs <= calleeMs) {
        // Caller hangs up while bridged (a, a2): HANGUP, UNBRIDGE, EXECUTE_COMPLETE(bridge), teardown.
        if (!interrupted) this.hangupState('NORMAL_CLEARING');
        for (const tpl of F.forMode(flow.callerEnds!, this.script.mode)) this.emitTeardownEvent(tpl, q);
        this.afterHangupNotices();
        return;
      }
      // Callee hangs up (b): UNBRIDGE, EXECUTE_COMPLETE(bridge); the caller stays up unless hangup_after_bridge.
      this.event(flow.calleeEnds![0]!);
      this.complete(q, flow.calleeEnds![1]!);
      this.context = 'b';
      if (this.varIs('hangup_after_bridge')) await this.hangup('NORMAL_CLEARING');
      return;
    }

    if (flow.kind === 'no-answer') {
      this.event(flow.progress!, { at: Slot.Progress });
      const ms = ringTimeoutSec(d, this.decodedVars()) * this.script.msPerSecond;
      if (await this.wait(ms)) return this.callerGoneWhileRinging(q, record);
      this.complete(q, flow.complete!);
      this.context = 'c';
      return;
    }

    // Failures: FreeSWITCH answers within a few tens of ms.
    if (flow.hangsUpCaller) {
      this.hangupState(flow.disposition);
      for (const tpl of F.forMode(flow.failEnds!, this.script.mode)) this.emitTeardownEvent(tpl, q, flow.overrides);
      this.afterHangupNotices();
      return;
    }
    this.complete(q, flow.complete!, flow.overrides);
    this.context = flow.source === 'e2' ? 'e2' : 'c3';
  }

  /**
   * Media bypass (bypass_media=true before `socket`): the callee's answer makes the bridge signal-bridge
   * the legs and return at once, the call up (latin1-a, latin1-sync); in sync mode its reply comes then.
   * Either side's BYE ends both legs.
   */
  private async signalBridge(q: QueuedApp, record: BridgeRecord, behaviour: Extract<CalleeBehaviour, { kind: 'answer' }>): Promise<void> {
    const flow = F.signalBridgeFlow(this.script.mode);
    record.outcome = 'SUCCESS';
    this.execute(q, flow.execute);
    this.event(flow.progress, { at: Slot.Progress });
    if (await this.wait(behaviour.afterMs ?? 0)) return this.callerGoneWhileRinging(q, record);
    this.markAnswered(flow.answer);
    this.event(flow.signalBridge);
    this.complete(q, flow.complete);
    this.context = 'bypassed';
    this.slots[Slot.Bridged] = this.nowUs();
    for (const tpl of flow.up) this.event(tpl);
    const ends = Math.min(behaviour.hangupAfterMs ?? Infinity, this.script.callerHangupAfterAnswerMs);
    if (ends !== Infinity) this.after(ends, () => this.callerHangup());
  }

  /** The caller hung up while the bridge was still ringing: the bridge ends with ORIGINATOR_CANCEL. */
  private callerGoneWhileRinging(q: QueuedApp, record: BridgeRecord): void {
    record.outcome = 'ORIGINATOR_CANCEL';
    const overrides = F.dispositionOverrides('ORIGINATOR_CANCEL');
    for (const tpl of F.teardown('c4', this.script.mode)) this.emitTeardownEvent(tpl, q, overrides);
    this.afterHangupNotices();
  }

  private emitTeardownEvent(tpl: EventTemplate, q: QueuedApp | undefined, overrides?: Record<string, string>): void {
    if (F.isAppComplete(tpl) && q) this.complete(q, tpl, overrides);
    else this.event(tpl, { overrides });
  }

  private varIs(name: string): boolean {
    return (this.vars.get(name) ?? '').toLowerCase() === 'true';
  }

  private decodedVars(): Map<string, string> {
    const m = new Map<string, string>();
    for (const [k, v] of this.vars) m.set(k, urlDecode(v));
    return m;
  }

  // ---- hang-up -------------------------------------------------------------------------------

  private callerHangup(): void {
    if (this.hungUp || this.closed) return;
    const cause = this.answered ? 'NORMAL_CLEARING' : 'ORIGINATOR_CANCEL';
    this.hangupState(cause);
    if (this.interrupt) {
      // The running application (bridge, sleep) sees the hang-up and produces the events itself.
      const i = this.interrupt;
      this.interrupt = undefined;
      i();
      return;
    }
    void this.hangup(cause, undefined, undefined, true);
  }

  private hangupState(cause: string): void {
    this.hungUp = true;
    this.hangupCause = cause;
    this.slots[Slot.Cause] = cause;
    this.slots[Slot.Hangup] = this.nowUs();
  }

  /** The channel hangs up (router's hangup command or app, unknown app, or the caller while idle). */
  private async hangup(cause: string, source?: Context, app?: QueuedApp, alreadyMarked = false): Promise<void> {
    if (this.hungUp && !alreadyMarked) return;
    if (!alreadyMarked) this.hangupState(cause);
    if (this.interrupt) {
      const i = this.interrupt;
      this.interrupt = undefined;
      i();
      return;
    }
    const key: Context = source ?? (this.context === 'idle' ? (this.answered ? 'idle-answered' : 'idle') : this.context);
    for (const tpl of F.teardown(key, this.script.mode)) {
      if (F.isAppComplete(tpl) && app) this.complete(app, tpl);
      else this.event(tpl);
    }
    this.afterHangupNotices();
  }

  /** linger notice / disconnect once the channel is gone. */
  private afterHangupNotices(): void {
    if (this.closed) return;
    // Nobody to tell and nothing to linger for: the router closed the socket while the call talked.
    if (this.routerGone) return this.finish('router');
    if (this.script.mode === 'sync' && this.running) return; // sent when the in-flight reply is
    if (this.linger === undefined) {
      this.write(F.disconnectNotice(this.uuid));
      this.finish('freeswitch');
      return;
    }
    this.write(F.lingerNotice(this.linger, this.slots));
    const linger = this.linger;
    // The linger clock starts when the notice is on the wire: chunked writes may still be queued behind
    // it, and on a loaded machine a clock started earlier ends the call before the router has read them.
    void this.chunkChain.then(() => {
      if (this.closed) return;
      if (linger > 0) {
        this.after(linger * this.script.msPerSecond, () => {
          this.write(F.disconnectNotice(this.uuid));
          this.finish('freeswitch');
        });
      } else {
        this.after(this.script.lingerGiveUpMs, () => this.finish('give-up'));
      }
    });
  }

  // ---- events --------------------------------------------------------------------------------

  private event(tpl: EventTemplate, o: { post?: string; overrides?: Record<string, string> | undefined; skipOps?: boolean; at?: number } = {}): void {
    if (o.at !== undefined && this.slots[o.at] === '0') this.slots[o.at] = this.nowUs();
    if (!o.skipOps) applyOps(tpl.ops, this.vars, this.slots);
    if (o.overrides) for (const [k, v] of Object.entries(o.overrides)) if (this.vars.has(k)) this.vars.set(k, v);
    if (this.closed) return;
    const own = this.subscription.wantsType(tpl.eventName);
    const others = this.othersListening(tpl.eventName);
    if (!own && others.length === 0) return;
    const s = this.stamp();
    let body = fill(tpl.pre, s);
    if (tpl.hasVars) for (const [k, v] of this.vars) body += 'variable_' + k + ': ' + v + '\n';
    body += o.post ?? fill(tpl.post, s);
    body += '\n';
    // Parsed once, and only for a filter on another header than the channel's uuid.
    let headers: Header[] | undefined;
    const get = (name: string): string | undefined => {
      if (headers === undefined) {
        const end = body.indexOf('\n\n');
        headers = parseHeaderBlock(end < 0 ? body : body.slice(0, end));
      }
      const value = headerAnyCase(headers, name);
      return value === undefined ? undefined : urlDecode(value);
    };
    const frame = 'Content-Length: ' + body.length + '\nContent-Type: text/event-plain\n\n' + body;
    for (const listener of own ? [this, ...others] : others) {
      if (listener.subscription.passes(this.uuid, get)) listener.deliver(frame);
    }
  }

  /** The other calls' listeners sent an event of this type from this channel, before their filters. */
  private othersListening(eventName: string): EmulatedCall[] {
    if (this.channels === undefined) return [];
    return this.channels.reaching(this.uuid).filter((other) => other !== this && !other.closed && other.subscription.wantsType(eventName));
  }

  /** Sync mode holds events back while an execute is in flight, as the listener's thread runs it. */
  private deliver(frame: string): void {
    if (this.script.mode === 'sync' && this.running) this.held.push(frame);
    else this.write(frame);
  }

  /** Gives the slots every frame of FreeSWITCH's carries anew: sequence number, time, dates. */
  private stamp(): string[] {
    const s = this.slots;
    const ms = Date.now();
    eventDates(ms);
    s[Slot.Seq] = String(++eventSequence);
    s[Slot.NowUs] = this.nowUs(ms);
    s[Slot.DateLocal] = dateLocal;
    s[Slot.DateGmt] = dateGmt;
    return s;
  }

  private renderConnectReply(): string {
    const s = this.stamp();
    const tpl = F.connectReply(this.script.mode);
    let out = fill(tpl.pre, s);
    for (const [k, v] of this.vars) out += 'variable_' + k + ': ' + v + '\n';
    out += fill(tpl.post, s) + '\n';
    for (const omitted of this.script.omitConnectHeaders ?? []) out = out.replace(new RegExp(`\n${omitted}: [^\n]*`), '');
    return this.script.control === 'single-channel' ? out.replace('\nControl: full\n', '\nControl: single-channel\n') : out;
  }

  private nowUs(ms = Date.now()): string {
    return String(ms * 1000 + Math.floor(Math.random() * 1000));
  }

  // ---- time ----------------------------------------------------------------------------------

  private after(ms: number, fn: () => void): void {
    this.timers.after(ms, fn);
  }

  /** Resolves true if the caller hung up first. */
  private wait(ms: number): Promise<boolean> {
    if (this.hungUp) return Promise.resolve(true);
    return new Promise((resolve) => {
      let t: NodeJS.Timeout | undefined;
      this.interrupt = () => {
        if (t) clearTimeout(t);
        resolve(true);
      };
      if (ms !== Infinity) {
        t = setTimeout(() => {
          this.interrupt = undefined;
          resolve(false);
        }, ms);
      }
    });
  }

  private finish(by: CallResult['closedBy']): void {
    if (this.closed) return;
    this.closed = true;
    this.channels?.remove(this);
    this.closedBy = by;
    this.timers.clear();
    if (this.interrupt) this.interrupt();
    if (by === 'freeswitch' || by === 'give-up') void this.chunkChain.then(() => this.transport.end());
    // Decoded when first read: a load of thousands of calls never reads them.
    const vars = [...this.vars];
    let channelVars: Record<string, string> | undefined;
    this.resolveResult({
      uuid: this.uuid,
      commands: this.commands,
      bridges: this.bridges,
      get channelVars(): Record<string, string> {
        if (channelVars === undefined) {
          channelVars = {};
          for (const [k, v] of vars) channelVars[k] = urlDecode(v);
        }
        return channelVars;
      },
      callerAnswered: this.answered,
      callerHungUp: this.hungUp,
      ...(this.hangupCause !== undefined ? { hangupCause: this.hangupCause } : {}),
      returnedToDialplan: this.returnedToDialplan,
      ...(this.stuck !== undefined ? { stuck: this.stuck } : {}),
      closedBy: this.closedBy,
      sentExit: this.sentExit,
      durationMs: Date.now() - this.startMs,
      ...(this.script.recordWritten === true ? { written: this.written } : {}),
    });
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

