import { expect } from 'chai';
import type { CallResult, CallScript, SocketMode } from '../emulator/index.ts';
import { startRouterUnderTest, type RouterUnderTest } from './router.ts';

/**
 * A FreeSWITCH too busy to keep up (its CPU saturated): it reads what the router sends seconds late,
 * so every reply is seconds late. Whatever it does, no call is left behind: each ends bridged or back
 * in the dialplan, within a bound, and none is left parked.
 */
for (const mode of ['sync', 'async'] as const satisfies readonly SocketMode[]) {
  describe(`telephony: a FreeSWITCH whose replies are seconds late (${mode})`, function () {
    this.timeout(30_000);
    let r: RouterUnderTest;
    before(async () => {
      r = await startRouterUnderTest({ destinationField: 'number_01' }, { limits: { replyMs: 700, lateReplyMs: 10_000, exitGraceMs: 5_000 } });
      // The CRM answers after replyMs: a late FreeSWITCH's set-up times out first, and the call is handed
      // back (an answer before the set-up's replies would have its bridge written at once, and followed).
      r.crm.respond({ body: JSON.stringify({ number_01: '380123456789' }), contentType: 'application/json', delayMs: 1_000 });
    });
    after(async () => r.stop());

    const placeMany = async (script: CallScript): Promise<CallResult[]> => {
      const scripts: CallScript[] = [];
      for (let i = 0; i < 40; i++) scripts.push({ mode, callerHangupAfterAnswerMs: 50, ...(i % 2 === 0 ? script : {}) });
      return Promise.all(scripts.map((s) => r.emulator.placeCall(s)));
    };
    /** The late half: replies nearly three times later than replyMs, so each of these is handed back. */
    const late = (results: CallResult[]): CallResult[] => results.filter((_, i) => i % 2 === 0);
    const leftBehind = (results: CallResult[]): CallResult[] =>
      results.filter((c) => c.stuck !== undefined || !(c.returnedToDialplan || c.bridges.some((b) => b.outcome === 'SUCCESS')));

    it('every reply 2 s late, from connect on: no call is left behind', async () => {
      const results = await placeMany({ readLagMs: 2_000 });
      expect(leftBehind(results).map((c) => c.uuid)).to.deep.equal([]);
      expect(late(results).filter((c) => !c.returnedToDialplan).map((c) => c.uuid)).to.deep.equal([]);
    });

    it('every reply after connect 2 s late: no call is left behind', async () => {
      const results = await placeMany({ readLagMs: 2_000, readLagAfterConnect: true });
      expect(leftBehind(results).map((c) => c.uuid)).to.deep.equal([]);
      expect(late(results).filter((c) => !c.returnedToDialplan).map((c) => c.uuid)).to.deep.equal([]);
      await until(() => r.router.activeCalls() === 0);
      expect(r.router.activeCalls()).to.equal(0);
    });
  });
}

/** Polls until `check` holds, for 5 s at most (a failing spec must not keep the run alive). */
const until = async (check: () => boolean): Promise<void> => {
  for (const end = Date.now() + 5_000; !check() && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 10));
};
