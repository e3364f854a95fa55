// FreeSWITCH's `socket` dialplan application, emulated: for every call it connects to the
// router (the router then speaks first with `connect`).
import { connect, type Socket } from 'node:net';
import { EmulatedCall } from './call.ts';
import { Channels } from './channels.ts';
import type { CallResult, CallScript } from './types.ts';

export class FreeSwitchEmulator {
  /** The calls this FreeSWITCH has up: each is a channel whose events a listener of another may be sent. */
  private readonly channels: Channels = new Channels();

  constructor(
    private readonly target: { host: string; port: number },
    private readonly defaults: Partial<CallScript> = {},
  ) {}

  /** Places one call; resolves when the socket is gone (closed by either side, reset, or given up). */
  placeCall(script: CallScript = {}): Promise<CallResult> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.target.host, port: this.target.port, noDelay: true });
      let call: EmulatedCall | undefined;
      socket.once('connect', () => {
        call = attach(socket, { ...this.defaults, ...script }, { channels: this.channels });
        call.result.then(resolve, reject);
      });
      socket.once('error', (err) => {
        if (!call) reject(err);
      });
    });
  }
}

export interface AttachOptions {
  /**
   * Send what one turn of the event loop writes (a reply and the events it causes) in one system call
   * instead of one per frame: the bytes and their order are the same. For the load generator, where
   * per-frame writes cost more than everything else the emulator does.
   */
  readonly coalesceWrites?: boolean;
  /** The emulated FreeSWITCH's other calls, whose events reach a listener subscribed without `myevents`. */
  readonly channels?: Channels;
}

/** Runs one emulated call over an already connected socket (used by placeCall and by specs). */
export function attach(socket: Socket, script: CallScript, options: AttachOptions = {}): EmulatedCall {
  let corked = false;
  const uncork = (): void => {
    if (!corked) return;
    corked = false;
    socket.uncork();
  };
  const call = new EmulatedCall(script, {
    write: (d) => {
      if (socket.destroyed) return;
      if (options.coalesceWrites === true && !corked) {
        corked = true;
        socket.cork();
        process.nextTick(uncork);
      }
      socket.write(d, 'latin1');
    },
    end: () => {
      uncork();
      socket.end();
    },
    reset: () => {
      uncork();
      socket.resetAndDestroy();
    },
  }, options.channels);
  socket.on('data', (b: Buffer) => call.onData(b));
  // A router that crashes or resets must not crash the emulator; it just ends the call.
  socket.on('error', () => call.onRouterClose());
  socket.on('end', () => call.onRouterClose());
  socket.on('close', () => call.onRouterClose());
  return call;
}
