/**
 * The routing pipeline: build the request (pure), ask the CRM (effect),
 * decode the answer (pure), make the dial string (pure).
 */
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import type { Scheme } from '../config/codecs.ts';
import { buildRequest } from '../crm/build-request.ts';
import { decodeAnswer } from '../crm/decode-answer.ts';
import type { CrmFetch } from '../crm/fetch.ts';
import type { Call } from '../core/call.ts';
import type { Destination } from '../core/destination.ts';
import { dialString } from './dial-string.ts';
import type { RoutingFailure } from '../core/failure.ts';
import type { Logger } from './logger.ts';

export interface Route {
  readonly destination: Destination;
  /** The endpoint only, e.g. `sofia/gateway/pstn/380123456789`. */
  readonly dialString: string;
  readonly crmStatus: number;
  readonly crmMs: number;
}

export interface RouterDeps {
  readonly log: Logger;
  /** How the CRM is asked: an effect, so it is made where the process is wired (server.ts) and passed in. */
  readonly fetch: CrmFetch;
}

export type Router = (scheme: Scheme, call: Call, signal: AbortSignal) => TE.TaskEither<RoutingFailure, Route>;

/**
 * Logs only what the caller's record cannot say: an answer refused as unsafe
 * or forbidden is logged at warn with the (escaped, truncated) raw value.
 * Every other failure is returned for the telephony layer to record.
 */
function logFailure(log: Logger, scheme: Scheme, call: Call, failure: RoutingFailure): void {
  if (failure._tag === 'UnsafeDestination' || failure._tag === 'ForbiddenDestination') {
    log.warn({ scheme: scheme.name, uuid: call.uuid, ...failure }, 'CRM answer refused');
  } else {
    log.debug({ scheme: scheme.name, uuid: call.uuid, ...failure }, 'CRM routing failed');
  }
}

export function makeRouter(deps: RouterDeps): Router {
  const { fetch } = deps;
  // Unique per process: JSON-RPC only needs an answer to be matched to its request.
  let nextRpcId = 1;
  return (scheme, call, signal) => {
    const request = buildRequest(scheme, call, nextRpcId++);
    deps.log.debug(
      { scheme: scheme.name, uuid: call.uuid, method: request.method, headers: Object.keys(request.headers) },
      'asking CRM',
    );
    return pipe(
      fetch(scheme, request, signal),
      TE.chainEitherKW((response) =>
        pipe(
          decodeAnswer(scheme, response.body, request.rpcId),
          E.bimap(
            (failure): RoutingFailure => ({ ...failure, status: response.status, ms: response.ms }),
            (destination): Route => ({
              destination,
              dialString: dialString(scheme, destination),
              crmStatus: response.status,
              crmMs: response.ms,
            }),
          ),
        ),
      ),
      TE.tapError((failure) => TE.fromIO(() => logFailure(deps.log, scheme, call, failure))),
    );
  };
}
