import { expect } from 'chai';
import type { CallResult, CallScript, SocketMode } from '../emulator/index.ts';
import { startRouterUnderTest, type RouterUnderTest } from './router.ts';

const json = (destination: string) => ({ body: JSON.stringify({ number_01: destination }), contentType: 'application/json' });

/**
 * Every path on which the router hands a call back, in both socket modes, against an emulator whose
 * park loop begins late (150 ms after `connect`): a hand-back that does not suit the state the call
 * is in leaves the channel parked (async) or in CS_RESET (sync), as on the real FreeSWITCH.
 */
for (const mode of ['sync', 'async'] as const satisfies readonly SocketMode[]) {
  describe(`telephony: every hand-back continues the dialplan (${mode})`, function () {
    this.timeout(15_000);
    let r: RouterUnderTest;
    before(async () => {
      r = await startRouterUnderTest(
        { destinationField: 'number_01', fallback: { action: 'dialplan' } },
        { limits: { replyMs: 500, lateReplyMs: 5_000 }, emulator: { mode, parkStartMs: 150 } },
      );
    });
    after(async () => r.stop());

    const call = async (script: CallScript = {}): Promise<CallResult> => r.emulator.placeCall({ mode, parkStartMs: 150, ...script });
    const continued = (result: CallResult): void => {
      expect({ stuck: result.stuck, returnedToDialplan: result.returnedToDialplan, callerHungUp: result.callerHungUp }).to.deep.equal({
        stuck: undefined,
        returnedToDialplan: true,
        callerHungUp: false,
      });
    };
    const resumes = (result: CallResult): number => result.commands.filter((c) => c.name === 'resume').length;

    it('channel data the router cannot use (BadChannelData), right after connect', async () => {
      const result = await call({ omitConnectHeaders: ['Caller-Destination-Number'] });
      continued(result);
      expect(resumes(result)).to.equal(mode === 'async' ? 1 : 0);
      expect(await r.recordOf(result.uuid)).to.deep.include({ failure: 'BadChannelData', result: 'fallback-dialplan' });
    });

    it('a socket line without `full` (SocketNotFull), right after connect', async () => {
      const result = await call({ control: 'single-channel' });
      continued(result);
      expect((await r.recordOf(result.uuid)).failure).to.equal('SocketNotFull');
    });

    it('a connect reply later than replyMs (ReplyTimeout)', async () => {
      const result = await call({ readLagMs: 1_500 });
      continued(result);
      expect(await r.recordOf(result.uuid)).to.deep.include({ failure: 'ReplyTimeout', result: 'fallback-dialplan' });
    });

    it('set-up replies later than replyMs (ReplyTimeout), the CRM slower still', async () => {
      // A CRM that answered first would have its bridge out before the set-up's replies were due: see below.
      r.crm.respond({ ...json('380123456789'), delayMs: 1_000 });
      const result = await call({ readLagMs: 1_500, readLagAfterConnect: true });
      continued(result);
      expect(result.bridges).to.deep.equal([]);
      expect(await r.recordOf(result.uuid)).to.deep.include({ failure: 'ReplyTimeout', result: 'fallback-dialplan' });
    });

    it('set-up replies later than replyMs, the CRM answering first: its bridge, already out, is followed to the end', async () => {
      r.crm.respond(json('380123456789'));
      const result = await call({ readLagMs: 1_500, readLagAfterConnect: true });
      expect(result.stuck).to.equal(undefined);
      expect(result.bridges.map((b) => b.outcome)).to.deep.equal(['SUCCESS']);
      expect(await r.recordOf(result.uuid)).to.deep.include({ result: 'bridged', setupErrors: ['set-up: ReplyTimeout'] });
    });

    it('a set-up command refused with -ERR (SetupRefused)', async () => {
      r.crm.respond(json('380123456789'));
      const result = await call({ refuse: ['linger'] });
      continued(result);
      expect(await r.recordOf(result.uuid)).to.deep.include({ failure: 'SetupRefused', setupErrors: ['linger: -ERR linger refused'] });
    });

    it('a CRM that fails at once, before FreeSWITCH parked the call (the dialplan fallback)', async () => {
      r.crm.respond({ status: 500 });
      const result = await call();
      continued(result);
      expect(await r.recordOf(result.uuid)).to.deep.include({ failure: 'CrmHttpStatus', crmStatus: 500, result: 'fallback-dialplan' });
    });

    it('a destination that does not connect (the dialplan fallback after a bridge)', async () => {
      r.crm.respond(json('380000000486'));
      const result = await call({ callee: () => ({ kind: 'busy' }) });
      continued(result);
      expect(await r.recordOf(result.uuid)).to.deep.include({ failure: 'Bridge:USER_BUSY', result: 'fallback-dialplan' });
    });
  });
}
