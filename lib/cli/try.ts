/**
 * `crm-router try`: one call's decision without FreeSWITCH. The scheme is selected, the request built,
 * the real CRM asked and its answer decoded by the very functions a call goes through (selectScheme,
 * the Router, dialString, bridgeArgument); only the CRM exchange is watched on its way, to be shown.
 */
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { Config, Scheme } from '../config/codecs.ts';
import { usedVariables } from '../config/used-variables.ts';
import type { CrmRequest } from '../crm/build-request.ts';
import type { CrmFetch, CrmResponse } from '../crm/fetch.ts';
import type { Logger } from '../log.ts';
import type { Call } from '../core/call.ts';
import { dialString } from '../routing/dial-string.ts';
import { showDestination } from '../core/destination.ts';
import type { RoutingFailure } from '../core/failure.ts';
import { makeRouter } from '../routing/route.ts';
import { selectScheme } from '../routing/select-scheme.ts';
import { bridgeArgument } from '../telephony/bridge.ts';

export interface TryInput {
  readonly scheme: string | undefined;
  readonly caller: string;
  readonly called: string;
  readonly variables: Readonly<Record<string, string>>;
}

/** What would happen once the CRM has been asked: the bridge written, or the fallback taken. */
export type TryOutcome =
  | { readonly _tag: 'Routed'; readonly destination: string; readonly bridge: string }
  | { readonly _tag: 'Fallback'; readonly failure: RoutingFailure; readonly fallback: string };

export interface TryReport {
  readonly scheme: string;
  readonly schemeReason: string;
  readonly call: Call;
  /** As sent, with the values of the scheme's configured headers (credentials) masked. */
  readonly request: CrmRequest;
  readonly response?: { readonly status: number; readonly ms: number; readonly contentType?: string; readonly bytes: number; readonly body: string };
  readonly outcome: TryOutcome;
}

/** Longest part of the CRM's body shown. */
export const SHOWN_BODY_CHARS = 2_000;
export const MASK = '*****';

const masked = (scheme: Scheme, request: CrmRequest): CrmRequest => {
  const secret = new Set(Object.keys(scheme.headers).map((name) => name.toLowerCase()));
  const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, secret.has(name) ? MASK : value]));
  const url = new URL(request.url);
  if (url.password !== '') url.password = MASK;
  return { ...request, url: url.href, headers };
};

const shownBody = (body: Buffer): string => {
  const text = body.toString('utf8');
  return text.length > SHOWN_BODY_CHARS ? `${text.slice(0, SHOWN_BODY_CHARS)}… (${text.length - SHOWN_BODY_CHARS} more characters)` : text;
};

/** The bridge application and argument exactly as the telephony layer writes them. */
const bridgeCommand = (scheme: Scheme, endpoint: string): string => `bridge ${bridgeArgument({ endpoint, callTimeoutS: scheme.callTimeout })}`;

const fallbackOf = (scheme: Scheme): string =>
  scheme.fallback.action === 'bridge'
    ? bridgeCommand(scheme, dialString(scheme, scheme.fallback.destination))
    : 'hand the call back to the dialplan (the action after `socket` runs)';

/** `--scheme` names no configured scheme. */
export type UnknownScheme = { readonly _tag: 'UnknownScheme'; readonly name: string; readonly known: readonly string[] };

export async function tryCall(config: Config, input: TryInput, deps: { readonly fetch: CrmFetch; readonly log: Logger }): Promise<E.Either<UnknownScheme, TryReport>> {
  if (input.scheme !== undefined && !config.schemes.some((s) => s.name === input.scheme)) {
    return E.left({ _tag: 'UnknownScheme', name: input.scheme, known: config.schemes.map((s) => s.name) });
  }
  const uuid = randomUUID();
  // What the connect reply would carry: the caller profile, then what the dialplan set before `socket`.
  const channel: Record<string, string> = { uuid, caller_id_number: input.caller, destination_number: input.called, ...input.variables };
  if (input.scheme !== undefined) channel[config.selection.variable] = input.scheme;
  const used = usedVariables(config);
  const variables = Object.fromEntries(Object.entries(channel).filter(([name]) => used.has(name)));
  const call: Call = { uuid, callId: channel['sip_call_id'] ?? uuid, caller: input.caller, called: input.called, variables };

  const { scheme, reason } = selectScheme(config, call);
  let sent: CrmRequest | undefined;
  let answer: CrmResponse | undefined;
  const watched: CrmFetch = (s, request, signal) => () => {
    sent = request;
    return deps.fetch(s, request, signal)().then((result) => {
      if (E.isRight(result)) answer = result.right;
      return result;
    });
  };
  const routed = await makeRouter({ log: deps.log, fetch: watched })(scheme, call, new AbortController().signal)();
  if (sent === undefined) throw new Error('unreachable: the Router always asks the CRM');
  const outcome: TryOutcome = E.isRight(routed)
    ? { _tag: 'Routed', destination: showDestination(routed.right.destination), bridge: bridgeCommand(scheme, routed.right.dialString) }
    : { _tag: 'Fallback', failure: routed.left, fallback: fallbackOf(scheme) };
  return E.right({
    scheme: scheme.name,
    schemeReason: reason,
    call,
    request: masked(scheme, sent),
    ...(answer === undefined
      ? {}
      : {
          response: {
            status: answer.status,
            ms: answer.ms,
            ...(answer.contentType === undefined ? {} : { contentType: answer.contentType }),
            bytes: answer.body.length,
            body: shownBody(answer.body),
          },
        }),
    outcome,
  });
}

/** The report as an operator reads it in a terminal. */
export function formatTryReport(report: TryReport): string {
  const lines = [`scheme: ${report.scheme} (${report.schemeReason})`, '', 'request:', `  ${report.request.method} ${report.request.url}`];
  for (const [name, value] of Object.entries(report.request.headers)) lines.push(`  ${name}: ${value}`);
  if (report.request.body !== undefined) lines.push('', `  ${report.request.body}`);
  lines.push('');
  const failure = report.outcome._tag === 'Fallback' ? report.outcome.failure : undefined;
  if (report.response !== undefined) {
    const r = report.response;
    lines.push(`answer: HTTP ${r.status} in ${r.ms} ms, ${r.bytes} bytes${r.contentType === undefined ? '' : ` (${r.contentType})`}`, `  ${r.body}`, '');
  } else if (failure !== undefined) {
    const status = failure.status === undefined ? 'no answer' : `HTTP ${failure.status}`;
    lines.push(`answer: ${status}${failure.ms === undefined ? '' : ` after ${failure.ms} ms`}`, '');
  }
  if (report.outcome._tag === 'Routed') {
    lines.push(`routed: ${report.outcome.destination}`, `  ${report.outcome.bridge}`);
  } else {
    const { _tag, status: _status, ms: _ms, ...detail } = report.outcome.failure;
    const facts = Object.entries(detail).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    lines.push(`fallback: ${_tag}${facts.length > 0 ? ` (${facts.join(', ')})` : ''}`, `  ${report.outcome.fallback}`);
  }
  return `${lines.join('\n')}\n`;
}
