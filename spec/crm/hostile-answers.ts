/**
 * Hostile CRM answers. None may become a dial string; each must end in the
 * named typed failure. Served by the loopback CRM (spec/support/crm-server.ts)
 * to a scheme with `destinationField: "number_01"` and `allowedPrefixes: ["380"]`.
 */
import type { RoutingFailureTag } from '../../lib/core/failure.ts';

export type ImportKind = 'http' | 'json' | 'jsonrpc';

/** A destination value, served under every import: as the body, as `number_01`, as the JSON-RPC `result`. */
export interface HostileValue {
  readonly label: string;
  readonly value: string;
  readonly expect: RoutingFailureTag;
}

/** A whole answer, for one import kind. */
export interface HostileBody {
  readonly label: string;
  readonly import: ImportKind;
  readonly body: string | Buffer;
  readonly contentType?: string;
  readonly status?: number;
  readonly chunked?: boolean;
  readonly expect: RoutingFailureTag;
}

const U = 'UnsafeDestination';

export const HOSTILE_VALUES: readonly HostileValue[] = [
  // Seen on a real FreeSWITCH: a text body `null` became `bridge user/null`.
  ...['null', 'undefined', 'None', 'nil', 'FALSE', 'true', 'NaN', 'null\n'].map((value) => ({ label: `no-agent word ${JSON.stringify(value)}`, value, expect: 'EmptyDestination' as const })),
  { label: 'second bridge target after a comma', value: '1000,user/evil', expect: U },
  { label: 'channel variables in braces', value: '{absolute_codec_string=PCMU}1000', expect: U },
  { label: 'per-leg variables in brackets', value: '[leg_timeout=1]1000', expect: U },
  { label: 'variable expansion', value: '${system(rm -rf /)}', expect: U },
  { label: 'api expansion', value: '${sofia_contact(1000)}', expect: U },
  { label: 'failover pipe', value: '1000|sofia/gateway/x/1', expect: U },
  { label: 'enterprise originate', value: '1000:_:user/evil', expect: U },
  { label: 'full endpoint', value: 'user/1000', expect: U },
  { label: 'loopback endpoint', value: 'loopback/1000', expect: U },
  { label: 'sip URI', value: 'sip:1000@evil.com', expect: U },
  { label: 'URI parameters', value: '1000@evil.com;transport=tcp', expect: U },
  { label: 'port', value: '1000@evil.com:5060', expect: U },
  { label: 'angle brackets', value: '<1000>', expect: U },
  { label: 'single quotes', value: "'1000'", expect: U },
  { label: 'double quotes', value: '"1000"', expect: U },
  { label: 'backslash', value: '1000\\', expect: U },
  { label: 'percent-encoded digits', value: '%31%30%30%30', expect: U },
  { label: 'ampersand application', value: '1000&park()', expect: U },
  { label: 'newline then a second target', value: '1000\nuser/evil', expect: U },
  { label: 'CRLF header smuggling', value: '1000\r\nX-Evil: 1', expect: U },
  { label: 'NUL byte', value: '1000\u0000', expect: U },
  { label: 'inner tab', value: '10\t00', expect: U },
  { label: 'inner space in a login', value: 'john doe', expect: U },
  { label: 'spaces around @', value: '1000 @ evil.com', expect: U },
  { label: 'zero-width space', value: '\u200b1000', expect: U },
  { label: 'no-break space', value: '1000\u00a0', expect: U },
  { label: 'fullwidth digits', value: '\uff13\uff18\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19', expect: U },
  { label: 'Arabic-Indic digits', value: '\u0663\u0668\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669', expect: U },
  { label: 'Devanagari digits', value: '\u0969\u096e\u0966123456789', expect: U },
  { label: 'one look-alike digit among ASCII', value: '380\u066123456789', expect: U },
  { label: 'fullwidth letters', value: '\uff21\uff22\uff23', expect: U },
  { label: 'over-long digits', value: '9'.repeat(400), expect: U },
  { label: '16 digits', value: '3801234567890123', expect: U },
  { label: 'two digits', value: '38', expect: U },
  { label: 'over-long login', value: 'a'.repeat(65), expect: U },
  { label: 'over-long host label', value: `agent@${'h'.repeat(64)}.com`, expect: U },
  { label: 'empty host label', value: 'agent@evil..com', expect: U },
  { label: 'double plus', value: '++380123456789', expect: U },
  { label: 'plus in the middle', value: '380+123456789', expect: U },
  { label: 'lone plus', value: '+', expect: U },
  { label: 'HTML', value: '<html><body>380123456789</body></html>', expect: U },
  { label: 'two numbers on two lines', value: '380123456789\n380987654321', expect: U },
  { label: 'number outside allowedPrefixes', value: '+44 20 7946 0000', expect: 'ForbiddenDestination' },
  { label: 'premium-rate number', value: '1 900 555 0100', expect: 'ForbiddenDestination' },
  { label: 'empty', value: '', expect: 'EmptyDestination' },
  { label: 'only whitespace', value: ' \r\n\t ', expect: 'EmptyDestination' },
];

const rpc = (rest: string): string => `{"jsonrpc":"2.0","id":1,${rest}}`;
const big = (n: number): string => 'x'.repeat(n);

