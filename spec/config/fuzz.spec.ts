/**
 * The config decoder against mutated configurations: seeded, so a failure
 * names a seed and case that reproduce it. Seeds are the shipped files and a
 * config using every setting; each case applies 1-3 mutations (drop,
 * duplicate, retype, wrong value, huge string, deep nesting, hostile regex,
 * hostile key, huge array). Sizes are chosen to pass every limit (strings over
 * 64 KiB, nesting past JSON.stringify's stack) while the whole run stays short. decodeConfig must never throw, never take longer
 * than a generous bound, and refuse every bad input with problems whose path
 * leads into the input.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig, formatProblems, type ConfigProblem } from '../../lib/config/load.ts';
import { prng } from '../support/prng.ts';

const SEED = 0x5eed_c0f1;
const CASES = 1000;
/** Far above a decode's usual few milliseconds: only a hang or a pathological check reaches it. */
const HANG_BOUND_MS = 2000;

type Json = unknown;
type Container = Record<string, Json> | Json[];

const everySetting = {
  listen: { host: '127.0.0.1', port: 8084 },
  logLevel: 'debug',
  selection: { variable: 'crm_scheme', byCalledNumber: [{ pattern: '^555', scheme: 'sales' }, { pattern: '^(?:\\+?38)?0\\d{9}$', scheme: 'default' }], default: 'default' },
  schemes: [
    {
      name: 'default',
      url: 'http://127.0.0.1:8090/route?x=1',
      method: 'POST',
      submit: 'jsonrpc',
      import: 'jsonrpc',
      rpcMethod: 'route',
      destinationField: 'data.agent',
      callTimeout: 20,
      responseTimeout: 1.5,
      params: { line: 'l-${destination_number}' },
      headers: { Authorization: 'Bearer t' },
      gateway: 'pstn',
      sipDomain: 'pbx.example.com',
      loginDomains: ['pbx.example.com', 'b.example.com'],
      extensions: '^[1-9]\\d{2,4}$',
      allowedPrefixes: ['380', '48'],
      fallback: { action: 'bridge', destination: '1000@pbx.example.com' },
    },
    { name: 'sales', url: 'https://crm.example.com/', submit: 'http', import: 'http', method: 'GET', paramsIn: 'headers', params: { 'X-Line': '${x}' }, gateway: 'gw2' },
  ],
};

const seeds: readonly Json[] = [
  JSON.parse(readFileSync('conf/crm-router.json', 'utf8')),
  JSON.parse(readFileSync('conf/example-schemes.json', 'utf8')),
  everySetting,
];

const HOSTILE_REGEXES = ['^(\\d+)+$', '(a|a)*$', '^\\d*\\d*x$', '(x+x+)+y', '(a*)*b', '^(\\w+\\s?)*$', '(', '[', '\\', '*', '(?<', '\\u{1F600}', '', '(a)\\1'];
const WRONG_VALUES: readonly Json[] = [
  -1, 0, 2.5, 1e308, -0, 65536, NaN, Infinity, true, false, null, '', ' ', 'x', '\u0000', '\r\n', 'GET ', 'post', '..', 'a..b', 'http://', 'ftp://x/', 'http://x/#f',
  '${', '${caller', '${a b}', 'a b', '+380', '%00', 'Ольга', '\u202e', 'user/evil', '1000,user/x', 'Host', 'content-length', '__proto__', [], {}, [1], { action: 'hangup' },
];
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', '//', 'Name', 'schemes ', 'x'.repeat(5000)];

const SKIP_KEYS_WHEN_WALKING = 2000;

/** Every container in `root` (iteratively, bounded: mutated values may nest 10,000 deep). */
function containers(root: Json): Container[] {
  const found: Container[] = [];
  const stack: Array<[Json, number]> = [[root, 0]];
  while (stack.length > 0 && found.length < SKIP_KEYS_WHEN_WALKING) {
    const [node, depth] = stack.pop() as [Json, number];
    if (typeof node !== 'object' || node === null || depth > 40) continue;
    found.push(node as Container);
    for (const child of Object.values(node).slice(0, 50)) stack.push([child, depth + 1]);
  }
  return found;
}

