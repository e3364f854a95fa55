/**
 * The frame reader alone, on the bytes a real FreeSWITCH sent for whole calls (spec/fixtures):
 * `npx tsx scripts/bench/frame-reader.ts [reader module ...]` (default lib/esl/frame-reader.ts).
 * Several modules are measured turn about, so that a shared machine's noise falls on each alike.
 * Three feeds: one TCP read per frame (as FreeSWITCH writes them on an idle loopback), 64 KiB reads
 * (a backlog), 1,400-byte reads (frames split across segments); each with the router's event filter
 * and the lookups a call makes.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Frame } from '../../lib/esl/frame.ts';
import { WATCHED_EVENTS } from '../../lib/telephony/channel-watch.ts';
import { loadCapture } from '../../spec/emulator/capture.ts';

type Reader = { push: (chunk: Buffer) => E.Either<{ reason: string }, readonly Frame[]> };
type Make = (options?: { events?: ReadonlySet<string> }) => Reader;

const CAPTURES = ['a-bridge-user', 'b-bridge-gateway', 'c-bridge-no-answer', 'sync-a-bridge-user', 'f2-bridge-user-linger-timed-late-events'];
const perFrame = CAPTURES.map((name) => loadCapture(name).chunks.filter((c) => c.dir === 'fs->router').map((c) => c.bytes));
const calls = perFrame.map((chunks) => Buffer.concat(chunks));
const bytesPerRound = calls.reduce((n, b) => n + b.length, 0);
const cut = (size: number): Buffer[][] => calls.map((b) => Array.from({ length: Math.ceil(b.length / size) }, (_, i) => b.subarray(i * size, (i + 1) * size)));
const FEEDS: Record<string, Buffer[][]> = { 'frame per read': perFrame, '64 KiB reads': cut(65_536), '1400-byte reads': cut(1400) };

// What lib/telephony reads of a connect reply (escaped values such as `1-29102%40127.0.0.1`, and absent
// variables, which cost a search of the whole block) and of an event it acts on.
const CONNECT_REPLY_READS = [
  'Unique-ID', 'variable_sip_call_id', 'Caller-Caller-ID-Number', 'Caller-Destination-Number', 'Socket-Mode', 'Control',
  'Answer-State', 'variable_hangup_after_bridge', 'variable_continue_on_fail',
];
const EVENT_READS = ['Application-UUID', 'Answer-State', 'Hangup-Cause', 'variable_originate_disposition', 'variable_signal_bridge_to'];

const read = (make: Make, call: readonly Buffer[]): number => {
  const reader = make({ events: WATCHED_EVENTS });
  let looked = 0;
  for (const chunk of call) {
    const frames = reader.push(chunk);
    if (E.isLeft(frames)) throw new Error(frames.left.reason);
    for (const f of frames.right) {
      if (f._tag === 'CommandReply') {
        for (const name of CONNECT_REPLY_READS) looked += (f.header(name) ?? '').length;
      } else if (f._tag === 'Event') {
        for (const name of EVENT_READS) looked += (f.header(name) ?? '').length;
      }
    }
  }
  return looked;
};

const modules = process.argv.length > 2 ? process.argv.slice(2) : ['lib/esl/frame-reader.ts'];
const makers: Array<[string, Make]> = [];
for (const path of modules) {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as { createFrameReader: Make };
  makers.push([path, mod.createFrameReader]);
}

const ROUNDS = 400;
const TURNS = 9;
const best = new Map<string, number>();
let sink = 0;
for (let turn = 0; turn < TURNS; turn++) {
  for (const [feed, chunked] of Object.entries(FEEDS)) {
    for (const [path, make] of makers) {
      for (let i = 0; i < 20; i++) for (const call of chunked) sink += read(make, call);
      // CPU time, not wall time: on a shared machine the wait for a core is not the reader's.
      const start = process.cpuUsage();
      for (let i = 0; i < ROUNDS; i++) for (const call of chunked) sink += read(make, call);
      const spent = process.cpuUsage(start);
      const ms = (spent.user + spent.system) / 1000;
      const key = `${feed}\t${path}`;
      best.set(key, Math.min(best.get(key) ?? Infinity, ms));
    }
  }
}
console.log(`${CAPTURES.length} captured calls, ${bytesPerRound} bytes, ×${ROUNDS}; CPU time, best of ${TURNS} turns (checksum ${sink})`);
for (const [key, ms] of best) {
  const [feed, path] = key.split('\t');
  const mbps = (bytesPerRound * ROUNDS) / 1e6 / (ms / 1000);
  const usPerCall = (ms * 1000) / (ROUNDS * CAPTURES.length);
  console.log(`${feed!.padEnd(16)} ${path!.padEnd(44)} ${mbps.toFixed(0).padStart(5)} MB/s  ${usPerCall.toFixed(1).padStart(6)} µs per call`);
}
