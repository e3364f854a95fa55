/** io-ts failures turned into one readable line per problem. */
import type * as t from 'io-ts';
import { ARRAY_PARENT_TAG } from './combinators.ts';
import { describe } from './describe.ts';

export interface ConfigProblem {
  /** e.g. `schemes[1].method`; empty for the file as a whole. */
  readonly path: string;
  /** e.g. `expected GET|POST|PUT|DELETE, got "PATCH"` or `unknown setting`. */
  readonly message: string;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
// Union/intersection members add a context entry whose key is the member index, not a data key.
const TRANSPARENT = new Set(['UnionType', 'IntersectionType']);

const tagOf = (type: t.Decoder<unknown, unknown>): unknown => (type as { _tag?: unknown })._tag;

function pathOf(context: t.Context): string {
  let path = '';
  for (let i = 1; i < context.length; i++) {
    const parent = context[i - 1];
    const entry = context[i];
    if (parent === undefined || entry === undefined) continue;
    const tag = tagOf(parent.type);
    if (typeof tag === 'string' && TRANSPARENT.has(tag)) continue;
    if (tag === ARRAY_PARENT_TAG) path += `[${entry.key}]`;
    else if (IDENTIFIER.test(entry.key)) path += path === '' ? entry.key : `.${entry.key}`;
    else path += `[${JSON.stringify(entry.key)}]`;
  }
  return path;
}

export function toProblems(errors: t.Errors): ConfigProblem[] {
  return errors.map((e) => {
    const last = e.context[e.context.length - 1];
    const message = e.message ?? `expected ${last?.type.name ?? 'something else'}, got ${describe(e.value)}`;
    return { path: pathOf(e.context), message };
  });
}

/** One line per problem: `<path>: <message>`, the file itself shown as `(root)`. */
export function formatProblems(problems: ReadonlyArray<ConfigProblem>): string {
  return problems.map((p) => `${p.path === '' ? '(root)' : p.path}: ${p.message}`).join('\n');
}
