// The real captures of a caller whose SIP data is Latin-1 (latin1-a-bridge-user, latin1-sync-a-bridge-user):
// what the router reads from them, and the emulator writing those values as FreeSWITCH did. Their
// whole-call sequence is not replayed against the emulator: these runs were media-bypass calls (context
// `public`: RECEIVED_NOMEDIA, EXECUTE(signal_bridge), CS_HIBERNATE), a flow the emulator does not model.
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { callFromConnectReply } from '../../lib/telephony/channel-data.ts';
import { header, loadCapture, parseHeaderBlock, RawSession } from '../emulator/index.ts';
import { framesOf } from '../telephony/capture-frames.ts';

const CAPTURES = { 'latin1-a-bridge-user': 'a-latin1', 'latin1-sync-a-bridge-user': 's-latin1' } as const;

/** The capture's connect reply as FreeSWITCH wrote it (latin1: one char per byte). */
const realConnectReply = (capture: string) => {
  const first = loadCapture(capture).chunks.find((c) => c.dir === 'fs->router');
  return parseHeaderBlock(first!.bytes.toString('latin1'));
};

describe('conformance: the Latin-1 caller captures', () => {
  for (const [capture, called] of Object.entries(CAPTURES)) {
    it(`${capture}: the router reads the connect reply, caller and called exactly as sent, the Latin-1 values with U+FFFD`, () => {
      const reply = framesOf(capture)[0];
      if (reply?._tag !== 'CommandReply') throw new Error(`${capture}: first frame is ${reply?._tag}`);
      const call = callFromConnectReply(reply, new Set(['caller_id_name', 'sip_from_display', 'sip_h_X-Note']));
      if (E.isLeft(call)) throw new Error(`${capture}: no call`);
      expect(call.right).to.deep.include({ caller: '380441234567', called, uuid: header(realConnectReply(capture), 'Unique-ID') });
      expect(call.right.variables).to.deep.equal({
        caller_id_name: 'Jos\uFFFD M\uFFFDller',
        sip_from_display: 'Jos\uFFFD M\uFFFDller',
        'sip_h_X-Note': 'caf\uFFFD cr\uFFFDme',
      });
    });

    it(`${capture}: the emulator writes the caller's Latin-1 channel variables byte for byte as FreeSWITCH did`, () => {
      const real = realConnectReply(capture);
      const latin1 = ['sip_h_X-Note', 'effective_caller_id_name'].filter((name) => header(real, `variable_${name}`) !== undefined);
      expect(latin1).to.include('sip_h_X-Note');
      const variables = Object.fromEntries(latin1.map((name) => [name, header(real, `variable_${name}`)!]));
      const session = new RawSession({ mode: capture.includes('sync') ? 'sync' : 'async', variables });
      session.send('connect\n\n');
      const emulated = parseHeaderBlock(session.frames[0]!.raw);
      for (const name of latin1) expect(header(emulated, `variable_${name}`), name).to.equal(header(real, `variable_${name}`));
      session.closeFromRouter();
    });
  }
});
