import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { RouterMetrics } from './admin/metrics.ts';
import type { Config } from './config/codecs.ts';
import { makeGotFetch } from './crm/fetch.ts';
import { delay } from './delay.ts';
import { listenOutbound, type ConnectionCounts } from './esl/outbound-server.ts';
import type { EslSession } from './esl/session.ts';
import type { Logger } from './log.ts';
import { makeRouter, type Router } from './routing/route.ts';
import type { CallRecord } from './telephony/call-record.ts';
import { WATCHED_EVENTS } from './telephony/channel-watch.ts';
import { DEFAULT_LIMITS, handleCall, type CallLimits, type HandledCall } from './telephony/handle-call.ts';

/** How a drain ended: every call decided, or the bound ran out first. */
export type DrainResult = 'decided' | 'timed-out';

export interface RunningRouter {
  readonly address: AddressInfo;
  /** Calls whose socket is still open. */
  readonly activeCalls: () => number;
  /** Connections refused (not in listen.allow, over listen.maxConnections) and failed accepts. */
  readonly connectionCounts: () => ConnectionCounts;
  /**
   * Stops accepting calls and settles once every call in progress has made its decision, or after
   * `boundMs` when given, whichever comes first.
   */
  readonly drain: (boundMs?: number) => Promise<DrainResult>;
  /**
   * New calls use `config` from now on; calls in progress finish on the one they started with.
   * Returns why not when the change needs a restart (the listener's address).
   */
  readonly reload: (config: Config) => string | undefined;
}

export interface RouterOptions {
  readonly config: Config;
  readonly log: Logger;
  /** Replaces the CRM pipeline (specs); by default the one built from the config. */
  readonly route?: Router;
  readonly limits?: CallLimits;
  readonly onCallDone?: (record: CallRecord) => void;
  /** Counts every CRM exchange and every call into these. */
  readonly metrics?: RouterMetrics;
}

/** The router as a whole: the event-socket server with every connection handled as one call. */
export const startRouter = async (options: RouterOptions): Promise<RunningRouter> => {
  const { log, metrics } = options;
  const baseRoute = options.route ?? makeRouter({ log, fetch: makeGotFetch() });
  const route = metrics ? metrics.instrument(baseRoute) : baseRoute;
  const handlerFor = (config: Config): ((session: EslSession) => HandledCall) =>
    handleCall({ config, log, route, newId: randomUUID, now: () => performance.now(), limits: options.limits ?? DEFAULT_LIMITS });
  // Each call takes the handler current when its connection arrives, and with it that config.
  let current = { config: options.config, handle: handlerFor(options.config) };
  const undecided = new Set<Promise<void>>();
  const server = await listenOutbound(
    options.config.listen,
    (session) => {
      const call = current.handle(session);
      undecided.add(call.decided);
      void call.decided.then(() => undecided.delete(call.decided));
      if (metrics) void call.done.then(metrics.recordCall).catch((error: unknown) => log.error({ err: error }, 'call metrics failed'));
      if (options.onCallDone) void call.done.then(options.onCallDone).catch((error: unknown) => log.error({ err: error }, 'onCallDone failed'));
    },
    { events: WATCHED_EVENTS },
    (error) => log.error({ err: error }, 'event socket listener error'),
    { log },
  );
  metrics?.observeServer({ activeCalls: server.sessionCount, listenerCounts: server.counts });
  return {
    address: server.address(),
    activeCalls: server.sessionCount,
    connectionCounts: server.counts,
    drain: async (boundMs) => {
      server.stopAccepting();
      // A call handed back over listen.maxConnections is not stranded by the process exiting mid-way.
      const decided = Promise.all([...undecided, server.handedBack()]).then(() => 'decided' as const);
      if (boundMs === undefined) return decided;
      const bound = delay(boundMs, 'timed-out' as const);
      return Promise.race([decided, bound.promise]).finally(bound.cancel);
    },
    reload: (config) => {
      const was = current.config.listen;
      if (config.listen.host !== was.host || config.listen.port !== was.port) {
        return `listen changed (${was.host}:${was.port} → ${config.listen.host}:${config.listen.port}): restart the router to move its listener`;
      }
      // The allow-list and the connection limit belong to the open listener: applied only at start.
      if (JSON.stringify(config.listen) !== JSON.stringify(was)) {
        return 'listen.allow or listen.maxConnections changed: restart the router to apply them';
      }
      current = { config, handle: handlerFor(config) };
      return undefined;
    },
  };
};
