// Which captured frames make up each thing the emulated FreeSWITCH says. Every sequence below
// is a run of consecutive events of one capture (ordinals as in that capture), so the order is the
// real one; the capture letter is kept so a reader can open the file and check.
import { loadCapture } from './capture.ts';
import { encodeHeaderBlock, FrameReader, header, urlEncode, type Frame } from './frame.ts';
import { fill, Slot, templatesOf, withAck, type EventTemplate, type Piece, type VarOp } from './templates.ts';
import type { CalleeBehaviour, CallerAckAt, SocketMode } from './types.ts';
import type { EndpointKind } from './dial-string.ts';

const CAP = {
  a: 'a-bridge-user',
  a2: 'a2-bridge-user-event-uuid',
  b: 'b-bridge-gateway',
  c: 'c-bridge-no-answer',
  c3: 'c3-bridge-unreachable',
  c4: 'c4-bridge-unreachable-no-continue',
  d: 'd-caller-cancel-while-thinking',
  d2: 'd2-caller-bye-while-thinking',
  e: 'e-bridge-invalid-user',
  e2: 'e2-invalid-destinations-continue',
  syncA: 'sync-a-bridge-user',
  bypass: 'latin1-a-bridge-user',
  syncBypass: 'latin1-sync-a-bridge-user',
  inbound: 'inbound-auth-api-status',
} as const;

function ev(cap: keyof typeof CAP, i: number): EventTemplate {
  const t = templatesOf(CAP[cap]).events[i];
  if (!t) throw new Error(`no event ${i} in ${CAP[cap]}`);
  return t;
}
function evs(cap: keyof typeof CAP, from: number, to: number): EventTemplate[] {
  const out: EventTemplate[] = [];
  for (let i = from; i <= to; i++) out.push(ev(cap, i));
  return out;
}

export const KNOWN_APPS = new Set(['set', 'multiset', 'export', 'ring_ready', 'pre_answer', 'answer', 'bridge', 'hangup', 'sleep']);

export function connectReply(mode: SocketMode): EventTemplate {
  return templatesOf(mode === 'sync' ? CAP.syncA : CAP.a).channelData;
}

const replyCache = new Map<string, string>();
export function reply(text: string): string {
  let r = replyCache.get(text);
  if (!r) {
    r = encodeHeaderBlock([['Content-Type', 'command/reply'], ['Reply-Text', text]]);
    replyCache.set(text, r);
  }
  return r;
}

/** An API command's answer as api_exec (mod_event_socket.c) writes it; an empty one becomes `-ERR no reply`. */
export function apiReply(text: string): string {
  const body = text === '' ? '-ERR no reply\n' : text;
  return `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`;
}

/** mod_commands.c's usage line for uuid_setvar_multi. */
export const SETVAR_MULTI_SYNTAX = '<uuid> <var>=<value>;<var>=<value>...';

export function apiResponse(cmd: string): string {
  const name = cmd.split(/\s+/)[0] ?? '';
  // `api status` as captured in e2; `api version` as captured on the inbound socket.
  if (name === 'status') return templatesOf(CAP.e2).apiResponses[0]!;
  if (name === 'version') return inboundFrames().find((f) => f.body.startsWith('FreeSWITCH Version'))!.raw;
  return apiReply(`-ERR ${name} Command not found!\n`);
}

export function disconnectNotice(uuid: string): string {
  const body = templatesOf(CAP.a).disconnect;
  return `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${uuid}\nContent-Disposition: disconnect\nContent-Length: ${body.length}\n\n${body}`;
}

/** FreeSWITCH's frames of the inbound capture (it has no channel, so no templates: used as they are). */
let inbound: Frame[] | undefined;
function inboundFrames(): Frame[] {
  return (inbound ??= loadCapture(CAP.inbound).chunks.filter((c) => c.dir === 'fs->router').flatMap((c) => new FrameReader().push(c.bytes)));
}

/** The goodbye body of the inbound socket's disconnect notice. */
export function inboundGoodbye(): string {
  return inboundFrames().find((f) => header(f.headers, 'Content-Type') === 'text/disconnect-notice')!.body;
}

