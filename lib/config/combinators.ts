/**
 * Small io-ts combinators the config codecs are built from.
 *
 * The stock `t.type` silently ignores unknown keys and `t.union` reports a
 * failure per member; both make config mistakes hard to read. These keep one
 * failure per problem, each at the exact path of the offending value.
 */
import * as t from 'io-ts';
import { describe } from './describe.ts';

/** Marks a context entry whose children are array indexes (`[n]` in paths). */
export const ARRAY_PARENT_TAG = 'ArrayType';

const isObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === 'object' && u !== null && !Array.isArray(u);

/** `own(o, k)`: reads only own properties so `constructor` etc. never leak in. */
const own = (o: Record<string, unknown>, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);

/** JSON has no comments: a key starting with `//` is one, wherever a setting may stand. */
const isComment = (key: string): boolean => key.startsWith('//');

export type StructOut<R extends t.Props, O extends t.Props> = {
  readonly [K in keyof R]: t.TypeOf<R[K]>;
} & { readonly [K in keyof O]?: t.TypeOf<O[K]> };

/**
 * An object with `required` and `optional` keys and nothing else: an unknown
 * key (other than a `//` comment) is a failure ("unknown setting") because a misspelt setting that is
 * silently ignored is a misrouted call. A required codec built with
 * `withDefault` makes the key optional in the file but present in the output.
 */
export function struct<R extends t.Props, O extends t.Props = {}>(
  name: string,
  required: R,
  optional: O = {} as O,
): t.Type<StructOut<R, O>, unknown, unknown> {
  const known = new Set([...Object.keys(required), ...Object.keys(optional)]);
  const is = (u: unknown): u is StructOut<R, O> =>
    isObject(u) &&
    Object.keys(u).every((k) => known.has(k) || isComment(k)) &&
    Object.entries(required).every(([k, c]) => c.is(own(u, k))) &&
    Object.entries(optional).every(([k, c]) => own(u, k) === undefined || c.is(own(u, k)));
  return new t.Type<StructOut<R, O>, unknown, unknown>(
    name,
    is,
    (u, c) => {
      if (!isObject(u)) return t.failure(u, c);
      const errors: t.ValidationError[] = [];
      const out: Record<string, unknown> = {};
      const take = (k: string, codec: t.Mixed, value: unknown): void => {
        const r = codec.validate(value, t.appendContext(c, k, codec, value));
        if (r._tag === 'Left') errors.push(...r.left);
        else out[k] = r.right;
      };
      for (const [k, codec] of Object.entries(required)) take(k, codec, own(u, k));
      for (const [k, codec] of Object.entries(optional)) {
        if (own(u, k) !== undefined) take(k, codec, own(u, k));
      }
      for (const k of Object.keys(u)) {
        if (!known.has(k) && !isComment(k)) {
          errors.push({ value: u[k], context: t.appendContext(c, k, t.unknown, u[k]), message: 'unknown setting' });
        }
      }
      return errors.length > 0 ? t.failures(errors) : t.success(out as StructOut<R, O>);
    },
    t.identity,
  );
}

/** A wrapper keeps the wrapped codec's `_tag` so paths through it still read `[n]` for arrays. */
const sameTag = <T extends t.Mixed>(from: t.Mixed, to: T): T => {
  const tag = (from as { _tag?: unknown })._tag;
  return tag === undefined ? to : Object.assign(to, { _tag: tag });
};

/** A missing (undefined) value decodes to `fallback`; anything else must pass `codec`. */
export function withDefault<C extends t.Mixed>(codec: C, fallback: t.TypeOf<C>): t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown> {
  return sameTag(
    codec,
    new t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown>(
      codec.name,
      codec.is,
      (u, c) => (u === undefined ? t.success(fallback) : codec.validate(u, c)),
      codec.encode,
    ),
  );
}

/** One of a fixed set of strings; the name reads `A|B|C` in messages. */
export function oneOf<const L extends readonly [string, ...string[]]>(literals: L): t.Type<L[number], string, unknown> {
  const set = new Set<string>(literals);
  return new t.Type<L[number], string, unknown>(
    literals.join('|'),
    (u): u is L[number] => typeof u === 'string' && set.has(u),
    (u, c) => (typeof u === 'string' && set.has(u) ? t.success(u as L[number]) : t.failure(u, c)),
    t.identity,
  );
}

/**
 * A string turned into `A` by `parse`, which returns the value or undefined
 * when the string is not acceptable; `name` says what was expected.
 */
export function parsedString<A>(name: string, parse: (s: string) => A | undefined, encode: (a: A) => string): t.Type<A, string, unknown> {
  return new t.Type<A, string, unknown>(
    name,
    (u): u is A => false,
    (u, c) => {
      if (typeof u !== 'string') return t.failure(u, c);
      const a = parse(u);
      return a === undefined ? t.failure(u, c) : t.success(a);
    },
    encode,
  );
}

/** A string accepted when `ok` holds. */
export const checkedString = (name: string, ok: (s: string) => boolean): t.Type<string, string, unknown> =>
  parsedString(name, (s) => (ok(s) ? s : undefined), t.identity);

