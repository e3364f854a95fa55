/**
 * Reads a V8 .cpuprofile (from `node --cpu-prof`) and prints where the time went: self time per
 * function (with file:line), inclusive time of the heaviest call paths' functions, and time per owner:
 * each sample is charged to the nearest frame on its stack that is the project's own code (by folder,
 * e.g. lib/esl) or a package (got, fp-ts), so Node's streams and sockets count for whoever drove them.
 * Usage: tsx scripts/bench/profile-summary.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { REPO } from './procs.ts';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface FunctionCost {
  readonly name: string;
  readonly selfMs: number;
  readonly totalMs: number;
}

const label = (node: ProfileNode): string => {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url === '' ? '' : relative(REPO, url.replace(/^file:\/\//, ''));
  return `${functionName || '(anonymous)'} ${file}${file ? `:${lineNumber + 1}` : ''}`.trim();
};

/** Self and inclusive ms per function label; inclusive counts a function once per sample even when recursive. */
/** `got`, `@sindresorhus/is`, `lib/esl`, `scripts/bench`: whose code a frame is; undefined for Node's own. */
const owner = (node: ProfileNode): string | undefined => {
  const path = relative(REPO, node.callFrame.url.replace(/^file:\/\//, ''));
  if (node.callFrame.url === '' || path.startsWith('..') || path.startsWith('node:')) return undefined;
  const pkg = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  if (pkg) return pkg[1];
  return path.split('/').slice(0, 2).join('/');
};

/** A sample no package or project code is on: Node itself, V8's GC, idle. */
const unowned = (node: ProfileNode): string => {
  const name = node.callFrame.functionName;
  return name.startsWith('(') ? name : 'node (not under any package or project code)';
};

export function summarizeProfile(profile: Profile): { costs: FunctionCost[]; totalMs: number; idleMs: number; byOwner: Array<{ name: string; ms: number }> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const owners = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    const node = byId.get(id);
    if (node === undefined) return;
    if (node.callFrame.functionName === '(idle)') idleMs += ms;
    self.set(label(node), (self.get(label(node)) ?? 0) + ms);
    const seen = new Set<string>();
    let owned = false;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at);
      if (n === undefined) break;
      const who = owner(n);
      if (!owned && who !== undefined) {
        owned = true;
        owners.set(who, (owners.get(who) ?? 0) + ms);
      }
      const l = label(n);
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + ms);
    }
    if (!owned) owners.set(unowned(node), (owners.get(unowned(node)) ?? 0) + ms);
  });
  const costs = [...self.keys(), ...total.keys()]
    .filter((k, i, all) => all.indexOf(k) === i)
    .map((name) => ({ name, selfMs: self.get(name) ?? 0, totalMs: total.get(name) ?? 0 }));
  const byOwner = [...owners].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  return { costs, totalMs, idleMs, byOwner };
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
  const top = Number(process.argv[3] ?? 25);
  const { costs, totalMs, idleMs, byOwner } = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  const busy = totalMs - idleMs;
  const pct = (ms: number): string => `${((100 * ms) / busy).toFixed(1).padStart(5)}%`;
  console.log(`profile ${totalMs.toFixed(0)} ms, busy ${busy.toFixed(0)} ms (percentages of busy time)`);
  console.log('\ntime per owner (nearest project folder or package on the stack):');
  for (const o of byOwner.filter((o) => o.name !== '(idle)')) console.log(`${pct(o.ms)}  ${o.ms.toFixed(0).padStart(6)} ms  ${o.name}`);
  console.log('\nself time:');
  for (const c of [...costs].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) console.log(`${pct(c.selfMs)}  ${c.selfMs.toFixed(0).padStart(6)} ms  ${c.name}`);
  console.log('\ninclusive time:');
  for (const c of [...costs].sort((a, b) => b.totalMs - a.totalMs).slice(0, top)) console.log(`${pct(c.totalMs)}  ${c.totalMs.toFixed(0).padStart(6)} ms  ${c.name}`);
}
