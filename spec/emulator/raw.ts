// Low-level access for the conformance spec: an emulated call with no TCP in between; feed it
// the router's bytes and collect the frames it writes, with their time.
import { EmulatedCall } from './call.ts';
import { FrameReader, type Frame } from './frame.ts';
import type { CallResult, CallScript } from './types.ts';
import { apiResponse, inboundGoodbye, reply } from './flows.ts';

export interface TimedFrame extends Frame {
  readonly atMs: number;
}

export class RawSession {
  readonly frames: TimedFrame[] = [];
  readonly call: EmulatedCall;
  private readonly reader = new FrameReader();
  private readonly start = Date.now();
  private waiters: Array<() => void> = [];
  closed = false;

  constructor(script: CallScript) {
    this.call = new EmulatedCall(script, {
      write: (d) => {
        for (const f of this.reader.push(d)) this.frames.push({ ...f, atMs: Date.now() - this.start });
        this.wake();
      },
      end: () => {
        this.closed = true;
        this.wake();
      },
      reset: () => {
        this.closed = true;
        this.wake();
      },
    });
  }

  /** Bytes as the router would write them. */
  send(bytes: Buffer | string): void {
    this.call.onData(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** The router closes its end. */
  closeFromRouter(): void {
    this.call.onRouterClose();
  }

  /** Waits until at least n frames were written (or the session closed, or timeoutMs passed). */
  async waitFrames(n: number, timeoutMs = 2000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.frames.length < n && !this.closed) {
      const left = until - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.frames.length >= n;
  }

  /** Lets timers that are due now run, then returns. */
  async settle(ms = 5): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
  }

  get result(): Promise<CallResult> {
    return this.call.result;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/**
 * FreeSWITCH's inbound event socket (mod_event_socket on 8021), as far as the capture
 * inbound-auth-api-status shows it: `auth/request` on accept, `auth <password>`, `api <command>`
 * (the same answers as on the outbound socket) and `exit`. Only what was captured; no events.
 */
export class InboundSession {
  readonly frames: Frame[] = [];
  closed = false;
  private authed = false;
  private readonly reader = new FrameReader();
  private readonly out = new FrameReader();

  constructor(private readonly password = 'ClueCon') {
    this.write('Content-Type: auth/request\n\n');
  }

  send(bytes: Buffer | string): void {
    for (const f of this.reader.push(typeof bytes === 'string' ? bytes : bytes.toString('latin1'))) {
      if (this.closed) return;
      const line = f.raw.slice(0, f.raw.indexOf('\n')).trim();
      const sp = line.indexOf(' ');
      const name = sp < 0 ? line : line.slice(0, sp);
      const arg = sp < 0 ? '' : line.slice(sp + 1);
      if (!this.authed) {
        if (name === 'auth' && arg === this.password) {
          this.authed = true;
          this.write(reply('+OK accepted'));
        } else if (name === 'auth') {
          this.write(reply('-ERR invalid'));
          this.bye();
        } else {
          this.write(reply('-ERR command not found'));
        }
      } else if (name === 'api') this.write(apiResponse(arg));
      else if (name === 'exit') {
        this.write(reply('+OK bye'));
        this.bye();
      } else this.write(reply('-ERR command not found'));
    }
  }

  private bye(): void {
    const body = inboundGoodbye();
    this.write(`Content-Type: text/disconnect-notice\nContent-Length: ${body.length}\n\n${body}`);
    this.closed = true;
  }

  private write(data: string): void {
    this.frames.push(...this.out.push(data));
  }
}
