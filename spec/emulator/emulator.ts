// FreeSWITCH's `socket` dialplan application, emulated: for every call it connects to the
// router (the router then speaks first with `connect`).
import { connect, type Socket } from 'node:net';
import { EmulatedCall } from './call.ts';
import type { CallResult, CallScript } from './types.ts';

export class FreeSwitchEmulator {
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
        call = attach(socket, { ...this.defaults, ...script });
        call.result.then(resolve, reject);
      });
      socket.once('error', (err) => {
        if (!call) reject(err);
      });
    });
  }
}

/** Runs one emulated call over an already connected socket (used by placeCall and by specs). */
export function attach(socket: Socket, script: CallScript): EmulatedCall {
  const call = new EmulatedCall(script, {
    write: (d) => {
      if (!socket.destroyed) socket.write(d, 'latin1');
    },
    end: () => socket.end(),
    reset: () => socket.resetAndDestroy(),
  });
  socket.on('data', (b: Buffer) => call.onData(b));
  // A router that crashes or resets must not crash the emulator; it just ends the call.
  socket.on('error', () => call.onRouterClose());
  socket.on('end', () => call.onRouterClose());
  socket.on('close', () => call.onRouterClose());
  return call;
}