export function lingerNotice(seconds: number, slots: readonly string[]): string {
  const pieces: readonly Piece[] = templatesOf(CAP.a).linger;
  return fill(pieces, slots).replace('Linger-Time: -1\n', `Linger-Time: ${seconds}\n`) + '\n';
}

export const park = (): EventTemplate => ev('a', 0);
export const executeRinging = (): EventTemplate => ev('c', 1);
export const completeRinging = (): EventTemplate => ev('c', 2);
export const executeAnswered = (): EventTemplate => ev('a2', 10);
export const completeAnswered = (): EventTemplate => ev('a2', 9);
export const answerEvent = (): EventTemplate => ev('a2', 8);
/** The caller's ACK as captured (its values are the same kind in every capture: tags, cseq 1, Call-ID, Via, From, To). */
function ack(cap: keyof typeof CAP, i: number): readonly VarOp[] {
  const a = ev(cap, i).ack;
  if (!a) throw new Error(`no ACK in event ${i} of ${CAP[cap]}`);
  return a.ops;
}

/**
 * The answer application's 200 OK is ACKed while the channel waits in the park loop for the next
 * command, so the ACK lands right after the application completed (a2: between EXECUTE_COMPLETE(answer)
 * and the next EXECUTE; d2: before its CHANNEL_HANGUP).
 */
let answerCompleteTpl: EventTemplate | undefined;
export const answerComplete = (): EventTemplate => (answerCompleteTpl ??= { ...ev('a2', 9), afterComplete: [{ ack: ack('a2', 10) }] });

/** ring_ready / pre_answer have no capture: the bridge's CHANNEL_PROGRESS, renamed, without its variable changes. */
const renamed = new Map<string, EventTemplate>();
export function progressEvent(name: 'CHANNEL_PROGRESS' | 'CHANNEL_PROGRESS_MEDIA'): EventTemplate {
  let t = renamed.get(name);
  if (!t) {
    const base = ev('c', 8);
    const first = base.pre[0];
    t = { ...base, eventName: name, pre: [typeof first === 'string' ? first.replace('CHANNEL_PROGRESS', name) : first!, ...base.pre.slice(1)] };
    renamed.set(name, t);
  }
  return t;
}

export function appPost(app: string, arg: string, uuid: string, complete: boolean): string {
  let s = 'Application: ' + app + '\n';
  if (arg !== '') s += 'Application-Data: ' + urlEncode(arg) + '\n';
  if (complete) s += 'Application-Response: _none_\n';
  return s + 'Application-UUID: ' + urlEncode(uuid) + '\n';
}

export function isAppComplete(t: EventTemplate): boolean {
  return t.eventName === 'CHANNEL_EXECUTE_COMPLETE' && !t.post.some((p) => typeof p === 'string' && p.includes('Application: socket'));
}

/** Where the channel stands when it hangs up, i.e. whose capture the hang-up sequence comes from. */
export type TeardownKey = 'idle' | 'idle-answered' | 'bridged' | 'bypassed' | 'b' | 'c' | 'c3' | 'c4' | 'e2';

/** Events from CHANNEL_HANGUP to CHANNEL_HANGUP_COMPLETE. In sync mode only CHANNEL_HANGUP ever arrives. */
export function teardown(key: TeardownKey, mode: SocketMode): EventTemplate[] {
  const all = ((): EventTemplate[] => {
    switch (key) {
      case 'bypassed': return mode === 'sync' ? [bypassEv('syncBypass', 5)] : evs('bypass', 9, 13).map(plainCaller);
      case 'idle': return evs('d', 1, 6);
      case 'idle-answered': return evs('d2', 9, 14);
      case 'bridged': return evs('a', 5, 12);
      case 'b': return evs('b', 6, 11);
      case 'c': return evs('c', 10, 15);
      case 'c3': return evs('c3', 8, 13);
      case 'c4': return evs('c4', 5, 11);
      case 'e2': return evs('e2', 9, 14);
    }
  })();
  return forMode(all, mode);
}

