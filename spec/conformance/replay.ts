// Replays the router side of a capture into the emulator and lines up both sides' frames.
import { loadCapture, FrameReader, header, type Frame, type CallScript } from '../emulator/index.ts';
import { InboundSession, RawSession } from '../emulator/raw.ts';
import { compareFrames, isLingerNotice, isRaceEvent, label } from './tolerance.ts';

export interface ReplayOutcome {
  diffs: string[];
  real: string[];
  emulated: string[];
}

const counted = (f: Frame): boolean => !isRaceEvent(f) && !isLingerNotice(f);

export async function replay(name: string, script: CallScript, compare = compareSequences): Promise<ReplayOutcome> {
  const cap = loadCapture(name);
  const session = new RawSession({ parkDelayMs: 0, lingerGiveUpMs: 5000, ...script });
  const realFrames: Frame[] = [];
  let realCounted = 0;
  const emuCounted = (): number => session.frames.filter(counted).length;
  for (const chunk of cap.chunks) {
    if (chunk.dir === 'fs->router') {
      const f = new FrameReader().push(chunk.bytes)[0]!;
      realFrames.push(f);
      if (counted(f)) realCounted++;
      continue;
    }
    // Causality: the router wrote this after it had read realCounted frames; wait for as many.
    const until = Date.now() + 3000;
    while (emuCounted() < realCounted && !session.closed && Date.now() < until) await session.settle(1);
    session.send(chunk.bytes);
  }
  const until = Date.now() + 3000;
  while (emuCounted() < realCounted && !session.closed && Date.now() < until) await session.settle(2);
  await session.settle(15);
  session.closeFromRouter();
  return compare(realFrames, session.frames);
}

/** The inbound capture: FreeSWITCH speaks first (auth/request); each command is sent after the frames before it arrived. */
export function replayInbound(name: string): ReplayOutcome {
  const cap = loadCapture(name);
  const session = new InboundSession();
  const realFrames: Frame[] = [];
  for (const chunk of cap.chunks) {
    if (chunk.dir === 'fs->router') realFrames.push(...new FrameReader().push(chunk.bytes));
    else session.send(chunk.bytes);
  }
  const out = compareSequences(realFrames, session.frames);
  if (!session.closed) out.diffs.push('the emulated inbound socket did not close after exit');
  return out;
}

export function compareSequences(realAll: readonly Frame[], emuAll: readonly Frame[]): ReplayOutcome {
  const diffs: string[] = [];
  let real = realAll.filter((f) => !isRaceEvent(f));
  let emu = emuAll.filter((f) => !isRaceEvent(f));
  const realLinger = real.filter(isLingerNotice);
  const emuLinger = emu.filter(isLingerNotice);
  real = real.filter((f) => !isLingerNotice(f));
  emu = emu.filter((f) => !isLingerNotice(f));
  // Without linger FreeSWITCH may close before the events after CHANNEL_HANGUP are written (g2).
  const hangupIdx = (fs: readonly Frame[]): number => fs.findIndex((f) => label(f) === 'CHANNEL_HANGUP');
  const last = real[real.length - 1];
  if (realLinger.length === 0 && last && label(last) === 'notice(disconnect)' && hangupIdx(real) === real.length - 2) {
    const h = hangupIdx(emu);
    if (h >= 0) emu = [...emu.slice(0, h + 1), ...emu.slice(h + 1).filter((f) => label(f) === 'notice(disconnect)')];
  }
  const rl = real.map(label);
  const el = emu.map(label);
  if (rl.join() !== el.join()) diffs.push(`sequence differs:\n  real     ${rl.join(' ')}\n  emulated ${el.join(' ')}`);
  else real.forEach((f, i) => diffs.push(...compareFrames(`#${i} ${rl[i]}`, f, emu[i]!)));
  if (realLinger.length !== emuLinger.length) diffs.push(`linger notices: real ${realLinger.length}, emulated ${emuLinger.length}`);
  else realLinger.forEach((f, i) => diffs.push(...compareFrames('linger notice', f, emuLinger[i]!)));
  return { diffs, real: realAll.map(label), emulated: emuAll.map(label) };
}

/**
 * For captures made to show what a subscription lets through (the nix- ones) on a call the emulator
 * does not model frame for frame: their dialplan (context public, media bypassed, hangup_after_bridge set
 * before `socket`) changes the channel data and, with media bypassed, puts the bridge's
 * EXECUTE_COMPLETE before the caller's CHANNEL_HANGUP (signal_bridge: the bridge application returns
 * at once). What the subscription decides is compared exactly: every frame that is not an event, in
 * order and byte for byte (the replies to myevents / nixevent / linger / sendmsg / exit, the notices),
 * and which events arrive, as a multiset of Event-Name(Application). The connect reply is compared by
 * its place only (its channel data is the other dialplan's).
 */
export function compareSubscription(realAll: readonly Frame[], emuAll: readonly Frame[]): ReplayOutcome {
  const diffs: string[] = [];
  const real = realAll.filter((f) => !isRaceEvent(f));
  const emu = emuAll.filter((f) => !isRaceEvent(f));
  const isEvent = (f: Frame): boolean => label(f) !== 'connect-reply' && header(f.headers, 'Content-Type') === 'text/event-plain';
  const rest = (fs: readonly Frame[]): Frame[] => fs.filter((f) => !isEvent(f));
  const rl = rest(real).map(label);
  const el = rest(emu).map(label);
  if (rl.join() !== el.join()) diffs.push(`frames other than events differ:\n  real     ${rl.join(' ')}\n  emulated ${el.join(' ')}`);
  else rest(real).forEach((f, i) => { if (rl[i] !== 'connect-reply') diffs.push(...compareFrames(`#${i} ${rl[i]}`, f, rest(emu)[i]!)); });
  const events = (fs: readonly Frame[]): string => fs.filter(isEvent).map(label).sort().join(' ');
  if (events(real) !== events(emu)) diffs.push(`events delivered differ:\n  real     ${events(real)}\n  emulated ${events(emu)}`);
  return { diffs, real: realAll.map(label), emulated: emuAll.map(label) };
}
