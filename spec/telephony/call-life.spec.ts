import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { decodeConfig } from '../../lib/config/load.ts';
import type { EslCommand } from '../../lib/esl/command.ts';
import type { ReplyFrame } from '../../lib/esl/frame.ts';
import type { RoutingFailure } from '../../lib/core/failure.ts';
import type { Route } from '../../lib/routing/route.ts';
import { handleCall, type CallEnd, type HandledCall } from '../../lib/telephony/handle-call.ts';
import { DEFAULT_LIMITS, type CallLimits } from '../../lib/telephony/limits.ts';
import { readIn } from '../../lib/telephony/channel-watch.ts';
import { FakeClock, settle } from '../support/fake-clock.ts';
import { connectReply, FakeSession, nameOf, replyOf } from './fake-session.ts';

const LIMITS: CallLimits = { replyMs: 1_000, lateReplyMs: 10_000, exitGraceMs: 2_000, ringSlackMs: 3_000, hangupGraceMs: 500 };
const CALL_TIMEOUT_S = 20;
/**
 * The set-up's one write for the connect reply's uuid (`call-1`); `ring_ready` goes only once the CRM
 * has taken the scheme's ringbackAfterMs (default 200).
 */
const setUpOf = (mode: 'async' | 'sync'): string[] => ['filter Unique-ID call-1', `event ${[...readIn(mode)].join(' ')}`, 'linger', 'uuid_setvar_multi'];

const configOf = (fallback: Record<string, unknown> = { action: 'dialplan' }, scheme: Record<string, unknown> = {}) => {
  const decoded = decodeConfig({
    listen: { host: '127.0.0.1', port: 8084 },
    schemes: [{ name: 'default', url: 'http://127.0.0.1:1/', import: 'http', gateway: 'pstn', callTimeout: CALL_TIMEOUT_S, fallback, ...scheme }],
  });
  if (E.isLeft(decoded)) throw new Error('bad spec config');
  return decoded.right.config;
};

type Answer = E.Either<RoutingFailure, Route>;

const ROUTE: Route = { destination: { _tag: 'PhoneNumber', number: '380123456789' }, dialString: 'sofia/gateway/pstn/380123456789', crmStatus: 200, crmMs: 12.345 };

/** One call driven by the spec: FreeSWITCH is a FakeSession, the CRM a promise the spec settles, time a FakeClock. */
const start = (mode: 'async' | 'sync', options: { fallback?: Record<string, unknown>; scheme?: Record<string, unknown>; connect?: Record<string, string | undefined>; answer?: (command: EslCommand) => ReplyFrame | undefined; routeThrows?: boolean } = {}) => {
  const clock = new FakeClock();
  const session = new FakeSession();
  const logs: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  const log = pino(
    { level: 'debug', base: undefined },
    new Writable({
      write(chunk: Buffer, _e, done) {
        logs.push(JSON.parse(chunk.toString()) as (typeof logs)[number]);
        done();
      },
    }),
  );
  let answerCrm!: (answer: Answer) => void;
  let crmSignal: AbortSignal | undefined;
  const route = (_s: unknown, _c: unknown, signal: AbortSignal): TE.TaskEither<RoutingFailure, Route> => () => {
    crmSignal = signal;
    if (options.routeThrows === true) return Promise.reject(new Error('defect'));
    return new Promise<Answer>((resolve) => (answerCrm = resolve));
  };
  let ids = 0;
  const connect = connectReply(mode, options.connect);
  session.answer = options.answer ?? ((command: EslCommand) => (nameOf(command) === 'connect' ? connect : replyOf('+OK')));
  const handled: HandledCall = handleCall({ config: configOf(options.fallback, options.scheme), route, log, newId: () => `app-${++ids}`, clock, limits: LIMITS })(session);
  let end: CallEnd | undefined;
  void handled.done.then((e) => (end = e));
  let decided = false;
  void handled.decided.then(() => (decided = true));
  const bridges = (): EslCommand[] => session.written.flat().filter((c) => c._tag === 'Execute' && c.app === 'bridge');
  return {
    clock,
    session,
    logs,
    answerCrm: async (answer: Answer = E.right(ROUTE)) => {
      await settle();
      answerCrm(answer);
      await settle();
    },
    crmSignal: () => crmSignal,
    end: () => end,
    record: () => (end?._tag === 'Call' ? end.record : undefined),
    decided: () => decided,
    bridges,
    /** The bridge's own completion, as FreeSWITCH reports it (Application-UUID echoes its Event-UUID). */
    complete: async (disposition: string, headers: Record<string, string> = {}) => {
      const bridge = bridges().at(-1);
      if (bridge?._tag !== 'Execute') throw new Error('no bridge written');
      session.event('CHANNEL_EXECUTE_COMPLETE', { 'Application-UUID': bridge.eventUuid ?? '', variable_originate_disposition: disposition, 'Answer-State': 'answered', ...headers });
      await settle();
    },
    hangUp: async () => {
      session.event('CHANNEL_HANGUP', { 'Hangup-Cause': 'NORMAL_CLEARING' });
      await settle();
    },
    linger: async () => {
      session.disconnect('linger');
      await settle();
    },
  };
};

