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
    this.timeout(20_000);
    let r: RouterUnderTest;
    before(async () => {
      r = await startRouterUnderTest({ destinationField: 'number_01' }, { limits: { replyMs: 300, lateReplyMs: 5_000, exitGraceMs: 3_000 } });
      r.crm.respond({ body: JSON.stringify({ number_01: '380123456789' }), contentType: 'application/json' });
    });
    after(async () => r.stop());

    const placeMany = async (script: CallScript): Promise<CallResult[]> => {
      const scripts: CallScript[] = [];
      for (let i = 0; i < 40; i++) scripts.push({ mode, callerHangupAfterAnswerMs: 50, ...(i % 2 === 0 ? script : {}) });
      return Promise.all(scripts.map((s) => r.emulator.placeCall(s)));
    };
    const leftBehind = (results: CallResult[]): CallResult[] =>
      results.filter((c) => c.stuck !== undefined || !(c.returnedToDialplan || c.bridges.some((b) => b.outcome === 'SUCCESS')));

    it('every reply 1.5 s late, from connect on: no call is left behind', async () => {
      const results = await placeMany({ readLagMs: 1_500 });
      expect(leftBehind(results).map((c) => c.uuid)).to.deep.equal([]);
      expect(results.filter((c) => c.returnedToDialplan)).to.have.length(20);
    });

    it('every reply after connect 1.5 s late: no call is left behind', async () => {
      const results = await placeMany({ readLagMs: 1_500, readLagAfterConnect: true });
      expect(leftBehind(results).map((c) => c.uuid)).to.deep.equal([]);
      expect(results.filter((c) => c.returnedToDialplan)).to.have.length(20);
      await until(() => r.router.activeCalls() === 0);
    });
  });
}

const until = async (check: () => boolean): Promise<void> => {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
};
