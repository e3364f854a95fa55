// Replays the router side of a capture into the emulator and lines up both sides' frames.
import { loadCapture, FrameReader, type Frame, type CallScript } from '../emulator/index.ts';
import { InboundSession, RawSession } from '../emulator/raw.ts';
import { compareFrames, isLingerNotice, isRaceEvent, label } from './tolerance.ts';

export interface ReplayOutcome {
  diffs: string[];
  real: string[];
  emulated: string[];
}

const counted = (f: Frame): boolean => !isRaceEvent(f) && !isLingerNotice(f);

export async function replay(name: string, script: CallScript): Promise<ReplayOutcome> {
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
  return compareSequences(realFrames, session.frames);
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
