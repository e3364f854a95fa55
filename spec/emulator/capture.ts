// Strict parser of the capture format described in spec/fixtures/freeswitch-esl/README.txt.
// Chunks are cut by the byte counts in the marker lines, never by looking for blank lines,
// because a frame body may itself contain blank lines.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type Direction = 'router->fs' | 'fs->router';

export interface CaptureChunk {
  readonly dir: Direction;
  readonly bytes: Buffer;
  /** Seconds since the TCP accept, as recorded by the capture tool. */
  readonly atSec: number;
}

export interface Capture {
  readonly name: string;
  readonly annotations: readonly string[];
  readonly chunks: readonly CaptureChunk[];
}

const MARKER = /^(>>> router->fs|<<< fs->router) (\d+) bytes @ \+(\d+\.\d+)s/;

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/freeswitch-esl/', import.meta.url));

export function parseCapture(name: string, data: Buffer): Capture {
  const annotations: string[] = [];
  const chunks: CaptureChunk[] = [];
  let pos = 0;
  while (pos < data.length) {
    const eol = data.indexOf(0x0a, pos);
    if (eol < 0) throw new Error(`${name}: unterminated line at byte ${pos}`);
    const line = data.subarray(pos, eol).toString('latin1');
    pos = eol + 1;
    if (line === '#' || line.startsWith('# ')) {
      annotations.push(line);
      continue;
    }
    const m = MARKER.exec(line);
    if (!m) throw new Error(`${name}: unexpected line at byte ${pos - line.length - 1}: ${JSON.stringify(line.slice(0, 80))}`);
    const n = Number(m[2]);
    if (pos + n > data.length) throw new Error(`${name}: chunk of ${n} bytes runs past end of file`);
    chunks.push({
      dir: m[1] === '>>> router->fs' ? 'router->fs' : 'fs->router',
      bytes: data.subarray(pos, pos + n),
      atSec: Number(m[3]),
    });
    pos += n;
  }
  return { name, annotations, chunks };
}

const cache = new Map<string, Capture>();

/** Loads `<name>.txt` from the repo's fixture copy, once per process. */
export function loadCapture(name: string): Capture {
  let c = cache.get(name);
  if (!c) {
    c = parseCapture(name, readFileSync(FIXTURE_DIR + name + '.txt'));
    cache.set(name, c);
  }
  return c;
}