/** In sync mode nothing from CHANNEL_UNPARK on ever reaches the router (sync-a..d end there). */
export function forMode(events: EventTemplate[], mode: SocketMode): EventTemplate[] {
  const cut = events.findIndex((t) => t.eventName === 'CHANNEL_UNPARK');
  return mode === 'sync' && cut >= 0 ? events.slice(0, cut) : events;
}

export interface BridgeFlow {
  kind: 'answer' | 'no-answer' | 'fail';
  source: keyof typeof CAP;
  /** originate_disposition of the outcome. */
  disposition: string;
  execute: EventTemplate;
  progress?: EventTemplate;
  answer?: EventTemplate;
  bridge?: EventTemplate;
  /** Caller hangs up while bridged: HANGUP .. HANGUP_COMPLETE. */
  callerEnds?: EventTemplate[];
  /** Callee hangs up: UNBRIDGE, EXECUTE_COMPLETE(bridge). */
  calleeEnds?: EventTemplate[];
  complete?: EventTemplate;
  /** FreeSWITCH hangs the caller up itself: HANGUP, EXECUTE_COMPLETE(bridge), .. HANGUP_COMPLETE. */
  hangsUpCaller?: boolean;
  failEnds?: EventTemplate[];
  overrides?: Record<string, string>;
}

/** Variable values FreeSWITCH reports for a failed originate with this cause (busy has no capture). */
export function dispositionOverrides(cause: string): Record<string, string> {
  const dial = cause === 'USER_BUSY' ? 'BUSY' : cause === 'NO_ANSWER' ? 'NOANSWER' : cause;
  return {
    originate_disposition: cause,
    DIALSTATUS: dial,
    originate_failed_cause: cause,
    last_bridge_hangup_cause: cause,
  };
}

/**
 * A bridge that answers the caller: the caller's ACK to that 200 OK races the bridge thread (captures
 * of the same scenario show all three): it lands while originate returns (before originate_disposition
 * is written: f, g), after originate but before CHANNEL_BRIDGE (after signal_bond: sync-b), or once the
 * bridge is up (after bridge_to..signal_bond: a, b, f2, g2, sync-a). The templates come without it;
 * this puts it where the race went. Built once per kind.
 */
const answeredFlows = new Map<string, BridgeFlow>();
function answeredBridge(gateway: boolean, at: CallerAckAt): BridgeFlow {
  const key = `${gateway}:${at}`;
  let flow = answeredFlows.get(key);
  if (flow) return flow;
  const a = ack('a', 5);
  const bridgeAck = (t: EventTemplate): EventTemplate =>
    at === 'during-originate' ? withAck(t, a, { before: 'originate_disposition' }) : at === 'before-bridge-event' ? withAck(t, a, 'end') : t;
  const upAck = (t: EventTemplate): EventTemplate => (at === 'after-bridge' ? withAck(t, a, { after: 'signal_bond' }) : t);
  const [execute, progress, answer, bridge] = gateway ? evs('b', 0, 3) : evs('a', 1, 4);
  const [hangup, ...callerRest] = evs('a', 5, 12);
  const [unbridge, complete] = evs('b', 4, 5);
  flow = {
    kind: 'answer', source: gateway ? 'b' : 'a', disposition: 'SUCCESS', execute: execute!, progress: progress!, answer: answer!,
    bridge: bridgeAck(bridge!), callerEnds: [upAck(hangup!), ...callerRest], calleeEnds: [upAck(unbridge!), complete!],
  };
  answeredFlows.set(key, flow);
  return flow;
}

