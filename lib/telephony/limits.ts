export interface CallLimits {
  /** How long an ordinary command's reply may take before the router stops routing the call and hands it back. */
  readonly replyMs: number;
  /**
   * How long a FreeSWITCH slower than `replyMs` is still waited for: the reply to a `connect` (it says
   * the socket mode, without which an async call cannot be handed back safely), and its close after a
   * hand-back (it must read the `resume` written before our end).
   */
  readonly lateReplyMs: number;
  /** After `exit` or a hand-back, how long FreeSWITCH gets to close before we do. */
  readonly exitGraceMs: number;
  /** How far past `callTimeout` an async bridge may go without connecting or completing. */
  readonly ringSlackMs: number;
  /** After an answered bridge the router followed to its end, how long the caller may stay up before we hang it up. */
  readonly hangupGraceMs: number;
}

export const DEFAULT_LIMITS: CallLimits = { replyMs: 5_000, lateReplyMs: 30_000, exitGraceMs: 5_000, ringSlackMs: 10_000, hangupGraceMs: 2_000 };
