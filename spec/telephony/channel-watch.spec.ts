import { expect } from 'chai';
import { watchChannel } from '../../lib/telephony/channel-watch.ts';
import { FakeSession } from './fake-session.ts';

/** The call's channel signal, as the waits of a call's life use it. */
describe('telephony: the channel signal', () => {
  const hangUp = (session: FakeSession): void => session.event('CHANNEL_HANGUP', { 'Hangup-Cause': 'NORMAL_CLEARING' });

  it('fires once, at the hang-up, with the cause; each listener runs once and in order', () => {
    const session = new FakeSession();
    const watch = watchChannel(session);
    const ran: string[] = [];
    watch.signal.addEventListener('abort', () => ran.push('a'));
    watch.signal.addEventListener('abort', () => ran.push('b'));
    expect(watch.signal.aborted).to.equal(false);
    hangUp(session);
    session.disconnect('disconnect');
    expect(watch.signal.aborted).to.equal(true);
    expect(watch.hangupCause()).to.equal('NORMAL_CLEARING');
    expect(ran).to.deep.equal(['a', 'b']);
  });

  it('runs no listener removed before, or by an earlier listener, nor one added after it fired', () => {
    const session = new FakeSession();
    const watch = watchChannel(session);
    const ran: string[] = [];
    const removed = (): void => void ran.push('removed');
    const later = (): void => void ran.push('removed by the first');
    watch.signal.addEventListener('abort', removed);
    watch.signal.removeEventListener('abort', removed);
    watch.signal.addEventListener('abort', () => {
      ran.push('first');
      watch.signal.removeEventListener('abort', later);
    });
    watch.signal.addEventListener('abort', later);
    hangUp(session);
    watch.signal.addEventListener('abort', () => ran.push('added after'));
    expect(ran).to.deep.equal(['first']);
  });

  it('a listener that throws does not keep the others from running; its error reaches what fired the signal', () => {
    const session = new FakeSession();
    const watch = watchChannel(session);
    const ran: string[] = [];
    watch.signal.addEventListener('abort', () => {
      throw new Error('a defect');
    });
    watch.signal.addEventListener('abort', () => ran.push('second'));
    expect(() => hangUp(session)).to.throw('a defect');
    expect(ran).to.deep.equal(['second']);
    expect(watch.signal.aborted).to.equal(true);
  });
});