const define = (o: Record<string, Json>, k: string, v: Json): void => {
  // defineProperty: a key named `__proto__` becomes an own key, as JSON.parse makes it.
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
};

function mutator(random: () => number) {
  const pick = <A>(xs: readonly A[]): A => xs[Math.floor(random() * xs.length)] as A;
  const nest = (value: Json): Json => {
    // 10,000 levels overflow JSON.stringify's stack (5,000 already do).
    const depth = pick([100, 10_000]);
    let v = value;
    const asArray = random() < 0.5;
    for (let i = 0; i < depth; i++) v = asArray ? [v] : { x: v };
    return v;
  };
  const retype = (v: Json): Json => {
    if (typeof v === 'string') return pick([Number(v) || 1, [v], { v }, null, v === '' ? 0 : v.length]);
    if (typeof v === 'number') return pick([String(v), [v], null, true]);
    if (Array.isArray(v)) return pick([{ ...v }, v[0] ?? null, 'array', v.length]);
    if (typeof v === 'object' && v !== null) return pick([Object.values(v), Object.keys(v).join(',').slice(0, 40), null, 1]);
    return pick(['true', 1, [], {}]);
  };
  const value = (old: Json): Json => {
    switch (pick(['retype', 'wrong', 'wrong', 'huge', 'nest', 'hugeArray'] as const)) {
      case 'retype':
        return retype(old);
      case 'wrong':
        return pick(WRONG_VALUES);
      case 'huge':
        return pick(['x', '1', '${a}', 'é', '.']).repeat(pick([1000, 200_000]));
      case 'nest':
        return nest(old);
      case 'hugeArray':
        return Array.from({ length: pick([100, 5000]) }, (_, i) => (i % 2 === 0 ? old : pick(WRONG_VALUES)));
    }
  };
  return (config: Json): Json => {
    let root = config;
    const node = pick(containers(root));
    const keys = Object.keys(node ?? {});
    const key = keys.length > 0 ? pick(keys) : undefined;
    switch (pick(['drop', 'duplicate', 'value', 'value', 'value', 'regex', 'key', 'root'] as const)) {
      case 'drop':
        if (Array.isArray(node) && key !== undefined) node.splice(Number(key), 1);
        else if (node !== undefined && key !== undefined) delete (node as Record<string, Json>)[key];
        break;
      case 'duplicate':
        if (Array.isArray(node) && key !== undefined) node.push(structuredCloneSafe(node[Number(key)]));
        else if (node !== undefined && key !== undefined) {
          const o = node as Record<string, Json>;
          define(o, pick([key.toUpperCase(), `${key}s`, ` ${key}`, key.slice(1)]), o[key]);
        }
        break;
      case 'value':
        if (node !== undefined && key !== undefined) {
          const o = node as Record<string, Json>;
          define(o, key, value(o[key]));
        }
        break;
      case 'regex': {
        const c = root as { selection?: { byCalledNumber?: unknown[] }; schemes?: Array<Record<string, Json>> };
        const regex = pick(HOSTILE_REGEXES);
        if (random() < 0.5 && typeof c === 'object' && c !== null && Array.isArray(c.schemes) && typeof c.schemes[0] === 'object' && c.schemes[0] !== null) {
          c.schemes[0]['extensions'] = regex;
        } else if (typeof c === 'object' && c !== null) {
          const selection = typeof c.selection === 'object' && c.selection !== null ? c.selection : (c.selection = {});
          const rules = Array.isArray(selection.byCalledNumber) ? selection.byCalledNumber : (selection.byCalledNumber = []);
          rules.push({ pattern: regex, scheme: 'default' });
        }
        break;
      }
      case 'key':
        if (node !== undefined && !Array.isArray(node)) define(node, pick(HOSTILE_KEYS), value(undefined));
        break;
      case 'root':
        root = pick([value(root), [root], 'schemes', null]);
        break;
    }
    return root;
  };
}

/** A copy of a value that may be nested too deeply for structuredClone or JSON: deep ones are shared, not copied. */
function structuredCloneSafe(v: Json): Json {
  try {
    return structuredClone(v);
  } catch {
    return v;
  }
}

const isContainer = (v: Json): v is Container => typeof v === 'object' && v !== null;

