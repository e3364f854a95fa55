/**
 * The one registry of failure tags (`FailureTag`): the routing (CRM) failures
 * are tagged values declared here, with their detail as data (`code`,
 * `field`/`got`, `reason`, `status`, ...) so the call line can carry it as is;
 * the telephony tags are listed in call-failure.ts.
 *
 * The CRM's failures lead to the scheme's fallback; `status` and `ms`
 * describe the CRM exchange when one took place.
 */
import type { BridgeFailureTag, CallFailureTag } from './call-failure.ts';

interface CrmFacts {
  /** HTTP status of the CRM's answer, when one arrived. */
  readonly status?: number;
  /** Milliseconds from sending the request to the end of the answer (or the failure). */
  readonly ms?: number;
}

type Failure<Tag extends string, Extra = {}> = Readonly<{ _tag: Tag } & Extra> & CrmFacts;

/** No complete answer within `responseTimeout` (connect + answer). */
export type CrmTimeout = Failure<'CrmTimeout', { timeoutMs: number }>;
/** Connection refused, reset, DNS failure, malformed HTTP: `code` is Node's error code. */
export type CrmUnreachable = Failure<'CrmUnreachable', { code: string }>;
/** TLS handshake or certificate failure. */
export type CrmTlsError = Failure<'CrmTlsError', { code: string }>;
/** The CRM answered with a status outside 2xx (redirects are not followed). */
export type CrmHttpStatus = Failure<'CrmHttpStatus', { status: number }>;
/** The answer's body exceeded `limit` bytes; the connection was dropped. */
export type CrmBodyTooLarge = Failure<'CrmBodyTooLarge', { limit: number }>;
/** The caller hung up (the AbortSignal fired) before the CRM answered. */
export type CrmAborted = Failure<'CrmAborted'>;
/** The body is not what the scheme's `import` expects (bad UTF-8, bad JSON, not an object, not JSON-RPC 2.0, id mismatch). */
export type UnparsableAnswer = Failure<'UnparsableAnswer', { reason: string }>;
/** The destination is empty (after trimming). */
export type EmptyDestination = Failure<'EmptyDestination'>;
/** `destinationField` (or JSON-RPC `result`) is absent. */
export type MissingField = Failure<'MissingField', { field: string }>;
/** The field holds something other than a string (numbers included: see README.md, Configuration). */
export type WrongFieldType = Failure<'WrongFieldType', { field: string; got: string }>;
/** A JSON-RPC `error` member; `code` is null when the CRM sent no numeric code. `message` is log-safe. */
export type JsonRpcError = Failure<'JsonRpcError', { code: number | null; message: string }>;
/** Neither a phone number nor a SIP login. `raw` is log-safe (escaped, truncated). */
export type UnsafeDestination = Failure<'UnsafeDestination', { raw: string; reason: string }>;
/** A phone number outside the scheme's `allowedPrefixes`, or a login naming a domain outside its login domains. */
export type ForbiddenDestination = Failure<'ForbiddenDestination', { number: string } | { login: string; domain: string }>;

export type FetchFailure = CrmTimeout | CrmUnreachable | CrmTlsError | CrmHttpStatus | CrmBodyTooLarge | CrmAborted;
export type DestinationFailure = EmptyDestination | UnsafeDestination | ForbiddenDestination;
export type AnswerFailure = UnparsableAnswer | MissingField | WrongFieldType | JsonRpcError | DestinationFailure;
/** Why the CRM could not route a call. */
export type RoutingFailure = FetchFailure | AnswerFailure;
export type RoutingFailureTag = RoutingFailure['_tag'];

// A record over every tag: adding a routing failure without listing it here does not compile.
export const ROUTING_FAILURE_TAGS: Readonly<Record<RoutingFailureTag, true>> = {
  CrmTimeout: true,
  CrmUnreachable: true,
  CrmTlsError: true,
  CrmHttpStatus: true,
  CrmBodyTooLarge: true,
  CrmAborted: true,
  UnparsableAnswer: true,
  EmptyDestination: true,
  MissingField: true,
  WrongFieldType: true,
  JsonRpcError: true,
  UnsafeDestination: true,
  ForbiddenDestination: true,
};

/**
 * Every tag a call line's `failure` can carry: the CRM's (above) and the telephony's
 * (`call-failure.ts`). This is the one registry: a failure is one of these or it does not exist.
 */
export type FailureTag = RoutingFailureTag | CallFailureTag | BridgeFailureTag;