/** A number accepted when `ok` holds. */
export const checkedNumber = (name: string, ok: (n: number) => boolean): t.Type<number, number, unknown> =>
  new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && ok(u),
    (u, c) => (typeof u === 'number' && ok(u) ? t.success(u) : t.failure(u, c)),
    t.identity,
  );

/** An array whose element failures carry `[n]` in their path. */
export function arrayOf<C extends t.Mixed>(name: string, item: C, minLength = 0): t.Type<ReadonlyArray<t.TypeOf<C>>, unknown, unknown> {
  const type = new t.Type<ReadonlyArray<t.TypeOf<C>>, unknown, unknown>(
    name,
    (u): u is ReadonlyArray<t.TypeOf<C>> => Array.isArray(u) && u.length >= minLength && u.every(item.is),
    (u, c) => {
      if (!Array.isArray(u) || u.length < minLength) return t.failure(u, c);
      const errors: t.ValidationError[] = [];
      const out: Array<t.TypeOf<C>> = [];
      u.forEach((v: unknown, i) => {
        const r = item.validate(v, t.appendContext(c, String(i), item, v));
        if (r._tag === 'Left') errors.push(...r.left);
        else out.push(r.right);
      });
      return errors.length > 0 ? t.failures(errors) : t.success(out);
    },
    t.identity,
  );
  return Object.assign(type, { _tag: ARRAY_PARENT_TAG });
}

/** A JSON object used as a map: keys must pass `key`, values `value`. */
export function mapOf<V extends t.Mixed>(
  name: string,
  key: t.Type<string, string, unknown>,
  value: V,
): t.Type<Readonly<Record<string, t.TypeOf<V>>>, unknown, unknown> {
  return new t.Type<Readonly<Record<string, t.TypeOf<V>>>, unknown, unknown>(
    name,
    (u): u is Readonly<Record<string, t.TypeOf<V>>> => false,
    (u, c) => {
      if (!isObject(u)) return t.failure(u, c);
      const errors: t.ValidationError[] = [];
      const out: Record<string, t.TypeOf<V>> = {};
      for (const [k, v] of Object.entries(u)) {
        const kc = t.appendContext(c, k, key, k);
        const kr = key.validate(k, kc);
        if (kr._tag === 'Left') {
          errors.push({ value: k, context: kc, message: `expected the name to be ${key.name}, got ${describe(k)}` });
          continue;
        }
        const vr = value.validate(v, t.appendContext(c, k, value, v));
        if (vr._tag === 'Left') errors.push(...vr.left);
        // defineProperty: a key named `__proto__` stays an ordinary key.
        else Object.defineProperty(out, k, { value: vr.right, enumerable: true, writable: true, configurable: true });
      }
      return errors.length > 0 ? t.failures(errors) : t.success(out);
    },
    t.identity,
  );
}

/**
 * Objects told apart by the string at `tag` (e.g. `fallback.action`): one
 * failure at `<path>.<tag>` when the tag is wrong, else the member's own.
 */
export function taggedBy<M extends Record<string, t.Mixed>>(
  name: string,
  tag: string,
  members: M,
): t.Type<t.TypeOf<M[keyof M]>, unknown, unknown> {
  const tags = oneOf(Object.keys(members) as [string, ...string[]]);
  return new t.Type<t.TypeOf<M[keyof M]>, unknown, unknown>(
    name,
    (u): u is t.TypeOf<M[keyof M]> => false,
    (u, c) => {
      if (!isObject(u)) return t.failure(u, c);
      const value = own(u, tag);
      const member = typeof value === 'string' && Object.hasOwn(members, value) ? members[value] : undefined;
      if (member === undefined) return t.failure(value, t.appendContext(c, tag, tags, value));
      return member.validate(u, c);
    },
    t.identity,
  );
}

/** Runs cross-field `check` after `codec` succeeded; check returns failures at sub-paths. */
export function checked<C extends t.Mixed>(
  codec: C,
  check: (a: t.TypeOf<C>, c: t.Context) => t.ValidationError[],
): t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown> {
  return sameTag(
    codec,
    new t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown>(
      codec.name,
      codec.is,
      (u, c) => {
        const r = codec.validate(u, c);
        if (r._tag === 'Left') return r;
        const errors = check(r.right, c);
        return errors.length > 0 ? t.failures(errors) : r;
      },
      codec.encode,
    ),
  );
}

/** A failure at `c` + `keys` with a free-form message (for cross-field checks). */
export function problemAt(c: t.Context, keys: ReadonlyArray<string | number>, value: unknown, message: string): t.ValidationError {
  let ctx = c;
  keys.forEach((k, i) => {
    // A context entry's type tells the reporter how its *child* key reads.
    const type = typeof keys[i + 1] === 'number' ? arrayMarker : t.unknown;
    ctx = t.appendContext(ctx, String(k), type, value);
  });
  return { value, context: ctx, message };
}

const arrayMarker = Object.assign(new t.Type<unknown>('array', t.unknown.is, t.unknown.validate, t.identity), {
  _tag: ARRAY_PARENT_TAG,
});
