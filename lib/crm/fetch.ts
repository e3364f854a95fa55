/**
 * Step 2 (effect): one HTTP exchange with the CRM through got. The whole
 * exchange is bounded by the scheme's responseTimeout, never retried, never
 * redirected, capped in size, and cancelled when the caller hangs up.
 */
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import got, { type Got } from 'got';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { Scheme } from '../config/codecs.ts';
import type { FetchFailure } from '../core/failure.ts';
import type { CrmRequest } from './build-request.ts';

/** Largest answer read (after decompression); a destination is a few dozen bytes. */
export const MAX_ANSWER_BYTES = 64 * 1024;

export interface CrmResponse {
  readonly status: number;
  readonly body: Buffer;
  readonly contentType: string | undefined;
  /** From sending the request to the end of the body. */
  readonly ms: number;
}

export type CrmFetch = (scheme: Scheme, request: CrmRequest, signal: AbortSignal) => TE.TaskEither<FetchFailure, CrmResponse>;

const TLS_CODES = new Set([
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);
const isTlsCode = (code: string): boolean => TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code.startsWith('CERT_');

const elapsed = (start: number): number => Math.round((performance.now() - start) * 10) / 10;

function failureOf(error: unknown, signal: AbortSignal, timeoutMs: number, start: number): FetchFailure {
  const ms = elapsed(start);
  if (signal.aborted) return { _tag: 'CrmAborted', ms };
  const { code, name } = error as { code?: unknown; name?: unknown };
  if (name === 'TimeoutError' || code === 'ETIMEDOUT') return { _tag: 'CrmTimeout', timeoutMs, ms };
  const text = typeof code === 'string' ? code : 'UNKNOWN';
  return isTlsCode(text) ? { _tag: 'CrmTlsError', code: text, ms } : { _tag: 'CrmUnreachable', code: text, ms };
}

/**
 * got hands node:http an options object of some thirty keys, most of them undefined TLS settings, and
 * the agent keeps a copy of it for each socket's life: 2-3 KB per socket, so per call waiting on the CRM.
 * Only the keys that are set go on.
 */
const requestWithSetOptions = (url: URL, options: http.RequestOptions, callback?: (response: http.IncomingMessage) => void): http.ClientRequest => {
  const set = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  return (url.protocol === 'https:' ? https.request : http.request)(url, set, callback);
};

/**
 * A got instance for one scheme: its own keep-alive pool, so one slow CRM cannot starve another's sockets.
 * A got stream retries only for a `retry` listener, which makeGotFetch never adds; `retry.limit: 0` keeps
 * the client from retrying through any other of got's APIs too.
 */
export function clientFor(scheme: Scheme): Got {
  const client = got.extend({
    agent: { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) },
    request: requestWithSetOptions,
    timeout: { request: scheme.responseTimeout * 1000 },
    retry: { limit: 0 },
    followRedirect: false,
    throwHttpErrors: false,
    // The CRM's answer is untrusted: no cookies, no cache, nothing kept between calls.
    cache: false,
    mutableDefaults: true,
  });
  // cacheOptions at its documented default, `{}`, in place of the four keys set to undefined that
  // got's merge leaves (only a direct set replaces them; got then refuses any cache option on this
  // client, which caches nothing). Every request's native options begin by spreading this object and
  // add thirty keys, and on Node.js 20's V8 a literal of that shape made each request's objects
  // outlive the young generation: 1.3-1.6 MB promoted per scavenge at 500 requests/s, 0.06-0.14 MB
  // with `{}` (scripts/bench/young-survival.ts). Then frozen as got freezes defaults that are not mutable.
  client.defaults.options.cacheOptions = {};
  client.defaults.options.freeze();
  Object.freeze(client.defaults.handlers);
  return client;
}

/**
 * The production CrmFetch: one got client per scheme, kept by what shapes the client (its name, URL and
 * timeout) rather than by the scheme object, so that a reload which leaves a scheme as it was keeps its
 * pool of CRM connections instead of opening a second one beside it.
 */
export function makeGotFetch(): CrmFetch {
  const clients = new Map<string, Got>();
  return (scheme, request, signal) => () =>
    new Promise((resolve) => {
      const key = `${scheme.name}\n${scheme.url}\n${scheme.responseTimeout}`;
      let client = clients.get(key);
      if (client === undefined) {
        client = clientFor(scheme);
        clients.set(key, client);
      }
      const timeoutMs = scheme.responseTimeout * 1000;
      const start = performance.now();
      let settled = false;
      const settle = (result: E.Either<FetchFailure, CrmResponse>): void => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      if (signal.aborted) return settle(E.left({ _tag: 'CrmAborted', ms: 0 }));

      const stream = client.stream(request.url, {
        method: request.method,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
        signal,
      });
      // A got stream for a body-capable method waits for its body to be written: say there is none.
      if (request.body === undefined && request.method !== 'GET') stream.end();
      let status = 0;
      let contentType: string | undefined;
      let size = 0;
      const chunks: Buffer[] = [];
      const tooLarge = (): void => {
        stream.destroy();
        settle(E.left({ _tag: 'CrmBodyTooLarge', limit: MAX_ANSWER_BYTES, status, ms: elapsed(start) }));
      };
      stream.on('response', (response: http.IncomingMessage) => {
        status = response.statusCode ?? 0;
        contentType = response.headers['content-type'];
        if (Number(response.headers['content-length'] ?? 0) > MAX_ANSWER_BYTES) tooLarge();
      });
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) tooLarge();
        else chunks.push(chunk);
      });
      stream.on('end', () => {
        const ms = elapsed(start);
        if (status < 200 || status > 299) return settle(E.left({ _tag: 'CrmHttpStatus', status, ms }));
        settle(E.right({ status, body: Buffer.concat(chunks, size), contentType, ms }));
      });
      stream.on('error', (error: unknown) => settle(E.left(failureOf(error, signal, timeoutMs, start))));
    });
}
