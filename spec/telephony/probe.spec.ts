import { expect } from 'chai';
import { connect } from 'node:net';
import { startRouterUnderTest, type RouterUnderTest } from './router.ts';

/** Polls until `check` holds, for 5 s at most (a failing spec must not keep the run alive). */
const until = async (check: () => boolean): Promise<void> => {
  for (const end = Date.now() + 5_000; !check() && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 5));
};

describe('telephony: a bare TCP probe', () => {
  let r: RouterUnderTest;
  before(async () => {
    r = await startRouterUnderTest({ destinationField: 'number_01' }, { logLevel: 'debug' });
  });
  after(async () => r.stop());

  it('a connection closed without a byte is counted and logged at debug, not as a call', async () => {
    const socket = connect(r.router.address.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.end();
    await until(() => r.router.probes() === 1);
    expect(r.router.probes()).to.equal(1);
    expect(r.logs.filter((l) => l.msg === 'call')).to.deep.equal([]);
    expect(r.logs.filter((l) => l.msg.startsWith('probe')).map((l) => l.level)).to.deep.equal([20]);
    expect(r.records).to.deep.equal([]);
  });
});