export const HOSTILE_BODIES: readonly HostileBody[] = [
  // Any import
  ...(['http', 'json', 'jsonrpc'] as const).flatMap((imp): HostileBody[] => [
    { label: 'body over 64 KiB with Content-Length', import: imp, body: `380123456789${big(70 * 1024)}`, expect: 'CrmBodyTooLarge' },
    { label: 'body over 64 KiB, chunked', import: imp, body: `380123456789${big(70 * 1024)}`, chunked: true, expect: 'CrmBodyTooLarge' },
    { label: 'invalid UTF-8', import: imp, body: Buffer.from([0x33, 0x38, 0x30, 0xff, 0xfe]), expect: 'UnparsableAnswer' },
    { label: 'HTTP 500 with a valid-looking body', import: imp, body: '380123456789', status: 500, expect: 'CrmHttpStatus' },
    { label: 'redirect (not followed)', import: imp, body: '', status: 302, expect: 'CrmHttpStatus' },
  ]),
  // json
  { label: 'invalid JSON', import: 'json', body: '{"number_01": "380123456789"', expect: 'UnparsableAnswer' },
  { label: 'trailing garbage', import: 'json', body: '{"number_01":"380123456789"}x', expect: 'UnparsableAnswer' },
  { label: 'empty body', import: 'json', body: '', expect: 'UnparsableAnswer' },
  { label: 'null', import: 'json', body: 'null', expect: 'UnparsableAnswer' },
  { label: 'array', import: 'json', body: '["380123456789"]', expect: 'UnparsableAnswer' },
  { label: 'bare string', import: 'json', body: '"380123456789"', expect: 'UnparsableAnswer' },
  { label: 'missing field', import: 'json', body: '{"number_02":"380123456789"}', expect: 'MissingField' },
  { label: 'field name in another case', import: 'json', body: '{"Number_01":"380123456789"}', expect: 'MissingField' },
  { label: 'field under __proto__', import: 'json', body: '{"__proto__":{"number_01":"380123456789"}}', expect: 'MissingField' },
  { label: 'field under constructor', import: 'json', body: '{"constructor":{"number_01":"380123456789"}}', expect: 'MissingField' },
  { label: 'JSON number', import: 'json', body: '{"number_01":380123456789}', expect: 'WrongFieldType' },
  { label: 'null field', import: 'json', body: '{"number_01":null}', expect: 'WrongFieldType' },
  { label: 'boolean field', import: 'json', body: '{"number_01":true}', expect: 'WrongFieldType' },
  { label: 'array field', import: 'json', body: '{"number_01":["380123456789"]}', expect: 'WrongFieldType' },
  { label: 'object field', import: 'json', body: '{"number_01":{"number":"380123456789"}}', expect: 'WrongFieldType' },
  { label: 'duplicate key, the last one hostile', import: 'json', body: '{"number_01":"380123456789","number_01":"1000,user/evil"}', expect: U },
  { label: 'JSON-RPC error sent to a json scheme', import: 'json', body: rpc('"error":{"code":1,"message":"x"}'), expect: 'MissingField' },
  // jsonrpc
  { label: 'error object', import: 'jsonrpc', body: rpc('"error":{"code":-32000,"message":"no agent"}'), expect: 'JsonRpcError' },
  { label: 'error beside a result', import: 'jsonrpc', body: rpc('"result":"380123456789","error":{"code":1,"message":"x"}'), expect: 'JsonRpcError' },
  { label: 'error as a string', import: 'jsonrpc', body: rpc('"error":"boom"'), expect: 'JsonRpcError' },
  { label: 'nested error', import: 'jsonrpc', body: rpc('"error":{"code":-1,"message":"outer","data":{"error":{"code":2}}}'), expect: 'JsonRpcError' },
  { label: 'result array', import: 'jsonrpc', body: rpc('"result":["380123456789"]'), expect: 'WrongFieldType' },
  { label: 'result number', import: 'jsonrpc', body: rpc('"result":380123456789'), expect: 'WrongFieldType' },
  { label: 'result null', import: 'jsonrpc', body: rpc('"result":null'), expect: 'WrongFieldType' },
  { label: 'result object without the field', import: 'jsonrpc', body: rpc('"result":{"number_02":"380123456789"}'), expect: 'MissingField' },
  { label: 'result object with a number field', import: 'jsonrpc', body: rpc('"result":{"number_01":380123456789}'), expect: 'WrongFieldType' },
  { label: 'result field under __proto__', import: 'jsonrpc', body: rpc('"result":{"__proto__":{"number_01":"380123456789"}}'), expect: 'MissingField' },
  { label: 'result hostile string', import: 'jsonrpc', body: rpc('"result":"1000,user/evil"'), expect: U },
  { label: 'no result, no error', import: 'jsonrpc', body: rpc('"x":1'), expect: 'MissingField' },
  { label: 'JSON-RPC 1.0 version', import: 'jsonrpc', body: '{"jsonrpc":"1.0","id":1,"result":"380123456789"}', expect: 'UnparsableAnswer' },
  { label: 'no version', import: 'jsonrpc', body: '{"id":1,"result":"380123456789"}', expect: 'UnparsableAnswer' },
  { label: 'batch answer', import: 'jsonrpc', body: `[${rpc('"result":"380123456789"')}]`, expect: 'UnparsableAnswer' },
  { label: 'plain text', import: 'jsonrpc', body: '380123456789', expect: 'UnparsableAnswer' },
  // http
  { label: 'JSON sent to a plain-text scheme', import: 'http', body: '{"number_01":"380123456789"}', contentType: 'application/json', expect: U },
  { label: 'quoted JSON string', import: 'http', body: '"380123456789"', expect: U },
];
