// Event and reply templates cut out of the real FreeSWITCH captures. Every frame the emulator
// writes is one of these with per-call values put back in, so header names, order, framing and
// url-encoding are FreeSWITCH's own. Parsing happens once per process; a call only joins
// precomputed pieces.
import { loadCapture, type Capture } from './capture.ts';
import { FrameReader, header, parseHeaderBlock, urlDecode, type Header } from './frame.ts';

/** Per-call values a template can refer to. Indexes into CallSlots.values. */
export const Slot = {
  CallUuid: 0,
  OtherUuid: 1,
  SocketAppUuid: 2,
  Caller: 3,
  CallerRaw: 4,
  Dest: 5,
  Dialed: 6,
  Seq: 7,
  NowUs: 8,
  DateLocal: 9,
  DateGmt: 10,
  Created: 11,
  Progress: 12,
  ProgressMedia: 13,
  Answered: 14,
  Bridged: 15,
  Hangup: 16,
  Cause: 17,
} as const;
export const SLOT_COUNT = 18;

/** A template is literal text interleaved with slot numbers. */
export type Piece = string | number;

/**
 * A change FreeSWITCH made to the channel's variable list: delete a name, or delete and append it
 * at the end (switch_channel_set_variable), or the caller's ACK (see DIALOG_VARS).
 */
export type VarOp =
  | { readonly del: string }
  | { readonly set: string; readonly value: readonly Piece[] }
  | { readonly ack: readonly VarOp[] };

/**
 * What sofia writes when it processes the caller's ACK to the 200 OK of the A leg (sofia.c,
 * extract_vars + extract_header_vars, from sofia's own thread): these names, deleted and appended in
 * this order at the end of the list. Where that lands in the list depends on what the channel was
 * doing when the ACK came in (answer app done: right after it; answered by a bridge: a race with
 * the bridge thread). The templates keep it apart from their other changes (EventTemplate.ack) and
 * the emulator places it (flows.ts). It happens once per call: sip_cseq is first written by it.
 */
export const DIALOG_VARS = ['sip_to_tag', 'sip_from_tag', 'sip_cseq', 'sip_call_id', 'sip_full_via', 'sip_from_display', 'sip_full_from', 'sip_full_to'] as const;
const ACK_DONE = 'sip_cseq';

export interface EventTemplate {
  readonly source: string;
  readonly eventName: string;
  readonly pre: readonly Piece[];
  readonly hasVars: boolean;
  readonly post: readonly Piece[];
  /** How FreeSWITCH changed the channel variables between the previous event of the capture and this one (without the ACK). */
  readonly ops: readonly VarOp[];
  /** The caller's ACK, if the capture shows it among this event's changes: the ops, and the index in `ops` it came before. */
  readonly ack?: { readonly at: number; readonly ops: readonly VarOp[] };
  /** Changes made right after the application whose EXECUTE_COMPLETE this is (applied after the event is written). */
  readonly afterComplete?: readonly VarOp[];
  /** Variable list exactly as captured, for the connect reply. */
  readonly vars: ReadonlyArray<readonly [string, readonly Piece[]]>;
}

/** Variables the emulator manages in code (application bookkeeping), never replayed from a capture. */
const CODE_MANAGED = new Set(['current_application', 'current_application_data', 'current_loop', 'total_loops']);
const SETTERS = new Set(['set', 'multiset', 'export']);

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const TIME_HEADER = /^Caller-(?:Channel|Profile)-(Created|Progress|Progress-Media|Answered|Bridged|Hangup)-Time$/;
const TIME_SLOT: Record<string, number> = {
  Created: Slot.Created,
  Progress: Slot.Progress,
  'Progress-Media': Slot.ProgressMedia,
  Answered: Slot.Answered,
  Bridged: Slot.Bridged,
  Hangup: Slot.Hangup,
};