export function bridgeFlow(kind: EndpointKind, callee: CalleeBehaviour['kind'], callerAnswered: boolean, continueOnFail: boolean, ackAt: CallerAckAt = 'after-bridge'): BridgeFlow {
  if (kind === 'invalid' || kind === 'empty') {
    const [x, y] = kind === 'invalid' ? [5, 6] : [7, 8];
    const flow: BridgeFlow = { kind: 'fail', source: 'e2', disposition: 'CHAN_NOT_IMPLEMENTED', execute: ev('e2', x), complete: ev('e2', y) };
    if (!continueOnFail) return { ...flow, hangsUpCaller: true, failEnds: [ev('e', 2), ev('e2', y), ...evs('e', 4, 8)], overrides: dispositionOverrides('CHAN_NOT_IMPLEMENTED') };
    return flow;
  }
  switch (callee) {
    case 'answer':
      if (callerAnswered) {
        return { kind: 'answer', source: 'a2', disposition: 'SUCCESS', execute: ev('a2', 10), bridge: ev('a2', 11), callerEnds: evs('a2', 12, 19), calleeEnds: evs('b', 4, 5) };
      }
      return answeredBridge(kind === 'gateway', ackAt);
    case 'no-answer':
      return { kind: 'no-answer', source: 'c', disposition: 'NO_ANSWER', execute: ev('c', 7), progress: ev('c', 8), complete: ev('c', 9) };
    case 'unknown-user':
      if (!continueOnFail) return { kind: 'fail', source: 'e', disposition: 'SUBSCRIBER_ABSENT', execute: ev('e', 1), hangsUpCaller: true, failEnds: evs('e', 2, 8) };
      return { kind: 'fail', source: 'e2', disposition: 'SUBSCRIBER_ABSENT', execute: ev('e2', 3), complete: ev('e2', 4) };
    case 'unreachable':
      if (!continueOnFail) return { kind: 'fail', source: 'c4', disposition: 'NORMAL_TEMPORARY_FAILURE', execute: ev('c4', 4), hangsUpCaller: true, failEnds: evs('c4', 5, 11) };
      return { kind: 'fail', source: 'c3', disposition: 'NORMAL_TEMPORARY_FAILURE', execute: ev('c3', 6), complete: ev('c3', 7) };
    case 'busy': {
      const overrides = dispositionOverrides('USER_BUSY');
      if (!continueOnFail) return { kind: 'fail', source: 'c4', disposition: 'USER_BUSY', execute: ev('c4', 4), hangsUpCaller: true, failEnds: evs('c4', 5, 11), overrides };
      return { kind: 'fail', source: 'c3', disposition: 'USER_BUSY', execute: ev('c3', 6), complete: ev('c3', 7), overrides };
    }
  }
}

/**
 * The latin1- captures are the media-bypass calls; their caller's Latin-1 display name becomes the
 * caller slot, as the other captures' display name is the caller's number.
 */
const LATIN1_NAME = 'Jos%E9%20M%FCller';
function plainPieces(pieces: readonly Piece[]): Piece[] {
  return pieces.flatMap((p) => (typeof p === 'string' && p.includes(LATIN1_NAME) ? p.split(LATIN1_NAME).flatMap((part, i) => (i === 0 ? [part] : [Slot.Caller, part])) : [p]));
}
function plainCaller(t: EventTemplate): EventTemplate {
  return { ...t, pre: plainPieces(t.pre), post: plainPieces(t.post), ops: t.ops.map((op) => ('set' in op ? { ...op, value: plainPieces(op.value) } : op)) };
}
const bypassEv = (cap: 'bypass' | 'syncBypass', i: number): EventTemplate => plainCaller(ev(cap, i));

export interface SignalBridgeFlow {
  execute: EventTemplate;
  progress: EventTemplate;
  answer: EventTemplate;
  /** CHANNEL_EXECUTE of signal_bridge, which the bridge runs on the caller once the callee answered. */
  signalBridge: EventTemplate;
  /** The bridge's CHANNEL_EXECUTE_COMPLETE, right after the answer: the call is up, its media elsewhere. */
  complete: EventTemplate;
  /** Async mode: the park loop ends with the call up (UNPARK, the socket app's completion, STATE, BRIDGE). */
  up: EventTemplate[];
}

/** An answered bridge with bypass_media=true (latin1-a, latin1-sync): a signal bridge. Hang-up: teardown('bypassed'). */
export function signalBridgeFlow(mode: SocketMode): SignalBridgeFlow {
  const cap = mode === 'sync' ? 'syncBypass' : 'bypass';
  return {
    execute: bypassEv(cap, 0),
    progress: bypassEv(cap, 1),
    answer: bypassEv(cap, 2),
    signalBridge: bypassEv(cap, 3),
    complete: bypassEv(cap, 4),
    up: mode === 'sync' ? [] : [5, 6, 7, 8].map((i) => bypassEv('bypass', i)),
  };
}
