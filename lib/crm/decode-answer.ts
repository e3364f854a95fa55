/**
 * Step 3 (pure): the CRM's body, per the scheme's `import`, becomes a
 * Destination or a typed failure. Everything in the body is untrusted.
 */
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import type { FieldPath, Scheme } from '../config/codecs.ts';
import { classifyDestination, type Destination } from '../core/destination.ts';
import type { AnswerFailure } from '../core/failure.ts';
import { shown } from '../core/log-safe.ts';

/** A JSON answer must be an object (arrays and scalars are refused). */
const JsonObject = t.UnknownRecord;

/** A JSON-RPC 2.0 response envelope; `result` and `error` are examined separately. */
const JsonRpcResponse = t.intersection([
  t.type({ jsonrpc: t.literal('2.0') }),
  t.partial({ id: t.union([t.string, t.number, t.null]), result: t.unknown, error: t.unknown }),
]);
const JsonRpcErrorObject = t.type({ code: t.number, message: t.string });

// fatal: invalid UTF-8 is refused rather than patched with U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true });

type Rules = Pick<Scheme, 'import' | 'destinationField' | 'allowedPrefixes' | 'extensions' | 'loginDomains' | 'sipDomain'>;

const unparsable = (reason: string): AnswerFailure => ({ _tag: 'UnparsableAnswer', reason });

const jsonType = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function parseJson(text: string): E.Either<AnswerFailure, unknown> {
  try {
    return E.right(JSON.parse(text));
  } catch {
    return E.left(unparsable(`invalid JSON: ${shown(text, 40)}`));
  }
}

/**
 * The value at `path` inside `root`, reading own properties only: a path such
 * as `constructor.name` or `__proto__.x` never reaches Object.prototype.
 * `prefix` names `root` in failure messages.
 */
function fieldAt(root: Record<string, unknown>, path: FieldPath, prefix = ''): E.Either<AnswerFailure, unknown> {
  let current: unknown = root;
  let walked = prefix;
  for (const segment of path.segments) {
    if (!JsonObject.is(current)) return E.left({ _tag: 'WrongFieldType', field: walked, got: jsonType(current) });
    walked = walked === '' ? segment : `${walked}.${segment}`;
    if (!Object.hasOwn(current, segment)) return E.left({ _tag: 'MissingField', field: walked });
    current = current[segment];
  }
  return E.right(current);
}

/**
 * A destination must be a JSON string. Numbers are refused (WrongFieldType):
 * JSON numbers cannot carry a leading 0 or +, and long ones lose digits
 * silently in some CRMs' encoders.
 */
function destinationOf(value: unknown, field: string, rules: Rules): E.Either<AnswerFailure, Destination> {
  if (typeof value !== 'string') return E.left({ _tag: 'WrongFieldType', field, got: jsonType(value) });
  return classifyDestination(value, rules);
}

function fromJson(text: string, rules: Rules, field: FieldPath): E.Either<AnswerFailure, Destination> {
  return pipe(
    parseJson(text),
    E.filterOrElse(JsonObject.is, (v) => unparsable(`expected a JSON object, got ${jsonType(v)}`)),
    E.chain((root) => fieldAt(root, field)),
    E.chain((value) => destinationOf(value, field.source, rules)),
  );
}

function rpcError(error: unknown): AnswerFailure {
  return JsonRpcErrorObject.is(error)
    ? { _tag: 'JsonRpcError', code: error.code, message: shown(error.message) }
    : { _tag: 'JsonRpcError', code: null, message: shown(JSON.stringify(error)) };
}

function fromJsonRpc(text: string, rules: Rules, rpcId: number | undefined): E.Either<AnswerFailure, Destination> {
  return pipe(
    parseJson(text),
    E.chain((v) => (JsonRpcResponse.is(v) ? E.right(v) : E.left(unparsable('not a JSON-RPC 2.0 response')))),
    E.chain((rpc) => {
      // JSON-RPC 1.0 style servers send `"error": null` beside a result.
      if (rpc.error !== undefined && rpc.error !== null) return E.left(rpcError(rpc.error));
      if (rpcId !== undefined && rpc.id !== rpcId) return E.left(unparsable(`JSON-RPC id ${shown(JSON.stringify(rpc.id) ?? 'missing')} does not match ${rpcId}`));
      if (!('result' in rpc)) return E.left({ _tag: 'MissingField', field: 'result' });
      const { result } = rpc;
      if (JsonObject.is(result) && rules.destinationField !== undefined) {
        return pipe(
          fieldAt(result, rules.destinationField, 'result'),
          E.chain((value) => destinationOf(value, `result.${rules.destinationField?.source ?? ''}`, rules)),
        );
      }
      return destinationOf(result, 'result', rules);
    }),
  );
}

/**
 * `rpcId`: the id the request carried (submit "jsonrpc"), which a JSON-RPC
 * answer must echo; undefined when the request was not JSON-RPC.
 */
export function decodeAnswer(rules: Rules, body: Uint8Array, rpcId?: number): E.Either<AnswerFailure, Destination> {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return E.left(unparsable('not valid UTF-8'));
  }
  switch (rules.import) {
    case 'http':
      return classifyDestination(text, rules);
    case 'json':
      // The Scheme codec requires destinationField for import "json".
      return rules.destinationField === undefined ? E.left({ _tag: 'MissingField', field: '' }) : fromJson(text, rules, rules.destinationField);
    case 'jsonrpc':
      return fromJsonRpc(text, rules, rpcId);
  }
}