describe('telephony: the call life, transition by transition (fake session, fake clock)', () => {
  it('admitted → asking: connect, then the set-up in one write while the CRM is asked', async () => {
    const c = start('async');
    await settle();
    expect(c.session.written.map((w) => w.map(nameOf))).to.deep.equal([['connect'], setUpOf('async')]);
    expect(c.crmSignal()?.aborted).to.equal(false);
  });

  for (const mode of ['async', 'sync'] as const) {
    it(`${mode}: a CRM that answers within ringbackAfterMs gets its bridge with no ring_ready of ours`, async () => {
      const c = start(mode);
      await settle();
      await c.clock.advance(199);
      await c.answerCrm();
      expect(c.session.commands()).to.deep.equal(['connect', ...setUpOf(mode), 'bridge']);
    });

    it(`${mode}: a CRM still thinking after ringbackAfterMs has the caller hear ring_ready, then the bridge`, async () => {
      const c = start(mode);
      await settle();
      await c.clock.advance(199);
      expect(c.session.commands()).to.not.include('ring_ready');
      await c.clock.advance(1);
      expect(c.session.written.at(-1)?.map(nameOf)).to.deep.equal(['ring_ready']);
      await c.answerCrm();
      expect(c.session.commands().slice(-2)).to.deep.equal(['ring_ready', 'bridge']);
    });
  }

  it('a CRM answer before the set-up replies has its bridge written at once; a -ERR read afterwards is on the call line', async () => {
    const connect = connectReply('sync');
    const c = start('sync', { answer: (command) => (nameOf(command) === 'connect' ? connect : nameOf(command) === 'bridge' ? replyOf('+OK') : undefined) });
    await settle();
    await c.answerCrm();
    expect(c.session.commands().slice(-2)).to.deep.equal(['uuid_setvar_multi', 'bridge']);
    for (const line of setUpOf('sync')) c.session.reply(replyOf(line === 'linger' ? '-ERR no' : '+OK'));
    await settle();
    await c.complete('SUCCESS');
    await c.hangUp();
    await c.linger();
    c.session.close();
    await settle();
    expect(c.record()).to.deep.include({ result: 'bridged', setupErrors: ['linger: -ERR no'] });
  });

  it('ringbackAfterMs 0: ring_ready goes with the set-up, at once', async () => {
    const c = start('async', { scheme: { ringbackAfterMs: 0 } });
    await settle();
    expect(c.session.written.map((w) => w.map(nameOf))).to.deep.equal([['connect'], [...setUpOf('async'), 'ring_ready']]);
  });

  it('a ring_ready refused with -ERR hands the call back like the rest of the set-up', async () => {
    const c = start('async', { answer: (command) => (nameOf(command) === 'connect' ? connectReply('async') : replyOf(nameOf(command) === 'ring_ready' ? '-ERR no' : '+OK')) });
    await settle();
    await c.clock.advance(200);
    expect(c.crmSignal()?.aborted).to.equal(true);
    await c.answerCrm(E.left({ _tag: 'CrmAborted' }));
    c.session.close();
    await settle();
    expect(c.record()).to.deep.include({ result: 'fallback-dialplan', failure: 'SetupRefused', setupErrors: ['ring_ready: -ERR no'] });
  });

  it('a caller who hangs up while the CRM thinks gets no ring_ready', async () => {
    const c = start('sync');
    await settle();
    await c.clock.advance(100);
    await c.hangUp();
    await c.clock.advance(500);
    expect(c.session.commands()).to.not.include('ring_ready');
  });

  it('the set-up leaves the variables out when the channel data shows both set by the dialplan', async () => {
    const c = start('sync', { connect: { variable_hangup_after_bridge: 'true', variable_continue_on_fail: 'TRUE' } });
    await settle();
    expect(c.session.written.map((w) => w.map(nameOf))).to.deep.equal([['connect'], setUpOf('sync').slice(0, -1)]);
  });

  for (const [what, connect] of [
    ['only hangup_after_bridge', { variable_hangup_after_bridge: 'true' }],
    ['continue_on_fail naming some causes only', { variable_hangup_after_bridge: 'true', variable_continue_on_fail: 'USER_BUSY,NO_ANSWER' }],
    ['hangup_after_bridge false', { variable_hangup_after_bridge: 'false', variable_continue_on_fail: 'true' }],
  ] as const) {
    it(`the set-up sets the variables when the channel data shows ${what}`, async () => {
      const c = start('async', { connect });
      await settle();
      expect(c.session.written.map((w) => w.map(nameOf))).to.deep.equal([['connect'], setUpOf('async')]);
    });
  }

  it('asking → bridging → settled (bridged, sync): the bridge carries the ringing bound; linger, then exit', async () => {
    const c = start('sync');
    await c.answerCrm();
    const bridge = c.bridges()[0];
    expect(bridge?._tag === 'Execute' && bridge.arg).to.equal(`{originate_timeout=${CALL_TIMEOUT_S}}sofia/gateway/pstn/380123456789`);
    expect(c.decided()).to.equal(true);
    await c.hangUp();
    await c.complete('SUCCESS');
    await c.linger();
    expect(c.session.commands().at(-1)).to.equal('exit');
    await c.clock.advance(1.26);
    c.session.close();
    await settle();
    expect(c.record()).to.deep.include({ result: 'bridged', crmStatus: 200, crmMs: 12.3, ms: 1.3, bridge: 'sofia/gateway/pstn/380123456789' });
    expect(c.logs.find((l) => l.msg === 'call')?.level).to.equal(30);
    expect(c.clock.pending()).to.equal(0);
  });

  it('settled: exit waits for the linger notice (the events after the hang-up are still to come)', async () => {
    const c = start('async');
    await c.answerCrm();
    await c.hangUp();
    await c.complete('SUCCESS');
    await c.clock.advance(LIMITS.exitGraceMs - 1);
    expect(c.session.commands()).not.to.include('exit');
    await c.linger();
    expect(c.session.commands().at(-1)).to.equal('exit');
  });

  it('settled: a FreeSWITCH that never lingers gets exit after exitGraceMs, and its socket closed after as long again', async () => {
    const c = start('async');
    await c.answerCrm();
    await c.hangUp();
    await c.complete('SUCCESS');
    await c.clock.advance(LIMITS.exitGraceMs);
    expect(c.session.commands().at(-1)).to.equal('exit');
    await c.clock.advance(LIMITS.exitGraceMs);
    expect(c.session.isClosed()).to.equal(true);
    expect(c.record()?.result).to.equal('bridged');
  });

  it('an answered bridge whose caller stays up: hung up by the router after hangupGraceMs, not before', async () => {
    const c = start('async');
    await c.answerCrm();
    await c.complete('SUCCESS');
    await c.clock.advance(LIMITS.hangupGraceMs - 1);
    expect(c.session.commands()).not.to.include('hangup');
    await c.clock.advance(1);
    expect(c.session.commands()).to.include('hangup');
  });

  it('an answered bridge whose caller hangs up within hangupGraceMs: no hangup from the router', async () => {
    const c = start('async');
    await c.answerCrm();
    await c.complete('SUCCESS');
    await c.clock.advance(LIMITS.hangupGraceMs - 1);
    await c.hangUp();
    await c.clock.advance(LIMITS.hangupGraceMs);
    expect(c.session.commands()).not.to.include('hangup');
  });

  it('async bridging that neither connects nor completes: given up at callTimeout + ringSlackMs, and handed back', async () => {
    const c = start('async');
    await c.answerCrm();
    c.session.event('CHANNEL_EXECUTE_COMPLETE', { 'Application-UUID': 'not-ours' });
    await c.clock.advance(CALL_TIMEOUT_S * 1000 + LIMITS.ringSlackMs - 1);
    expect(c.session.ended).to.equal(false);
    await c.clock.advance(1);
    expect(c.session.ended).to.equal(true);
    c.session.close();
    await settle();
    expect(c.record()).to.deep.include({ result: 'fallback-dialplan', failure: 'BridgeLost' });
  });

  it('asking → bridging → talking (async): at the answered CHANNEL_BRIDGE the socket closes, the call talking on', async () => {
    const c = start('async');
    c.session.event('CHANNEL_PARK');
    await c.answerCrm();
    c.session.event('CHANNEL_BRIDGE', { 'Answer-State': 'answered' });
    await settle();
    expect(c.decided()).to.equal(true);
    expect(c.session.ended).to.equal(true);
    expect(c.session.commands()).to.deep.equal(['connect', ...setUpOf('async'), 'bridge']);
    c.session.close();
    await settle();
    expect(c.record()).to.deep.include({ result: 'bridged', bridge: 'sofia/gateway/pstn/380123456789' });
    expect(c.clock.pending()).to.equal(0);
  });

  it('async, bridged on early media (the FreeSWITCH default): no ringing bound any more, and the router lets go at the answer', async () => {
    const c = start('async');
    c.session.event('CHANNEL_PARK');
    await c.answerCrm();
    c.session.event('CHANNEL_BRIDGE', { 'Answer-State': 'early' });
    await settle();
    expect(c.decided()).to.equal(true);
    await c.clock.advance(CALL_TIMEOUT_S * 1000 + LIMITS.ringSlackMs + 60_000);
    expect(c.session.ended).to.equal(false);
    c.session.event('CHANNEL_ANSWER', { 'Answer-State': 'answered' });
    await settle();
    expect(c.session.ended).to.equal(true);
    c.session.close();
    await settle();
    expect(c.record()).to.deep.include({ result: 'bridged' });
  });

  it('media bypass (sync): the signal bridge completes at the answer, and the router lets go without exit or hangup', async () => {
    const c = start('sync');
    await c.answerCrm();
    await c.complete('SUCCESS', { variable_signal_bridge_to: 'b-leg-uuid' });
    expect(c.session.ended).to.equal(true);
    expect(c.session.commands()).to.deep.equal(['connect', ...setUpOf('sync'), 'bridge']);
    c.session.close();
    await settle();
    expect(c.record()).to.deep.include({ result: 'bridged' });
    expect(c.clock.pending()).to.equal(0);
  });

  it('a fallback bridge that connects goes on without the router too (fallback-bridged)', async () => {
    const c = start('async', { fallback: { action: 'bridge', destination: 'agent2' } });
    c.session.event('CHANNEL_PARK');
    await c.answerCrm();
    await c.complete('USER_BUSY', { 'Answer-State': 'ringing' });
    expect(c.bridges()).to.have.length(2);
    c.session.event('CHANNEL_BRIDGE', { 'Answer-State': 'answered' });
    await settle();
    expect(c.session.ended).to.equal(true);
    c.session.close();
    await settle();
    expect(c.record()).to.deep.include({ result: 'fallback-bridged', failure: 'Bridge:USER_BUSY', fallback: 'bridge' });
  });

  it('async, a caller the dialplan answered before socket: its bridge is followed to the completion, as its answer says nothing', async () => {
    const c = start('async', { connect: { 'Answer-State': 'answered' } });
    c.session.event('CHANNEL_PARK');
    await c.answerCrm();
    c.session.event('CHANNEL_BRIDGE', { 'Answer-State': 'answered' });
    await settle();
    expect(c.decided()).to.equal(true);
    expect(c.session.ended).to.equal(false);
    await c.hangUp();
    await c.complete('SUCCESS');
    await c.linger();
    expect(c.session.commands().at(-1)).to.equal('exit');
    c.session.close();
    await settle();
    expect(c.record()).to.deep.include({ result: 'bridged' });
  });

  it('bridging → fallback: a bridge that does not connect takes the scheme fallback bridge', async () => {
    const c = start('async', { fallback: { action: 'bridge', destination: 'agent2' } });
    await c.answerCrm();
    await c.complete('USER_BUSY', { 'Answer-State': 'ringing' });
    const fallback = c.bridges()[1];
    expect(fallback?._tag === 'Execute' && fallback.arg).to.equal(`{originate_timeout=${CALL_TIMEOUT_S}}user/agent2`);
    await c.complete('NO_ANSWER', { 'Answer-State': 'ringing' });
    expect(c.session.ended).to.equal(true);
    c.session.close();
    await settle();
    expect(c.record()).to.deep.include({ result: 'fallback-dialplan', failure: 'Bridge:USER_BUSY', fallback: 'bridge', failureDetail: 'fallback Bridge:NO_ANSWER' });
  });

  it('bridging → fallback → settled (fallback-bridged): the fallback destination answers', async () => {
    const c = start('sync', { fallback: { action: 'bridge', destination: 'agent2' } });
    await c.answerCrm();
    await c.complete('NO_ANSWER', { 'Answer-State': 'ringing' });
    await c.complete('SUCCESS');
    await c.hangUp();
    await c.linger();
    c.session.close();
    await settle();
    expect(c.record()).to.deep.include({ result: 'fallback-bridged', failure: 'Bridge:NO_ANSWER', fallback: 'bridge', fallbackBridge: 'user/agent2' });
  });

  it('bridging → settled (caller-gone): the caller hangs up while the bridge rings; no fallback', async () => {
    const c = start('async', { fallback: { action: 'bridge', destination: 'agent2' } });
    await c.answerCrm();
    await c.hangUp();
    await c.complete('ORIGINATOR_CANCEL', { 'Answer-State': 'hangup' });
    expect(c.bridges()).to.have.length(1);
    await c.linger();
    expect(c.session.commands().at(-1)).to.equal('exit');
    c.session.close();
    await settle();
    expect(c.record()).to.deep.include({ result: 'caller-gone', failure: 'Bridge:ORIGINATOR_CANCEL' });
  });

  it('bridging, the caller gone and no completion within replyMs (a bridge FreeSWITCH never started): caller-gone', async () => {
    const c = start('async');
    await c.answerCrm();
    await c.hangUp();
    await c.clock.advance(LIMITS.replyMs);
    await c.linger();
    c.session.close();
    await settle();
    expect(c.record()).to.deep.include({ result: 'caller-gone', failure: 'Bridge:NO_COMPLETION' });
  });

  it('sync mode: decided as soon as the bridge is written (a stop does not wait for the bridged call)', async () => {
    const c = start('sync');
    await c.answerCrm();
    expect(c.bridges()).to.have.length(1);
    expect(c.decided()).to.equal(true);
  });

  it('async mode: decided once the destination is connected, not when the bridge is written', async () => {
    const c = start('async');
    await c.answerCrm();
    expect(c.decided()).to.equal(false);
    c.session.event('CHANNEL_BRIDGE', { 'Answer-State': 'answered' });
    await settle();
    expect(c.decided()).to.equal(true);
  });

  it('asking → caller gone: the hang-up aborts the CRM request, nothing more is sent', async () => {
    const c = start('async');
    await settle();
    await c.hangUp();
    expect(c.crmSignal()?.aborted).to.equal(true);
    await c.answerCrm(E.left({ _tag: 'CrmAborted' }));
    expect(c.bridges()).to.deep.equal([]);
    c.session.close();
    await settle();
    expect(c.record()).to.deep.include({ result: 'caller-gone', failure: 'CrmAborted' });
  });

  it('a disconnect notice alone counts as the hang-up', async () => {
    const c = start('async');
    await settle();
    c.session.disconnect('disconnect');
    await settle();
    expect(c.crmSignal()?.aborted).to.equal(true);
  });

  it('asking → handed back: a CRM failure takes the dialplan fallback, at warn, with the failure detail', async () => {
    const c = start('async');
    await c.answerCrm(E.left({ _tag: 'CrmUnreachable', code: 'ECONNREFUSED', ms: 0.04 }));
    expect(c.session.written.at(-1)?.map(nameOf)).to.deep.equal(['resume']);
    expect(c.session.ended).to.equal(true);
    c.session.close();
    await settle();
    expect(c.record()).to.deep.include({ result: 'fallback-dialplan', failure: 'CrmUnreachable', code: 'ECONNREFUSED', crmMs: 0 });
    expect(c.logs.find((l) => l.msg === 'call')?.level).to.equal(40);
  });

  it('handed back in async mode once the park loop runs: no resume', async () => {
    const c = start('async');
    await settle();
    c.session.event('CHANNEL_PARK');
    await c.answerCrm(E.left({ _tag: 'CrmHttpStatus', status: 503 }));
    expect(c.session.commands()).not.to.include('resume');
    expect(c.session.ended).to.equal(true);
  });

  it('handed back in sync mode: never resume', async () => {
    const c = start('sync');
    await c.answerCrm(E.left({ _tag: 'CrmHttpStatus', status: 503 }));
    expect(c.session.commands()).not.to.include('resume');
    expect(c.session.ended).to.equal(true);
  });

  it('admitted → handed back: channel data without a uuid (BadChannelData), resume first in async', async () => {
    const c = start('async', { connect: { 'Unique-ID': undefined } });
    await settle();
    expect(c.session.commands()).to.deep.equal(['connect', 'resume']);
    expect(c.session.ended).to.equal(true);
  });

  it('a socket line without full: one error naming the fix, and the call handed back', async () => {
    const c = start('async', { connect: { Control: 'single-channel' } });
    await settle();
    expect(c.session.commands()).to.deep.equal(['connect', 'resume']);
    const errors = c.logs.filter((l) => l.level === 50);
    expect(errors).to.have.length(1);
    expect(errors[0]?.msg).to.include('socket 127.0.0.1:8084 async full');
  });

  it('a set-up reply later than replyMs: the call is handed back (resume first), the CRM request aborted', async () => {
    const c = start('async', { answer: (command) => (nameOf(command) === 'connect' ? connectReply('async') : undefined) });
    await c.clock.advance(LIMITS.replyMs);
    expect(c.crmSignal()?.aborted).to.equal(true);
    await c.answerCrm(E.left({ _tag: 'CrmAborted' }));
    expect(c.session.commands().at(-1)).to.equal('resume');
    expect(c.session.ended).to.equal(true);
  });

  it('a set-up command answered -ERR is recorded, and the call handed back', async () => {
    const c = start('sync', { answer: (command) => (nameOf(command) === 'connect' ? connectReply('sync') : nameOf(command) === 'linger' ? replyOf('-ERR no') : replyOf('+OK')) });
    await settle();
    await c.answerCrm();
    c.session.close();
    await settle();
    expect(c.record()).to.deep.include({ failure: 'SetupRefused', setupErrors: ['linger: -ERR no'], result: 'fallback-dialplan' });
  });

  const answeringSetVar = (mode: 'async' | 'sync', body: string) => (command: EslCommand): ReplyFrame =>
    nameOf(command) === 'connect' ? connectReply(mode) : nameOf(command) === 'uuid_setvar_multi' ? { _tag: 'ApiResponse', body } : replyOf('+OK');

  for (const mode of ['sync', 'async'] as const) {
    for (const [what, body, recorded] of [
      ['-ERR', '-ERR No variable specified\n-USAGE: <uuid> <var>=<value>;<var>=<value>...\n', 'uuid_setvar_multi: -ERR No variable specified | -USAGE: <uuid> <var>=<value>;<var>=<value>...'],
      ['-USAGE', '-USAGE: <uuid> <var>=<value>;<var>=<value>...\n', 'uuid_setvar_multi: -USAGE: <uuid> <var>=<value>;<var>=<value>...'],
      ['of 1000 lines', '-ERR x\n'.repeat(1000), `uuid_setvar_multi: ${Array(1000).fill('-ERR x').join(' | ').slice(0, 200)}`],
    ] as const) {
      it(`${mode}: the caller's variables refused (api/response ${what}) are recorded, and the call handed back`, async () => {
        const c = start(mode, { answer: answeringSetVar(mode, body) });
        await settle();
        await c.answerCrm();
        c.session.close();
        await settle();
        expect(c.record()).to.deep.include({ failure: 'SetupRefused', setupErrors: [recorded], result: 'fallback-dialplan' });
      });
    }

    it(`${mode}: uuid_setvar_multi finding no such channel (the caller hung up before FreeSWITCH read it) is the caller gone, not a refusal`, async () => {
      const c = start(mode, { answer: answeringSetVar(mode, '-ERR No such channel!\n-USAGE: <uuid> <var>=<value>;<var>=<value>...\n') });
      await settle();
      await c.answerCrm();
      c.session.close();
      await settle();
      expect(c.record()).to.deep.include({
        failure: 'CallerHungUp',
        result: 'caller-gone',
        setupErrors: ['uuid_setvar_multi: -ERR No such channel! | -USAGE: <uuid> <var>=<value>;<var>=<value>...'],
      });
      expect(c.session.commands()).to.not.include('bridge');
    });

    it(`${mode}: the caller's variables go by uuid_setvar_multi on the channel's own uuid, answered +OK as an api/response`, async () => {
      const c = start(mode, { answer: answeringSetVar(mode, '+OK\n') });
      await settle();
      const sent = c.session.written[1]?.find((command) => nameOf(command) === 'uuid_setvar_multi');
      expect(sent).to.deep.equal({ _tag: 'Plain', line: 'api uuid_setvar_multi call-1 hangup_after_bridge=true;continue_on_fail=true' });
      await c.answerCrm();
      expect(c.session.commands().slice(-1)).to.deep.equal(['bridge']);
    });

    for (const uuid of ['call 1', 'call;1']) {
      it(`${mode}: a channel uuid that uuid_setvar_multi would misread (${JSON.stringify(uuid)}) has the variables set by multiset`, async () => {
        const c = start(mode, { connect: { 'Unique-ID': uuid } });
        await settle();
        const sent = c.session.written[1]?.slice(-1)[0];
        expect(sent).to.deep.include({ _tag: 'Execute', app: 'multiset', arg: 'hangup_after_bridge=true continue_on_fail=true' });
      });
    }
  }

  for (const mode of ['sync', 'async'] as const) {
    it(`${mode}: the call's events are filtered by its uuid before any is subscribed, and only the types the mode reads`, async () => {
      const c = start(mode, { connect: { 'Unique-ID': '8f2d6a1e-3b7c-4d9e-a5f0-1c2b3d4e5f60' } });
      await settle();
      expect(c.session.written[1]?.map(nameOf).slice(0, 2)).to.deep.equal(['filter Unique-ID 8f2d6a1e-3b7c-4d9e-a5f0-1c2b3d4e5f60', `event ${[...readIn(mode)].join(' ')}`]);
    });
    // A leading sign or slash would make the filter negative or a regular expression; whitespace is refused anywhere.
    for (const uuid of ['-1', '+1', '/.*/', 'call 1']) {
      it(`${mode}: a channel uuid the filter would misread or with whitespace (${JSON.stringify(uuid)}) subscribes with myevents, which matches it exactly`, async () => {
        const c = start(mode, { connect: { 'Unique-ID': uuid } });
        await settle();
        const written = c.session.written[1]?.map(nameOf) ?? [];
        expect(written[0]).to.equal('myevents');
        expect(written.filter((line) => line.startsWith('filter') || line.startsWith('event'))).to.deep.equal([]);
      });
    }
  }

  it('a connect reply that never comes: the socket is closed after replyMs + lateReplyMs + exitGraceMs', async () => {
    const c = start('async', { answer: () => undefined });
    await c.clock.advance(LIMITS.replyMs + LIMITS.lateReplyMs + LIMITS.exitGraceMs - 1);
    expect(c.session.isClosed()).to.equal(false);
    await c.clock.advance(1);
    expect(c.session.isClosed()).to.equal(true);
  });

  it('a connection that closes without a byte is a probe: no call line', async () => {
    const c = start('async', { answer: () => undefined });
    await settle();
    c.session.close();
    await settle();
    expect(c.end()).to.deep.equal({ _tag: 'Probe' });
    expect(c.logs.filter((l) => l.msg === 'call')).to.deep.equal([]);
    expect(c.logs.filter((l) => l.level === 20 && l.msg.startsWith('probe'))).to.have.length(1);
  });

  it('a defect of ours (the CRM step throws): one error line, and the call handed back (InternalError)', async () => {
    const c = start('async', { routeThrows: true });
    await settle();
    expect(c.session.commands().at(-1)).to.equal('resume');
    expect(c.session.ended).to.equal(true);
    c.session.close();
    await settle();
    expect(c.record()).to.deep.include({ uuid: 'call-1', failure: 'InternalError', failureDetail: 'defect', result: 'fallback-dialplan' });
    expect(c.logs.filter((l) => l.level === 50).map((l) => l.msg)).to.deep.equal(['call handling failed']);
  });

  it('after a hand-back, a FreeSWITCH that does not close gets lateReplyMs to read what was written before the end', async () => {
    const c = start('sync');
    await c.answerCrm(E.left({ _tag: 'CrmHttpStatus', status: 503 }));
    expect(c.session.ended).to.equal(true);
    await c.clock.advance(LIMITS.lateReplyMs - 1);
    expect(c.session.isClosed()).to.equal(false);
    await c.clock.advance(1);
    expect(c.session.isClosed()).to.equal(true);
  });

  it('nothing goes out once the call is handed back', async () => {
    const c = start('sync');
    await c.answerCrm(E.left({ _tag: 'CrmHttpStatus', status: 503 }));
    const written = c.session.written.length;
    await c.linger();
    await c.clock.advance(60_000);
    expect(c.session.written.length).to.equal(written);
  });

  it('the socket closing while bridging: lost', async () => {
    const c = start('async');
    await c.answerCrm();
    c.session.close({ _tag: 'SocketError', code: 'ECONNRESET' });
    await settle();
    expect(c.record()).to.deep.include({ result: 'socket-lost', failure: 'BridgeLost', socketClose: { _tag: 'SocketError', code: 'ECONNRESET' } });
  });
});

describe('telephony: the default limits', () => {
  it('are the documented ones', () => {
    expect(DEFAULT_LIMITS).to.deep.equal({ replyMs: 5_000, lateReplyMs: 30_000, exitGraceMs: 5_000, ringSlackMs: 10_000, hangupGraceMs: 2_000 });
  });
});
