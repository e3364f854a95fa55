import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/codecs.ts';
import { listenOutbound, type ConnectionCounts } from './esl/outbound-server.ts';
import type { Logger } from './log.ts';
import { makeRouter, type Router } from './routing/route.ts';
import type { CallRecord } from './telephony/call-record.ts';
import { WATCHED_EVENTS } from './telephony/channel-watch.ts';
import { DEFAULT_LIMITS, handleCall, type CallLimits } from './telephony/handle-call.ts';

export interface RunningRouter {
  readonly address: AddressInfo;
  /** Calls whose socket is still open. */
  readonly activeCalls: () => number;
  /** Connections refused (not in listen.allow, over listen.maxConnections) and failed accepts. */
  readonly connectionCounts: () => ConnectionCounts;
  /** Stops accepting calls and settles once every call in progress has made its decision. */
  readonly drain: () => Promise<void>;
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
    now: () => performance.now(),
    limits: options.limits ?? DEFAULT_LIMITS,
  });
  const undecided = new Set<Promise<void>>();
  const server = await listenOutbound(
    config.listen,
    (session) => {
      const call = handle(session);
      undecided.add(call.decided);
      void call.decided.then(() => undecided.delete(call.decided));
      if (options.onCallDone) void call.done.then(options.onCallDone).catch((error: unknown) => log.error({ err: error }, 'onCallDone failed'));
    },
    { events: WATCHED_EVENTS },
    (error) => log.error({ err: error }, 'event socket listener error'),
    { log },
  );
  return {
    address: server.address(),
    activeCalls: server.sessionCount,
    connectionCounts: server.counts,
    drain: async () => {
      server.stopAccepting();
      // A call handed back over listen.maxConnections is not stranded by the process exiting mid-way.
      await Promise.all([...undecided, server.handedBack()]);
    },
  };
};
