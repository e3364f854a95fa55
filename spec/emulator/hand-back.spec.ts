// The emulator's model of how the listener's end leaves the channel (mod_event_socket.c 1.10): which
// way of letting go continues the dialplan, and which strands the caller.
import { expect } from 'chai';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { FreeSwitchEmulator, FrameReader, header, parseHeaderBlock, type CallResult, type SocketMode } from './index.ts';

const eventName = (body: string): string | undefined => header(parseHeaderBlock(body.split('\n\n')[0]!), 'Event-Name');

/** A stand-in router: `connect`, then `commands`, then it closes; with `untilPark`, only once CHANNEL_PARK came. */
async function letGo(mode: SocketMode, commands: string[], opts: { untilPark?: boolean } = {}): Promise<CallResult> {
  let server: Server | undefined;
  const port = await new Promise<number>((resolve) => {
    server = createServer({ noDelay: true }, (s: Socket) => {
      s.on('error', () => undefined);
      const reader = new FrameReader();
      s.write('connect\n\n');
      if (opts.untilPark) s.write('myevents\n\n');
      else {
        s.write(commands.join(''));
        s.end();
      }
      s.on('data', (b) => {
        for (const f of reader.push(b)) {
          if (opts.untilPark && header(f.headers, 'Content-Type') === 'text/event-plain' && eventName(f.body) === 'CHANNEL_PARK') {
            s.write(commands.join(''));
            s.end();
          }
        }
      });
    }).listen(0, '127.0.0.1', () => resolve((server!.address() as AddressInfo).port));
  });
  const result = await new FreeSwitchEmulator({ host: '127.0.0.1', port }, { mode, parkStartMs: 20 }).placeCall();
  server!.close();
  return result;
}

describe('emulator: how letting go leaves the channel', () => {
  it('async, closed before the park loop began: the channel stays parked (the caller rings on)', async () => {
    const result = await letGo('async', []);
    expect([result.stuck, result.returnedToDialplan]).to.deep.equal(['parked', false]);
  });

  it('async, `resume` then closed before the park loop began: the dialplan continues', async () => {
    const result = await letGo('async', ['resume\n\n']);
    expect([result.stuck, result.returnedToDialplan]).to.deep.equal([undefined, true]);
  });

  it('async, closed once parked: the dialplan continues', async () => {
    const result = await letGo('async', [], { untilPark: true });
    expect([result.stuck, result.returnedToDialplan]).to.deep.equal([undefined, true]);
  });

  it('sync, closed right after connect: the dialplan continues', async () => {
    const result = await letGo('sync', []);
    expect([result.stuck, result.returnedToDialplan]).to.deep.equal([undefined, true]);
  });

  it('sync, `resume` then closed: the channel sits in CS_RESET', async () => {
    const result = await letGo('sync', ['resume\n\n']);
    expect([result.stuck, result.returnedToDialplan]).to.deep.equal(['reset', false]);
  });
});
