import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/codecs.ts';
import { systemClock } from './delay.ts';
import { listenOutbound } from './esl/outbound-server.ts';
import type { Logger } from './log.ts';
import { makeRouter, type Router } from './routing/route.ts';
import type { CallRecord } from './telephony/call-record.ts';
import { WATCHED_EVENTS } from './telephony/channel-watch.ts';
import { DEFAULT_LIMITS, handleCall, type CallLimits } from './telephony/handle-call.ts';

export interface RunningRouter {
  readonly address: AddressInfo;
  /** Calls whose socket is still open. */
  readonly activeCalls: () => number;
  /** Stops accepting calls and settles once every call in progress has made its decision. */
  readonly drain: () => Promise<void>;
  /** Connections that closed without a byte (load balancers' and monitors' probes): not calls. */
  readonly probes: () => number;
}

export interface RouterOptions {
  readonly config: Config;
  readonly log: Logger;
  /** Replaces the CRM pipeline (specs); by default the one built from the config. */
  readonly route?: Router;
  readonly limits?: CallLimits;
  readonly onCallDone?: (record: CallRecord) => void;
}

/** The router as a whole: the event-socket server with every connection handled as one call. */
export const startRouter = async (options: RouterOptions): Promise<RunningRouter> => {
  const { config, log } = options;
  const handle = handleCall({
    config,
    log,
    route: options.route ?? makeRouter({ log }),
    newId: randomUUID,
    clock: systemClock,
    limits: options.limits ?? DEFAULT_LIMITS,
  });
  const undecided = new Set<Promise<void>>();
  let open = 0;
  let probes = 0;
  const server = await listenOutbound(
    config.listen,
    (session) => {
      const call = handle(session);
      undecided.add(call.decided);
      void call.decided.then(() => undecided.delete(call.decided));
      open += 1;
      void call.done
        .then((end) => {
          open -= 1;
          if (end._tag === 'Probe') probes += 1;
          else options.onCallDone?.(end.record);
        })
        .catch((error: unknown) => log.error({ err: error }, 'onCallDone failed'));
    },
    { events: WATCHED_EVENTS },
    (error) => log.error({ err: error }, 'event socket listener error'),
  );
  return {
    address: server.address(),
    activeCalls: server.sessionCount,
    drain: async () => {
      server.stopAccepting();
      await Promise.all(undecided);
      // A sync-mode bridge counts as decided once written (lib/telephony/bridge-to.ts): should one of
      // these fail once the router is gone, FreeSWITCH continues the dialplan, not the scheme's fallback.
      if (open > 0) log.warn({ calls: open }, 'stopped with calls still bridging: a sync-mode bridge among them that fails goes to the dialplan after socket');
    },
    probes: () => probes,
  };
};