interface Tokenizer {
  tokenize(name: string, value: string, raw?: boolean): Piece[];
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Learns which literal values of one capture are per-call, so they become slots. */
function makeTokenizer(events: ReadonlyArray<readonly Header[]>, channelData: readonly Header[], dialed?: string): Tokenizer {
  const callUuid = header(channelData, 'Unique-ID')!;
  const caller = header(channelData, 'Caller-Caller-ID-Number')!;
  const dest = header(channelData, 'Caller-Destination-Number')!;
  const times = new Map<string, number>();
  let socketApp: string | undefined;
  for (const hs of [channelData, ...events]) {
    for (const [n, v] of hs) {
      const m = TIME_HEADER.exec(n);
      if (m && v !== '0') times.set(v, TIME_SLOT[m[1]!]!);
    }
    if (header(hs, 'Application') === 'socket') socketApp = header(hs, 'Application-UUID');
  }
  const alternatives = [UUID, '(?<![0-9])\\d{16}(?![0-9])', `(?<![0-9])${escapeRe(caller)}(?![0-9])`, `(?<![0-9])${escapeRe(dest)}(?![0-9])`];
  if (dialed) alternatives.push(`(?<![0-9A-Za-z])${escapeRe(dialed)}(?![0-9])`);
  const re = new RegExp(alternatives.join('|'), 'g');
  const coreUuid = header(channelData, 'Core-UUID');
  return {
    tokenize(name, value, raw = false) {
      const timeHeader = TIME_HEADER.exec(name);
      if (timeHeader && value !== '0') return [TIME_SLOT[timeHeader[1]!]!];
      switch (name) {
        case 'Event-Sequence': return [Slot.Seq];
        case 'Event-Date-Timestamp': return [Slot.NowUs];
        case 'Event-Date-Local': return [Slot.DateLocal];
        case 'Event-Date-GMT': return [Slot.DateGmt];
        case 'Hangup-Cause':
        case 'variable_hangup_cause': return [Slot.Cause];
      }
      const out: Piece[] = [];
      let last = 0;
      for (const m of value.matchAll(re)) {
        const tok = m[0];
        let slot: number | undefined;
        if (tok === callUuid) slot = Slot.CallUuid;
        else if (tok === socketApp) slot = Slot.SocketAppUuid;
        else if (tok.length === 36) slot = tok === coreUuid ? undefined : Slot.OtherUuid;
        else if (tok.length === 16 && /^\d+$/.test(tok)) slot = times.get(tok);
        else if (tok === caller) slot = raw ? Slot.CallerRaw : Slot.Caller;
        else if (tok === dest) slot = Slot.Dest;
        else if (tok === dialed) slot = Slot.Dialed;
        if (slot === undefined) continue;
        if (m.index > last) out.push(value.slice(last, m.index));
        out.push(slot);
        last = m.index + tok.length;
      }
      if (last < value.length) out.push(value.slice(last));
      return out;
    },
  };
}

function linePieces(t: Tokenizer, hs: readonly Header[], raw = false): Piece[] {
  const out: Piece[] = [];
  for (const [n, v] of hs) {
    out.push(n + ': ');
    out.push(...t.tokenize(n, v, raw));
    out.push('\n');
  }
  return mergeLiterals(out);
}

function mergeLiterals(ps: readonly Piece[]): Piece[] {
  const out: Piece[] = [];
  for (const p of ps) {
    const prev = out[out.length - 1];
    if (typeof p === 'string' && typeof prev === 'string') out[out.length - 1] = prev + p;
    else if (p !== '') out.push(p);
  }
  return out;
}

type VarList = ReadonlyArray<readonly [string, string]>;

/**
 * FreeSWITCH changes a channel variable by deleting it and appending it again, so the list after
 * an event is "old list minus some names, plus a tail". Recover that as delete/append operations.
 */
function diffVars(prev: VarList, next: VarList): Array<{ del: string } | { set: string; value: string }> {
  let j = 0;
  let i = 0;
  const matched = new Set<number>();
  for (; i < next.length; i++) {
    const [n, v] = next[i]!;
    let k = j;
    while (k < prev.length && !(prev[k]![0] === n && prev[k]![1] === v)) k++;
    if (k === prev.length) break;
    matched.add(k);
    j = k + 1;
  }
  const tail = next.slice(i);
  const tailNames = new Set(tail.map(([n]) => n));
  const nextNames = new Set(next.map(([n]) => n));
  const ops: Array<{ del: string } | { set: string; value: string }> = [];
  prev.forEach(([n], k) => {
    if (!matched.has(k) && !nextNames.has(n) && !tailNames.has(n)) ops.push({ del: n });
  });
  for (const [n, v] of tail) ops.push({ set: n, value: v });
  return ops;
}

/** Takes the caller's ACK (DIALOG_VARS as one run) out of a capture's variable changes. */
function splitAck(ops: VarOp[]): { ops: VarOp[]; ack?: { at: number; ops: VarOp[] } } {
  const at = ops.findIndex((op, i) => DIALOG_VARS.every((n, k) => { const o = ops[i + k]; return o !== undefined && 'set' in o && o.set === n; }));
  if (at < 0) {
    if (ops.some((op) => 'set' in op && op.set === ACK_DONE)) throw new Error(`${ACK_DONE} written outside the ACK block: ${ops.map((o) => ('set' in o ? o.set : '')).join(' ')}`);
    return { ops };
  }
  return { ops: [...ops.slice(0, at), ...ops.slice(at + DIALOG_VARS.length)], ack: { at, ops: ops.slice(at, at + DIALOG_VARS.length) } };
}

/** The same template with the caller's ACK happening just before or after the change of one variable, or after all of them. */
export function withAck(t: EventTemplate, ack: readonly VarOp[], where: { before: string } | { after: string } | 'end'): EventTemplate {
  const name = where === 'end' ? undefined : 'before' in where ? where.before : where.after;
  const i = name === undefined ? t.ops.length : t.ops.findIndex((op) => 'set' in op && op.set === name);
  if (i < 0) throw new Error(`${t.source} ${t.eventName}: no change of ${name ?? ''} to place the ACK at`);
  const at = where !== 'end' && 'after' in where ? i + 1 : i;
  return { ...t, ops: [...t.ops.slice(0, at), { ack }, ...t.ops.slice(at)] };
}

/** Applies variable changes to a channel's list (insertion-ordered, like FreeSWITCH's event headers). */
export function applyOps(ops: readonly VarOp[], vars: Map<string, string>, slots: readonly string[]): void {
  for (const op of ops) {
    if ('del' in op) vars.delete(op.del);
    else if ('ack' in op) {
      if (vars.has(ACK_DONE)) continue;
      // The ACK is in the caller's dialog, so it carries the INVITE's Call-ID (a real FreeSWITCH's
      // call_id stays what the connect reply said); the captured ACK comes from another call's dialog.
      const callId = vars.get('sip_call_id');
      applyOps(op.ack, vars, slots);
      if (callId !== undefined) vars.set('sip_call_id', callId);
    } else {
      vars.delete(op.set);
      vars.set(op.set, fill(op.value, slots));
    }
  }
}

export interface CaptureTemplates {
  readonly name: string;
  readonly capture: Capture;
  /** The connect reply (CHANNEL_DATA) split like an event. */
  readonly channelData: EventTemplate;
  /** Every text/event-plain frame of the capture, in order. */
  readonly events: readonly EventTemplate[];
  readonly linger: readonly Piece[];
  readonly disconnect: string;
  /** Raw reply frames by Reply-Text, e.g. '+OK will linger'. */
  readonly replies: ReadonlyMap<string, string>;
  readonly apiResponses: readonly string[];
}

function splitEvent(hs: readonly Header[]): { pre: Header[]; vars: Array<[string, string]>; post: Header[] } {
  const first = hs.findIndex(([n]) => n.startsWith('variable_'));
  if (first < 0) return { pre: [...hs], vars: [], post: [] };
  let last = first;
  while (last + 1 < hs.length && hs[last + 1]![0].startsWith('variable_')) last++;
  return {
    pre: hs.slice(0, first),
    vars: hs.slice(first, last + 1).map(([n, v]) => [n.slice('variable_'.length), v]),
    post: hs.slice(last + 1),
  };
}

function buildCapture(name: string): CaptureTemplates {
  const capture = loadCapture(name);
  const frames = capture.chunks.filter((c) => c.dir === 'fs->router').map((c) => {
    const fr = new FrameReader().push(c.bytes);
    if (fr.length !== 1) throw new Error(`${name}: a chunk is not exactly one frame`);
    return fr[0]!;
  });
  const dataFrame = frames.find((f) => header(f.headers, 'Event-Name') === 'CHANNEL_DATA');
  if (!dataFrame) throw new Error(`${name}: no connect reply`);
  const eventHeaders: Header[][] = [];
  for (const f of frames) {
    if (header(f.headers, 'Content-Type') === 'text/event-plain') {
      eventHeaders.push(parseHeaderBlock(f.body.slice(0, f.body.indexOf('\n\n'))));
    }
  }
  const bridgeArg = eventHeaders.map((hs) => (header(hs, 'Application') === 'bridge' ? header(hs, 'Application-Data') : undefined)).find((x) => x);
  // The dialed user/number of the capture's first bridge (1000, 9999, 380123456789) is per-call too.
  const dialed = bridgeArg ? urlDecode(bridgeArg).split('/').pop() : undefined;
  const t = makeTokenizer(eventHeaders, dataFrame.headers, dialed);

  const toTemplate = (hs: readonly Header[], prevVars: VarList): [EventTemplate, VarList] => {
    const { pre, vars, post } = splitEvent(hs);
    // The emulator does an application's own bookkeeping (and a set's effect) in code; only
    // what FreeSWITCH changed by itself is replayed from the capture.
    const app = header(hs, 'Application');
    const appEvent = app !== undefined && app !== 'socket';
    const all: VarOp[] = vars.length === 0 || (appEvent && SETTERS.has(app)) ? [] : diffVars(prevVars, vars)
      .filter((op) => !appEvent || !CODE_MANAGED.has('del' in op ? op.del : op.set))
      .map((op) => ('del' in op ? op : { set: op.set, value: t.tokenize('variable_' + op.set, op.value) }));
    const { ops, ack } = splitAck(all);
    return [
      {
        source: name,
        eventName: header(hs, 'Event-Name') ?? '',
        pre: linePieces(t, pre),
        hasVars: vars.length > 0,
        post: linePieces(t, post),
        ops,
        ...(ack ? { ack } : {}),
        vars: vars.map(([n, v]) => [n, t.tokenize('variable_' + n, v)] as const),
      },
      vars.length > 0 ? vars : prevVars,
    ];
  };

  const [channelData, initialVars] = toTemplate(dataFrame.headers, []);
  let prev = initialVars;
  const events: EventTemplate[] = [];
  for (const hs of eventHeaders) {
    const [tpl, vars] = toTemplate(hs, prev);
    events.push(tpl);
    prev = vars;
  }
  const replies = new Map<string, string>();
  let linger: Piece[] = [];
  let disconnect = '';
  const apiResponses: string[] = [];
  for (const f of frames) {
    const ct = header(f.headers, 'Content-Type');
    if (ct === 'command/reply' && !header(f.headers, 'Event-Name')) replies.set(header(f.headers, 'Reply-Text') ?? '', f.raw);
    else if (ct === 'text/disconnect-notice') {
      const p = linePieces(t, f.headers, true);
      if (header(f.headers, 'Content-Disposition') === 'linger') linger = p;
      else disconnect = f.body;
    } else if (ct === 'api/response') apiResponses.push(f.raw);
  }
  return { name, capture, channelData, events, linger, disconnect, replies, apiResponses };
}

const cache = new Map<string, CaptureTemplates>();

/** Templates of one capture, built once per process. */
export function templatesOf(name: string): CaptureTemplates {
  let t = cache.get(name);
  if (!t) {
    t = buildCapture(name);
    cache.set(name, t);
  }
  return t;
}

/** Fills a template; values are indexed by Slot. */
export function fill(pieces: readonly Piece[], values: readonly string[]): string {
  let s = '';
  for (const p of pieces) s += typeof p === 'string' ? p : values[p]!;
  return s;
}
