import * as E from 'fp-ts/lib/Either.js';
import type { Frame } from '../../lib/esl/frame.ts';
import { createFrameReader } from '../../lib/esl/frame-reader.ts';
import { loadCapture } from '../emulator/capture.ts';

/** Every frame a real FreeSWITCH sent in a capture, read by the router's own frame reader. */
export const framesOf = (capture: string): Frame[] => {
  const reader = createFrameReader();
  const frames: Frame[] = [];
  for (const chunk of loadCapture(capture).chunks) {
    if (chunk.dir !== 'fs->router') continue;
    const read = reader.push(chunk.bytes);
    if (E.isLeft(read)) throw new Error(`${capture}: ${read.left.reason}`);
    frames.push(...read.right);
  }
  return frames;
};