/** The settings a decoded config fills in when the file leaves them out: a problem's path may go through them. */
const DEFAULTED = new Set(['selection', 'listen', 'fallback', 'params', 'headers']);

/** Parses `schemes[0].params["a b"]` into its keys; undefined when the path is malformed. */
function keysOf(path: string): Array<string | number> | undefined {
  const keys: Array<string | number> = [];
  // A name: bare first, after a dot later; an index; a quoted key.
  const first = /^[A-Za-z_$][A-Za-z0-9_$]*/;
  const next = /^(?:\.([A-Za-z_$][A-Za-z0-9_$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])/;
  let rest = path;
  const head = first.exec(rest);
  if (head !== null) {
    keys.push(head[0]);
    rest = rest.slice(head[0].length);
  }
  while (rest !== '') {
    const m = next.exec(rest);
    if (m === null) return undefined;
    keys.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (JSON.parse(m[3] ?? '""') as string)));
    rest = rest.slice(m[0].length);
  }
  return keys;
}

/** Why `problem` does not point into `input`, or undefined when it does. */
function misplaced(input: Json, problem: ConfigProblem): string | undefined {
  if (typeof problem.message !== 'string' || problem.message === '') return 'empty message';
  if (problem.path === '') return isContainer(input) && !Array.isArray(input) ? 'a root problem for an object root' : undefined;
  const keys = keysOf(problem.path);
  if (keys === undefined) return 'malformed path';
  let node: Json = input;
  for (const [i, key] of keys.entries()) {
    if (!isContainer(node)) return `path goes through a non-container at ${String(key)}`;
    if (Array.isArray(node) !== (typeof key === 'number')) return `path indexes ${Array.isArray(node) ? 'an array by name' : 'an object by number'} at ${String(key)}`;
    if (!Object.hasOwn(node, key)) {
      // A missing setting is named at its own path; a missing container only when it is filled in by default.
      return i === keys.length - 1 || (typeof key === 'string' && DEFAULTED.has(key)) ? undefined : `no ${String(key)} in the input`;
    }
    node = (node as Record<string | number, Json>)[key];
  }
  return undefined;
}

describe('config decoder fuzz', function () {
  // Thousands of decodes, some of megabyte inputs: bounded per case below, not by mocha's timer.
  this.timeout(60_000);

  it(`decodes ${CASES} mutated configs (seed ${SEED}) without throwing, hanging, or an imprecise problem`, () => {
    const random = prng(SEED);
    const mutate = mutator(random);
    decodeConfig(seeds[0]); // loads the pattern checker once, outside the per-case bound
    let refused = 0;
    let slowest = 0;
    for (let n = 0; n < CASES; n++) {
      let config = structuredClone(seeds[n % seeds.length]);
      const mutations = 1 + Math.floor(random() * 3);
      for (let m = 0; m < mutations; m++) config = mutate(config);
      const label = `case ${n} (seed ${SEED})`;
      const started = performance.now();
      let result: ReturnType<typeof decodeConfig>;
      try {
        result = decodeConfig(config);
      } catch (error) {
        expect.fail(`${label}: decodeConfig threw ${String(error)}`);
      }
      const ms = performance.now() - started;
      slowest = Math.max(slowest, ms);
      expect(ms, `${label}: took ${ms.toFixed(0)} ms`).to.be.below(HANG_BOUND_MS);
      if (E.isLeft(result)) {
        refused++;
        expect(result.left, label).to.not.be.empty;
        for (const problem of result.left) expect(misplaced(config, problem), `${label}: ${problem.path}: ${problem.message.slice(0, 200)}`).to.equal(undefined);
        // The path is exact, however long the key; the message stays one readable line.
        const long = result.left.find((p) => p.message.length >= 1000);
        expect(long?.message.slice(0, 200), `${label}: a message over 1000 characters`).to.equal(undefined);
        expect(formatProblems(result.left)).to.be.a('string');
      } else {
        expect(Object.isFrozen(result.right.config), label).to.equal(true);
      }
    }
    // Not vacuous: most mutations break the config, and some leave it valid.
    expect(refused, 'refused cases').to.be.within(CASES * 0.5, CASES - 10);
    expect(slowest).to.be.below(HANG_BOUND_MS);
  });
});
