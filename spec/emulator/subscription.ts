// Which of the channel's events the outbound socket is sent, as mod_event_socket decides it
// (parse_command: myevents / event / nixevent / noevents / filter; event_handler: the list, then the
// filters). FreeSWITCH decides when it queues an event, not when it writes it: a subscription changed
// by a command takes effect for the events created after that command was read.
// A listener without `myevents` is sent the events of every channel of the same emulator that pass
// its filters (channels.ts); the emulator raises no events of B legs, which a real FreeSWITCH would
// send such a listener too.
import type { Reach } from './channels.ts';

/** switch_event.c EVENT_NAMES, in order (the index is the event id; ALL is last). */
const EVENT_NAMES = [
  'CUSTOM', 'CLONE', 'CHANNEL_CREATE', 'CHANNEL_DESTROY', 'CHANNEL_STATE', 'CHANNEL_CALLSTATE', 'CHANNEL_ANSWER',
  'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HOLD',
  'CHANNEL_UNHOLD', 'CHANNEL_BRIDGE', 'CHANNEL_UNBRIDGE', 'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA',
  'CHANNEL_OUTGOING', 'CHANNEL_PARK', 'CHANNEL_UNPARK', 'CHANNEL_APPLICATION', 'CHANNEL_ORIGINATE', 'CHANNEL_UUID',
  'API', 'LOG', 'INBOUND_CHAN', 'OUTBOUND_CHAN', 'STARTUP', 'SHUTDOWN', 'PUBLISH', 'UNPUBLISH', 'TALK', 'NOTALK',
  'SESSION_CRASH', 'MODULE_LOAD', 'MODULE_UNLOAD', 'DTMF', 'MESSAGE', 'PRESENCE_IN', 'NOTIFY_IN', 'PRESENCE_OUT',
  'PRESENCE_PROBE', 'MESSAGE_WAITING', 'MESSAGE_QUERY', 'ROSTER', 'CODEC', 'BACKGROUND_JOB', 'DETECTED_SPEECH',
  'DETECTED_TONE', 'PRIVATE_COMMAND', 'HEARTBEAT', 'TRAP', 'ADD_SCHEDULE', 'DEL_SCHEDULE', 'EXE_SCHEDULE',
  'RE_SCHEDULE', 'RELOADXML', 'NOTIFY', 'PHONE_FEATURE', 'PHONE_FEATURE_SUBSCRIBE', 'SEND_MESSAGE', 'RECV_MESSAGE',
  'REQUEST_PARAMS', 'CHANNEL_DATA', 'GENERAL', 'COMMAND', 'SESSION_HEARTBEAT', 'CLIENT_DISCONNECTED',
  'SERVER_DISCONNECTED', 'SEND_INFO', 'RECV_INFO', 'RECV_RTCP_MESSAGE', 'SEND_RTCP_MESSAGE', 'CALL_SECURE', 'NAT',
  'RECORD_START', 'RECORD_STOP', 'PLAYBACK_START', 'PLAYBACK_STOP', 'CALL_UPDATE', 'FAILURE', 'SOCKET_DATA',
  'MEDIA_BUG_START', 'MEDIA_BUG_STOP', 'CONFERENCE_DATA_QUERY', 'CONFERENCE_DATA', 'CALL_SETUP_REQ',
  'CALL_SETUP_RESULT', 'CALL_DETAIL', 'DEVICE_STATE', 'TEXT', 'SHUTDOWN_REQUESTED', 'ALL',
] as const;
const ALL = EVENT_NAMES.length - 1;
const CUSTOM = 0;
const ID = new Map<string, number>(EVENT_NAMES.map((n, i) => [n, i]));

/** The types `myevents` turns on (the ones not listed stay as they were). */
const MYEVENTS = [
  'CHANNEL_ANSWER', 'CHANNEL_APPLICATION', 'CHANNEL_BRIDGE', 'CHANNEL_CREATE', 'CHANNEL_DATA', 'CHANNEL_DESTROY',
  'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_ORIGINATE',
  'CHANNEL_UUID', 'CHANNEL_OUTGOING', 'CHANNEL_PARK', 'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_STATE',
  'CHANNEL_UNBRIDGE', 'CHANNEL_UNPARK', 'DETECTED_SPEECH', 'DTMF', 'NOTALK', 'TALK',
] as const;

/** switch_name_event: case-insensitive, with or without the SWITCH_EVENT_ prefix. */
function eventId(name: string): number | undefined {
  const up = name.toUpperCase();
  return ID.get(up.length > 13 && up.startsWith('SWITCH_EVENT_') ? up.slice(13) : up);
}

export class Subscription {
  private readonly list = new Array<boolean>(EVENT_NAMES.length).fill(false);
  /** Without it (LFLAG_EVENTS) nothing is queued at all. */
  private on = false;
  private mine = false;
  private format: 'plain' | 'xml' | 'json' = 'plain';
  private filters: Array<[string, string]> = [];
  /** The channels the filters name, kept as the filters change: read for every event of every call. */
  private named: readonly string[] | undefined;

  /** LFLAG_EVENTS: some command turned events on (noevents turns them off again). */
  get enabled(): boolean {
    return this.on;
  }

  myevents(): string {
    if (this.mine) return '-ERR aready enabled.';
    for (const n of MYEVENTS) this.list[ID.get(n)!] = true;
    this.mine = true;
    this.on = true;
    return '+OK Events Enabled';
  }

