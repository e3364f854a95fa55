/** Step 1 (pure): a scheme and a call become the HTTP request sent to the CRM. */
import type { Scheme } from '../config/codecs.ts';
import { renderTemplate } from '../config/template.ts';
import type { Call } from '../core/call.ts';
import { VERSION } from './version.ts';

export type HttpMethod = Scheme['method'];

export interface CrmRequest {
  readonly method: HttpMethod;
  /** With the query string when parameters travel in it. */
  readonly url: string;
  /** Lower-case names. Values may be secrets: log the names only. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** The JSON-RPC id sent, which the answer must echo. */
  readonly rpcId?: number;
}

const USER_AGENT = `crm-router/${VERSION}`;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * The call parameters in order: `call_id`, `uuid`, `caller`, `called`,
 * `scheme`, then the scheme's `params` (a param with a default's name
 * replaces that default's value). A Map keeps a param named `__proto__` an
 * ordinary entry.
 */
export function callParams(scheme: Pick<Scheme, 'name' | 'params'>, call: Call): Map<string, string> {
  const params = new Map<string, string>([
    ['call_id', call.callId],
    ['uuid', call.uuid],
    ['caller', call.caller],
    ['called', call.called],
    ['scheme', scheme.name],
  ]);
  for (const [name, template] of Object.entries(scheme.params)) params.set(name, renderTemplate(template, call.variables));
  return params;
}

/** JSON-RPC and JSON submissions always POST (the config loader warns about any other method). */
const effectiveMethod = (scheme: Pick<Scheme, 'method' | 'submit'>): HttpMethod => (scheme.submit === 'http' ? scheme.method : 'POST');

const acceptFor = (scheme: Pick<Scheme, 'import'>): string => (scheme.import === 'http' ? 'text/plain, */*' : 'application/json');

// Channel data (caller names) can hold any character; HTTP headers cannot.
const headerSafe = (value: string): string => (PRINTABLE_ASCII.test(value) ? value : encodeURIComponent(value));

function withQuery(url: string, params: Map<string, string>): string {
  const query = new URLSearchParams([...params]).toString();
  if (query === '') return url;
  return url + (url.includes('?') ? (url.endsWith('?') || url.endsWith('&') ? '' : '&') : '?') + query;
}

export function buildRequest(scheme: Scheme, call: Call, rpcId: number): CrmRequest {
  const params = callParams(scheme, call);
  const method = effectiveMethod(scheme);
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: acceptFor(scheme) };
  const finish = (extra: { url?: string; body?: string; contentType?: string; rpcId?: number }): CrmRequest => {
    if (extra.contentType !== undefined) headers['content-type'] = extra.contentType;
    for (const [name, value] of Object.entries(scheme.headers)) headers[name.toLowerCase()] = value;
    return {
      method,
      url: extra.url ?? scheme.url,
      headers,
      ...(extra.body === undefined ? {} : { body: extra.body }),
      ...(extra.rpcId === undefined ? {} : { rpcId: extra.rpcId }),
    };
  };

  switch (scheme.submit) {
    case 'json':
      return finish({ body: JSON.stringify(Object.fromEntries(params)), contentType: 'application/json' });
    case 'jsonrpc':
      return finish({
        body: JSON.stringify({ jsonrpc: '2.0', id: rpcId, method: scheme.rpcMethod, params: Object.fromEntries(params) }),
        contentType: 'application/json',
        rpcId,
      });
    case 'http':
      if (scheme.paramsIn === 'headers') {
        for (const [name, value] of params) headers[name.toLowerCase()] = headerSafe(value);
        return finish({});
      }
      if (method === 'GET' || method === 'DELETE') return finish({ url: withQuery(scheme.url, params) });
      return finish({ body: new URLSearchParams([...params]).toString(), contentType: 'application/x-www-form-urlencoded' });
  }
}
