// Public types of the emulator (re-exported by index.ts).

export type SocketMode = 'async' | 'sync';

export type CalleeBehaviour =
  /** Callee answers after afterMs (default 0) and hangs up hangupAfterMs after answering (default: never; the caller ends the call). */
  | { kind: 'answer'; afterMs?: number; hangupAfterMs?: number }
  | { kind: 'no-answer' }
  | { kind: 'busy' }
  | { kind: 'unknown-user' }
  | { kind: 'unreachable' };

/** Where the caller's ACK to a bridge's answer lands among the bridge thread's variable writes (a race on the real FreeSWITCH; flows.ts). */
export type CallerAckAt = 'during-originate' | 'before-bridge-event' | 'after-bridge';

export interface CallScript {
  mode?: SocketMode;
  /** Outcome of the ACK race when a bridge answers the caller. Default 'after-bridge' (5 of the 8 captured runs). */
  callerAckAt?: CallerAckAt;
  uuid?: string;
  caller?: string;
  destination?: string;
  /**
   * Extra channel variables present in the connect reply (as if set by the dialplan before `socket`).
   * `bypass_media: 'true'` makes an answered bridge a signal bridge, as a real FreeSWITCH does.
   */
  variables?: Record<string, string>;
  /** Decides what the far end does; endpoint is the dial string without its {} block. Default: answer. */
  callee?: (endpoint: string) => CalleeBehaviour;
  /** Caller hangs up this long after connect (ORIGINATOR_CANCEL before answer, NORMAL_CLEARING after). */
  callerHangupAtMs?: number;
  /** Caller hangs up this long after a bridge is answered, unless the callee hangs up first. Default 20. */
  callerHangupAfterAnswerMs?: number;
  /** TCP RST at this time after connect. */
  resetAtMs?: number;
  /** With resetAtMs: reset while a frame is half written (waits for the next frame, writes part of it, then resets). */
  resetMidFrame?: boolean;
  /** Write every frame in random small chunks (1..maxChunk bytes) with setImmediate gaps. */
  chunked?: boolean | { maxChunk: number };
  /** Async mode: delay before the park loop picks up queued commands. Default 20 ms (real FreeSWITCH: ~20-25). */
  parkDelayMs?: number;
  /**
   * Async mode: how long after reading `connect` the `socket` application enters its park loop (it
   * polls for the connect with switch_cond_next). A router that closes before then, without `resume`,
   * leaves the channel parked for good (CallResult.stuck). Default 2 ms.
   */
  parkStartMs?: number;
  /** The connect reply's `Control` header: `single-channel` when the dialplan's `socket` line lacks `full`. Default full. */
  control?: 'full' | 'single-channel';
  /**
   * A FreeSWITCH too busy to keep up: it gets to the router's bytes this many ms after they arrive, and
   * then reads all there is, a close included (as a listener thread starved of CPU does), so every
   * reply comes that much late. Default 0.
   */
  readLagMs?: number;
  /** With readLagMs: `connect` is read at once, only what follows it late. */
  readLagAfterConnect?: boolean;
  /** Headers left out of the connect reply (channel data the router cannot use). */
  omitConnectHeaders?: string[];
  /** Commands (by name: `linger`, `myevents`...) answered `-ERR` instead of being carried out. */
  refuse?: string[];
  /** Close and report 'give-up' after waiting this long for `exit` once lingering forever. Default 10000. */
  lingerGiveUpMs?: number;
  /** Multiply every `linger N` / ring timeout (seconds) by this many ms instead of 1000, to keep specs fast. Default 1000. */
  msPerSecond?: number;
  /** Keep every byte written in `CallResult.written` (~100 KB per call). Default false: a load of thousands of calls cannot afford it. */
  recordWritten?: boolean;
  /** Called as each command from the router is read, before it is handled (the load generator times the bridge with it). */
  onCommand?: (command: RecordedCommand) => void;
}

export interface RecordedCommand {
  raw: string;
  name: string;
  headers: Record<string, string>;
  atMs: number;
}

export interface BridgeRecord {
  arg: string;
  endpoint: string;
  vars: Record<string, string>;
  /** originate_disposition FreeSWITCH reported: SUCCESS, NO_ANSWER, USER_BUSY, SUBSCRIBER_ABSENT, NORMAL_TEMPORARY_FAILURE, CHAN_NOT_IMPLEMENTED, ORIGINATOR_CANCEL. */
  outcome: string;
  startedAtMs: number;
}

export interface CallResult {
  uuid: string;
  commands: RecordedCommand[];
  bridges: BridgeRecord[];
  /** Final channel variables, decoded. */
  channelVars: Record<string, string>;
  callerAnswered: boolean;
  callerHungUp: boolean;
  hangupCause?: string;
  /** The router closed the socket (or sent exit) while the caller was still up: FreeSWITCH continues the dialplan. */
  returnedToDialplan: boolean;
  /**
   * The router let go in a way FreeSWITCH does not recover from, the caller still up: `parked` (async
   * mode, closed before the park loop began and no `resume`: rings until the caller gives up), `reset`
   * (sync mode after `resume`: the channel sits in CS_RESET).
   */
  stuck?: 'parked' | 'reset';
  closedBy: 'router' | 'freeswitch' | 'reset' | 'give-up';
  sentExit: boolean;
  durationMs: number;
  /** Every byte the emulator wrote, latin1, for specs that look at the wire; only with `recordWritten`. */
  written?: string;
}