  /** `event [plain|xml|json] TYPE...`; a format given first sets the format and names no type. */
  event(args: readonly string[]): string {
    let keys = 0;
    args.forEach((a, i) => {
      const low = a.toLowerCase();
      if (i === 0 && (low === 'plain' || low === 'xml' || low === 'json')) {
        this.format = low;
        return;
      }
      const id = eventId(a);
      if (id === undefined) return;
      keys++;
      if (id === ALL) this.list.fill(true, 0, ALL);
      this.list[id] = true;
    });
    if (keys === 0) return '-ERR no keywords supplied';
    this.on = true;
    return `+OK event listener enabled ${this.format}`;
  }

  /** `nixevent TYPE...`: unknown names are skipped; a nix of one type while ALL is on keeps every other type. */
  nixevent(args: readonly string[]): string {
    let keys = 0;
    for (const a of args) {
      const id = eventId(a);
      if (id === undefined) continue;
      keys++;
      if (id === CUSTOM) continue;
      if (id === ALL) this.list.fill(false);
      else {
        if (this.list[ALL]) {
          this.list[ALL] = false;
          this.list.fill(true, 0, ALL);
        }
        this.list[id] = false;
      }
    }
    if (keys === 0) return '-ERR no keywords supplied';
    this.on = true;
    return '+OK events nixed';
  }

  noevents(): string {
    if (!this.on) return '-ERR not listening for events';
    this.on = false;
    this.list.fill(false);
    return '+OK no longer listening for events';
  }

  /** `filter [add] NAME VALUE`, `filter delete NAME [VALUE]`, `filter delete all`. */
  filter(rest: string): string {
    const sp = rest.indexOf(' ');
    let name = sp < 0 ? rest : rest.slice(0, sp);
    let value: string | undefined = sp < 0 ? undefined : rest.slice(sp + 1);
    if (name.toLowerCase() === 'delete' && value !== undefined) {
      const sp2 = value.indexOf(' ');
      name = sp2 < 0 ? value : value.slice(0, sp2);
      value = sp2 < 0 ? undefined : value.slice(sp2 + 1);
      if (name.toLowerCase() === 'all') this.filters = [];
      else this.filters = this.filters.filter(([n, v]) => !(n.toLowerCase() === name.toLowerCase() && (value === undefined || v === value)));
      this.named = namedUuids(this.filters);
      return `+OK filter deleted. [${name}][${value ?? ''}]`;
    }
    if (value === undefined) return '-ERR invalid syntax';
    if (name.toLowerCase() === 'add') {
      const sp2 = value.indexOf(' ');
      name = sp2 < 0 ? value : value.slice(0, sp2);
      value = sp2 < 0 ? '' : value.slice(sp2 + 1);
    }
    this.filters.push([name, value]);
    this.named = namedUuids(this.filters);
    return `+OK filter added. [${name}]=[${value}]`;
  }

  /**
   * Whose events besides its own channel's this listener can be sent: none with `myevents`
   * (event_handler's Unique-ID check) or events off; with filters that are all positive literal
   * `Unique-ID` values, those channels (FreeSWITCH compares them case-insensitively); else any.
   */
  reach(): Reach {
    if (this.mine || !this.on) return { _tag: 'Own' };
    return this.named === undefined ? { _tag: 'Any' } : { _tag: 'Named', uuids: this.named };
  }

  /**
   * Whether an event of the channel `uuid` that the listener's types take passes its filters; `get`
   * reads the event's other headers, only when a filter names one.
   */
  passes(uuid: string, get: (name: string) => string | undefined): boolean {
    return this.named === undefined ? this.passesFilters(get) : this.named.includes(uuid.toLowerCase());
  }

  /** Whether an event of this type is queued for the socket at all (before filters). */
  wantsType(eventName: string): boolean {
    if (!this.on) return false;
    const id = ID.get(eventName);
    return this.list[ALL] === true || (id !== undefined && this.list[id] === true);
  }

  /**
   * The filters over an event's headers, url-decoded (event_handler: once any filter exists only a
   * matching positive one sends the event, and a matching negative one, `-value`, stops it for good).
   */
  private passesFilters(get: (name: string) => string | undefined): boolean {
    if (this.filters.length === 0) return true;
    let send = false;
    for (const [name, raw] of this.filters) {
      const value = get(name);
      if (value === undefined) continue;
      let i = 0;
      let pos = true;
      while (i < raw.length && (raw[i] === '+' || raw[i] === '-' || raw[i] === ' ')) {
        if (raw[i] === '+') pos = true;
        else if (raw[i] === '-') pos = false;
        i++;
      }
      if (send && pos) continue;
      const want = raw.slice(i);
      const match = raw.startsWith('/') ? regexMatch(raw, value) : want.toLowerCase() === value.toLowerCase();
      if (!match) continue;
      if (!pos) return false;
      send = true;
    }
    return send;
  }
}

/** A filter value starting with '/' is a regular expression `/re/flags` (switch_regex_perform: flags i and s; no closing '/' never matches). */
function regexMatch(expression: string, value: string): boolean {
  const close = expression.lastIndexOf('/');
  if (close <= 0) return false;
  const opts = expression.slice(close + 1);
  const flags = (opts.includes('i') ? 'i' : '') + (opts.includes('s') ? 's' : '');
  try {
    return new RegExp(expression.slice(1, close), flags).test(value);
  } catch {
    return false;
  }
}

/** The channels `filters` name, if they are all positive literal `Unique-ID` values (lower-cased: FreeSWITCH compares them case-insensitively). */
function namedUuids(filters: ReadonlyArray<readonly [string, string]>): string[] | undefined {
  if (filters.length === 0) return undefined;
  const uuids: string[] = [];
  for (const [name, value] of filters) {
    if (name.toLowerCase() !== 'unique-id' || /^[+\- /]/.test(value) || value === '') return undefined;
    uuids.push(value.toLowerCase());
  }
  return uuids;
}
