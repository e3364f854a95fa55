import type { AddressInfo } from 'node:net';
import type { RouterMetrics } from './admin/metrics.ts';
import type { Config } from './config/codecs.ts';
import { makeGotFetch } from './crm/fetch.ts';
import { systemClock, withTimeout } from './delay.ts';
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
  /** Connections that closed without a byte (load balancers' and monitors' probes): not calls. */
  readonly probes: () => number;
  /**
   * Stops accepting calls and settles once every call in progress has made its decision, or after
   * `boundMs` when given, whichever comes first.
   */
  readonly drain: (boundMs?: number) => Promise<DrainResult>;
  /**
   * New calls use `config` from now on; calls in progress finish on the one they started with.
   * Returns why not when the change needs a restart (the listener's settings).
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

/**
 * Event-UUIDs for the router's bridges. FreeSWITCH echoes any string as the Application-UUID of that
 * execution and names its own executions with 36-character UUIDs, which a counter cannot meet; short,
 * because FreeSWITCH pays for every header byte it reads (lib/esl/command.ts).
 */
const applicationIds = (): (() => string) => {
  let n = 0;
  return () => `r${(n += 1).toString(36)}`;
};

/** The router as a whole: the event-socket server with every connection handled as one call. */
export const startRouter = async (options: RouterOptions): Promise<RunningRouter> => {
  const { log, metrics } = options;
  const limits = options.limits ?? DEFAULT_LIMITS;
  const baseRoute = options.route ?? makeRouter({ log, fetch: makeGotFetch() });
  const route = metrics ? metrics.instrument(baseRoute) : baseRoute;
  const newId = applicationIds();
  const handlerFor = (config: Config): ((session: EslSession) => HandledCall) =>
    handleCall({ config, log, route, newId, clock: systemClock, limits });
  // Each call takes the handler current when its connection arrives, and with it that config.
  let current = { config: options.config, handle: handlerFor(options.config) };
  const undecided = new Set<Promise<void>>();
  let open = 0;
  let probes = 0;
  const server = await listenOutbound(
    options.config.listen,
    (session) => {
      const call = current.handle(session);
      undecided.add(call.decided);
      void call.decided.then(() => undecided.delete(call.decided));
      open += 1;
      void call.done
        .then((end) => {
          open -= 1;
          if (end._tag === 'Probe') {
            probes += 1;
            return;
          }
          metrics?.recordCall(end.record);
          options.onCallDone?.(end.record);
        })
        .catch((error: unknown) => log.error({ err: error }, 'onCallDone failed'));
    },
    { events: WATCHED_EVENTS },
    (error) => log.error({ err: error }, 'event socket listener error'),
    { log, replyMs: limits.replyMs, lateReplyMs: limits.lateReplyMs },
  );
  metrics?.observeServer({ activeCalls: server.sessionCount, listenerCounts: server.counts, probes: () => probes });
  return {
    address: server.address(),
    activeCalls: server.sessionCount,
    connectionCounts: server.counts,
    probes: () => probes,
    drain: async (boundMs) => {
      server.stopAccepting();
      // A call handed back over listen.maxConnections is not stranded by the process exiting mid-way.
      const decided = withTimeout(Promise.all([...undecided, server.handedBack()]), boundMs ?? Infinity);
      const result: DrainResult = (await decided)._tag === 'Settled' ? 'decided' : 'timed-out';
      // A sync-mode bridge counts as decided once written (lib/telephony/bridge-to.ts): should one of
      // these fail once the router is gone, FreeSWITCH continues the dialplan, not the scheme's fallback.
      if (open > 0) log.warn({ calls: open }, 'stopped with calls still open: a sync-mode bridge among them that fails goes to the dialplan after socket');
      return result;
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
