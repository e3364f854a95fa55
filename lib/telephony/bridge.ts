import { delay } from '../delay.ts';
import { execute } from '../esl/command.ts';
import type { EslSession } from '../esl/session.ts';
import { bridgeOutcome, type BridgeOutcome } from './bridge-outcome.ts';
import type { ChannelWatch } from './channel-watch.ts';
import type { SocketMode } from './channel-data.ts';

export type BridgeResult = BridgeOutcome | { readonly _tag: 'Lost'; readonly reason: string };

export interface BridgeRequest {
  /** A dial string built from validated values only (lib/routing/dial-string.ts). */
  readonly endpoint: string;
  readonly callTimeoutS: number;
  readonly eventUuid: string;
}

/**
 * `originate_timeout` travels in the dial string's `{}` prefix, so the ringing bound needs no command
 * (and no round trip) of its own; the rest of the prefix is ours, never the CRM's.
 */
export const bridgeArgument = (request: Pick<BridgeRequest, 'endpoint' | 'callTimeoutS'>): string =>
  `{originate_timeout=${request.callTimeoutS}}${request.endpoint}`;

/**
 * Bridges the caller and waits for that bridge's completion. In async mode the reply is an immediate
 * `+OK` and the outcome shows only in events; in sync mode the reply itself comes when the bridge has
 * ended, events held back until then. Matching the completion by its Event-UUID serves both.
 * In async mode a bridge that neither connects nor completes well past its ringing bound means a
 * FreeSWITCH we cannot trust any more: the wait is abandoned. In sync mode events are held back for the
 * whole bridged call, so only the socket's closing can end the wait.
 */
export const bridge = async (
  session: EslSession,
  watch: ChannelWatch,
  mode: SocketMode,
  request: BridgeRequest,
  limits: { readonly replyMs: number; readonly ringSlackMs: number },
): Promise<BridgeResult> => {
  const completion = watch.completion(request.eventUuid);
  const sent = session.send([execute('bridge', bridgeArgument(request), request.eventUuid)], mode === 'async' ? limits.replyMs : undefined)();
  let over = false;
  let grace: ReturnType<typeof delay<'abandoned'>> | undefined;
  // A bridge that FreeSWITCH had not started when the caller hung up is answered +OK and never runs:
  // no completion will come. One that was running completes within moments of the hang-up.
  // Every promise raced here is this call's own: a race adds a reaction to each of its promises, and a
  // promise shared by all calls that never settles would keep every finished call's state for good.
  const abandoned = new Promise<'abandoned'>((resolve) => {
    void watch.hangup.then(() => {
      if (over) return;
      grace = delay(limits.replyMs, 'abandoned' as const);
      void grace.promise.then(resolve);
    });
  });
  const stalled = mode === 'async' ? delay(request.callTimeoutS * 1000 + limits.ringSlackMs, 'stalled' as const) : undefined;
  if (stalled) void watch.bridged.then(stalled.cancel);
  const first = await Promise.race(stalled ? [completion, stalled.promise, abandoned] : [completion, abandoned]);
  over = true;
  stalled?.cancel();
  grace?.cancel();
  if (first === 'stalled') return { _tag: 'Lost', reason: 'no bridge completion within the ringing bound' };
  if (first === 'abandoned') return { _tag: 'CallerGone', disposition: 'NO_COMPLETION' };
  if (first === undefined) {
    const reply = await sent;
    return { _tag: 'Lost', reason: reply._tag === 'Left' ? reply.left._tag : 'SocketClosed' };
  }
  return bridgeOutcome(first, watch.isHungUp());
};
