/**
 * The router's Prometheus metrics. Every label value comes from the configuration (scheme names) or
 * from a closed set of tags defined here: nothing a caller, a CRM or FreeSWITCH sends can mint a new
 * series, so a hostile peer cannot blow up the number of series a scrape returns.
 */
import * as E from 'fp-ts/lib/Either.js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CALL_FAILURE_TAGS } from '../core/call-failure.ts';
import { ROUTING_FAILURE_TAGS } from '../core/failure.ts';
import type { ConnectionCounts } from '../esl/outbound-server.ts';
import type { CloseReason } from '../esl/session.ts';
import type { Router } from '../routing/route.ts';
import type { CallRecord, CallResult } from '../telephony/call-record.ts';

export interface ServerSources {
  /** Calls whose socket is open. */
  readonly activeCalls: () => number;
  /** The listener's own counts, when it keeps them. */
  readonly listenerCounts?: () => ConnectionCounts;
  /** Connections that closed without a byte: probes, not calls. */
  readonly probes?: () => number;
}

export interface RouterMetrics {
  readonly registry: Registry;
  /** The same Router, timing and counting each CRM exchange by scheme and outcome. */
  readonly instrument: (route: Router) => Router;
  readonly recordCall: (record: CallRecord) => void;
  readonly observeServer: (sources: ServerSources) => void;
  readonly reloaded: (outcome: 'applied' | 'refused') => void;
}

/**
 * Why a call fell back: every tag of the registry (routing and telephony), and one label for all the
 * bridge dispositions, whose text is FreeSWITCH's and so not a closed set.
 */
const FALLBACK_REASONS: ReadonlySet<string> = new Set([...Object.keys(ROUTING_FAILURE_TAGS), ...CALL_FAILURE_TAGS]);

const RESULT_RECORD: Readonly<Record<CallResult, true>> = { bridged: true, 'fallback-dialplan': true, 'fallback-bridged': true, 'caller-gone': true, 'socket-lost': true };
const RESULTS: ReadonlySet<string> = new Set(Object.keys(RESULT_RECORD));

/** FreeSWITCH's originate dispositions (hangup cause names) a bridge is expected to end with. */
const DISPOSITIONS: ReadonlySet<string> = new Set([
  'SUCCESS',
  'NO_ANSWER',
  'NO_USER_RESPONSE',
  'USER_BUSY',
  'CALL_REJECTED',
  'SUBSCRIBER_ABSENT',
  'USER_NOT_REGISTERED',
  'UNALLOCATED_NUMBER',
  'NO_ROUTE_DESTINATION',
  'INVALID_NUMBER_FORMAT',
  'DESTINATION_OUT_OF_ORDER',
  'NETWORK_OUT_OF_ORDER',
  'NORMAL_TEMPORARY_FAILURE',
  'NORMAL_CLEARING',
  'NORMAL_UNSPECIFIED',
  'RECOVERY_ON_TIMER_EXPIRE',
  'CHAN_NOT_IMPLEMENTED',
  'INCOMPATIBLE_DESTINATION',
  'SERVICE_UNAVAILABLE',
  'EXCHANGE_ROUTING_ERROR',
  'ORIGINATOR_CANCEL',
  'LOSE_RACE',
  'NO_COMPLETION',
  'UNKNOWN',
]);

// Every abnormal close reason, checked against the session's own union: a new reason must be listed.
const ABNORMAL_CLOSES: Readonly<Record<Exclude<CloseReason['_tag'], 'PeerClosed' | 'LocalClose'>, true>> = {
  SocketError: true,
  MalformedFrame: true,
  ListenerFailed: true,
};
const SOCKET_CLOSE_REASONS: ReadonlySet<string> = new Set(Object.keys(ABNORMAL_CLOSES));

const closed = (set: ReadonlySet<string>, value: string | undefined, other: string): string =>
  value !== undefined && set.has(value) ? value : other;

const statusLabel = (status: number | undefined): string =>
  status === undefined ? 'none' : Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : 'invalid';

const fallbackReason = (failure: string | undefined): string =>
  failure?.startsWith('Bridge:') === true ? 'Bridge' : closed(FALLBACK_REASONS, failure, 'Other');

const dispositionOf = (text: string | undefined): string =>
  text?.startsWith('Bridge:') === true ? closed(DISPOSITIONS, text.slice('Bridge:'.length), 'OTHER') : 'UNKNOWN';

/** The bridges a call record tells of: the one to the CRM's destination, then the fallback's. */
function bridgeOutcomes(record: CallRecord): Array<{ attempt: 'crm' | 'fallback'; disposition: string }> {
  const outcomes: Array<{ attempt: 'crm' | 'fallback'; disposition: string }> = [];
  if (record.bridge !== undefined) {
    const disposition =
      record.result === 'bridged' ? 'SUCCESS' : record.failure === 'BridgeLost' ? 'LOST' : dispositionOf(record.failure);
    outcomes.push({ attempt: 'crm', disposition });
  }
  if (record.fallbackBridge !== undefined) {
    const detail = record.failureDetail?.startsWith('fallback ') === true ? record.failureDetail.slice('fallback '.length) : undefined;
    const disposition =
      record.result === 'fallback-bridged'
        ? 'SUCCESS'
        : record.result === 'socket-lost'
          ? 'LOST'
          : detail !== undefined
            ? dispositionOf(detail)
            : record.result === 'caller-gone'
              ? 'ORIGINATOR_CANCEL'
              : 'UNKNOWN';
    outcomes.push({ attempt: 'fallback', disposition });
  }
  return outcomes;
}

export interface MetricsOptions {
  /** The process metrics (CPU, memory, event-loop lag, GC...); specs that make many registries leave them out. */
  readonly processMetrics: boolean;
}

export function createMetrics(options: MetricsOptions): RouterMetrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const calls = new Counter({ name: 'crm_router_calls_total', help: 'Calls the router let go of, by scheme and result.', labelNames: ['scheme', 'result'], registers });
  const fallbacks = new Counter({ name: 'crm_router_fallbacks_total', help: "Calls that took their scheme's fallback, by scheme and reason (failure tag).", labelNames: ['scheme', 'reason'], registers });
  const bridges = new Counter({ name: 'crm_router_bridge_outcomes_total', help: 'Bridges attempted, by attempt (crm or fallback) and FreeSWITCH disposition.', labelNames: ['attempt', 'disposition'], registers });
  const socketErrors = new Counter({ name: 'crm_router_socket_errors_total', help: 'Event-socket connections that ended abnormally, by reason.', labelNames: ['reason'], registers });
  const crmDuration = new Histogram({
    name: 'crm_router_crm_request_duration_seconds',
    help: 'CRM exchanges, from sending the request to the decoded answer, by scheme and outcome (routed or the failure tag).',
    labelNames: ['scheme', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const crmResponses = new Counter({ name: 'crm_router_crm_responses_total', help: 'CRM answers by scheme and HTTP status ("none" when no answer came).', labelNames: ['scheme', 'status'], registers });
  const crmInFlight = new Gauge({ name: 'crm_router_crm_requests_in_flight', help: 'CRM requests sent and not yet answered, by scheme.', labelNames: ['scheme'], registers });
  const reloads = new Counter({ name: 'crm_router_config_reloads_total', help: 'Configuration reloads applied (SIGHUP).', registers });
  const reloadFailures = new Counter({ name: 'crm_router_config_reload_failures_total', help: 'Configuration reloads refused (SIGHUP); the running configuration stayed.', registers });

  let sources: ServerSources | undefined;
  new Gauge({
    name: 'crm_router_calls_in_progress',
    help: 'Calls whose event socket is open.',
    registers,
    collect() {
      this.set(sources?.activeCalls() ?? 0);
    },
  });
  // A counter's value can only grow by inc(); the listener keeps totals, so each scrape adds what grew.
  const listenerCounter = (name: string, help: string, read: (counts: ConnectionCounts) => number): void => {
    let seen = 0;
    new Counter({
      name,
      help,
      registers,
      collect() {
        const counts = sources?.listenerCounts?.();
        if (counts === undefined) return;
        const now = read(counts);
        if (now > seen) this.inc(now - seen);
        seen = now;
      },
    });
  };
  listenerCounter('crm_router_connections_refused_not_allowed_total', 'Event-socket connections refused: the peer address is not allowed.', (c) => c.refusedNotAllowed);
  listenerCounter('crm_router_connections_refused_over_limit_total', 'Event-socket connections refused: too many calls open.', (c) => c.refusedOverLimit);
  listenerCounter('crm_router_accept_errors_total', 'Failed accepts on the event-socket listener (EMFILE...).', (c) => c.acceptErrors);
  let probesSeen = 0;
  new Counter({
    name: 'crm_router_probes_total',
    help: 'Event-socket connections closed without a byte (load balancers, monitoring checks): not calls.',
    registers,
    collect() {
      const now = sources?.probes?.() ?? probesSeen;
      if (now > probesSeen) this.inc(now - probesSeen);
      probesSeen = now;
    },
  });

  const instrument = (route: Router): Router => (scheme, call, signal) => async () => {
    const labels = { scheme: scheme.name };
    crmInFlight.inc(labels);
    const stop = crmDuration.startTimer();
    try {
      const result = await route(scheme, call, signal)();
      stop({ scheme: scheme.name, outcome: E.isRight(result) ? 'routed' : result.left._tag });
      crmResponses.inc({ scheme: scheme.name, status: statusLabel(E.isRight(result) ? result.right.crmStatus : result.left.status) });
      return result;
    } finally {
      crmInFlight.dec(labels);
    }
  };

  const recordCall = (record: CallRecord): void => {
    const scheme = record.scheme ?? 'none';
    const result = closed(RESULTS, record.result, 'unknown');
    calls.inc({ scheme, result });
    if (result === 'fallback-dialplan' || result === 'fallback-bridged') fallbacks.inc({ scheme, reason: fallbackReason(record.failure) });
    for (const outcome of bridgeOutcomes(record)) bridges.inc(outcome);
    if (record.socketClose !== undefined) socketErrors.inc({ reason: closed(SOCKET_CLOSE_REASONS, record.socketClose._tag, 'Other') });
  };

  return {
    registry,
    instrument,
    recordCall,
    observeServer: (s) => {
      sources = s;
    },
    reloaded: (outcome) => (outcome === 'applied' ? reloads.inc() : reloadFailures.inc()),
  };
}
