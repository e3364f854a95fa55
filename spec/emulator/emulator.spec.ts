// Scriptable behaviours of the emulator, driven by a bare `net` server standing in for the router.
import { expect } from 'chai';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { templatesOf } from './templates.ts';
import { FreeSwitchEmulator, FrameReader, header, parseHeaderBlock, type CallScript, type CallResult, type Frame } from './index.ts';

interface Seen {
  frames: Frame[];
  events: string[];
}

const eventName = (f: Frame): string | undefined =>
  header(f.headers, 'Content-Type') === 'text/event-plain' ? header(parseHeaderBlock(f.body.split('\n\n')[0]!), 'Event-Name') : undefined;
const eventVar = (f: Frame, name: string): string | undefined => header(parseHeaderBlock(f.body.split('\n\n')[0]!), name);

/**
 * A router that writes `commands` (one write each, or all at once), `afterHangup` once it reads the
 * caller's CHANNEL_HANGUP, and then `exit` after the hang-up notice.
 */
async function run(
  commands: string[],
  script: CallScript,
  opts: { together?: boolean; exitOnNotice?: boolean; afterHangup?: string[] } = {},
): Promise<{ seen: Seen; result: CallResult }> {
  const seen: Seen = { frames: [], events: [] };
  let server: Server | undefined;
  let readAll!: () => void;
  // The emulator settles its result as it ends the call; the last chunked bytes may still be on the way.
  const allRead = new Promise<void>((resolve) => (readAll = resolve));
  const port = await new Promise<number>((resolve) => {
    server = createServer({ noDelay: true }, (s: Socket) => {
      const reader = new FrameReader();
      s.on('error', () => undefined);
      s.on('close', readAll);
      s.on('data', (b) => {
        for (const f of reader.push(b)) {
          seen.frames.push(f);
          const e = eventName(f);
          if (e) seen.events.push(e);
          if (e === 'CHANNEL_HANGUP') for (const c of opts.afterHangup ?? []) s.write(c);
          if (opts.exitOnNotice !== false && header(f.headers, 'Content-Disposition') === 'linger') s.write('exit\n\n');
        }
      });
      s.write('connect\n\n');
      if (opts.together) s.write(commands.join(''));
      else for (const c of commands) s.write(c);
    }).listen(0, '127.0.0.1', () => resolve((server!.address() as AddressInfo).port));
  });
  const emu = new FreeSwitchEmulator({ host: '127.0.0.1', port }, { parkDelayMs: 0, lingerGiveUpMs: 1500 });
  const result = await emu.placeCall(script);
  await allRead;
  server!.close();
  return { seen, result };
}

const execute = (app: string, arg?: string, extra = ''): string =>
  `sendmsg\ncall-command: execute\nexecute-app-name: ${app}\n${arg !== undefined ? `execute-app-arg: ${arg}\n` : ''}${extra}\n`;
const completeOf = (seen: Seen, app: string): Frame =>
  seen.frames.find((f) => eventName(f) === 'CHANNEL_EXECUTE_COMPLETE' && eventVar(f, 'Application') === app)!;

describe('emulator behaviours', () => {
  it('takes a text/plain body for the argument when execute-app-arg is absent, as switch_ivr_parse_event does', async () => {
    const body = (arg: string, type: string | undefined, extra = ''): string =>
      `sendmsg\ncall-command: execute\nexecute-app-name: bridge\n${extra}${type === undefined ? '' : `Content-Type: ${type}\n`}content-length: ${arg.length}\n\n${arg}`;
    const argOf = async (command: string): Promise<string | undefined> =>
      (await run(['myevents\n\n', 'linger\n\n', command], { mode: 'sync' })).result.bridges[0]?.arg;
    expect(await argOf(body('user/1000@127.0.0.1', 'text/plain'))).to.equal('user/1000@127.0.0.1');
    expect(await argOf(body('user/1000@127.0.0.1', 'TEXT/PLAIN'))).to.equal('user/1000@127.0.0.1');
    expect(await argOf(body('user/1000@127.0.0.1', undefined))).to.equal('');
    expect(await argOf(body('user/1000@127.0.0.1', 'text/plain', 'execute-app-arg: user/1001@127.0.0.1\n'))).to.equal('user/1001@127.0.0.1');
  });

  for (const [mode, capture] of [['async', 'latin1-a-bridge-user'], ['sync', 'latin1-sync-a-bridge-user']] as const) {
    it(`media bypass (${mode}): the events of ${capture}, the bridge complete at the answer with the call up`, async () => {
      const { seen, result } = await run(['myevents\n\n', 'linger\n\n', execute('bridge', 'user/1000@127.0.0.1', 'Event-UUID: b-1\n')],
        { mode, variables: { bypass_media: 'true' }, callerHangupAfterAnswerMs: 50 });
      const captured = templatesOf(capture).events.map((e) => e.eventName);
      // The socket app's CHANNEL_PARK races the subscription; this capture's FreeSWITCH lost the race.
      expect(seen.events.filter((e) => e !== 'CHANNEL_PARK')).to.deep.equal(captured);
      const done = completeOf(seen, 'bridge');
      expect(eventVar(done, 'Answer-State')).to.equal('answered');
      expect(eventVar(done, 'variable_signal_bridge_to')).to.match(/^[0-9a-f-]{36}$/);
      expect(eventVar(done, 'Application-UUID')).to.equal('b-1');
      expect(seen.events.indexOf('CHANNEL_EXECUTE_COMPLETE')).to.be.lessThan(seen.events.indexOf('CHANNEL_HANGUP'));
      expect(result.bridges.map((b) => b.outcome)).to.deep.equal(['SUCCESS']);
      expect(result).to.deep.include({ callerHungUp: true, returnedToDialplan: false, sentExit: true });
    });
  }

  it('busy callee: bridge completes USER_BUSY / BUSY and the caller stays up with continue_on_fail', async () => {
    const { seen, result } = await run(['myevents\n\n', 'linger\n\n', execute('set', 'continue_on_fail=true'), execute('bridge', 'user/2001')],
      { callee: () => ({ kind: 'busy' }), callerHangupAtMs: 100 });
    const done = completeOf(seen, 'bridge');
    expect(eventVar(done, 'variable_originate_disposition')).to.equal('USER_BUSY');
    expect(eventVar(done, 'variable_DIALSTATUS')).to.equal('BUSY');
    expect(eventVar(done, 'Answer-State')).to.equal('ringing');
    expect(result.bridges[0]!.outcome).to.equal('USER_BUSY');
    expect(result.sentExit).to.equal(true);
  });

  describe('api uuid_setvar_multi, as mod_commands.c runs it', () => {
    const UUID = 'c0ffee00-0000-4000-8000-000000000001';
    const apiBodies = (seen: Seen): string[] => seen.frames.filter((f) => header(f.headers, 'Content-Type') === 'api/response').map((f) => f.body);

    it('sets the caller\'s variables with no application run: continue_on_fail keeps a busy caller up', async () => {
      const { seen, result } = await run(['myevents\n\n', 'linger\n\n', `api uuid_setvar_multi ${UUID} hangup_after_bridge=true;continue_on_fail=true\n\n`, execute('bridge', 'user/2001')],
        { uuid: UUID, callee: () => ({ kind: 'busy' }), callerHangupAtMs: 100 });
      expect(apiBodies(seen)).to.deep.equal(['+OK\n']);
      const applications = seen.frames.filter((f) => eventName(f)?.startsWith('CHANNEL_EXECUTE') === true).map((f) => eventVar(f, 'Application'));
      expect(applications.filter((app) => app !== 'bridge' && app !== 'socket')).to.deep.equal([]);
      expect(result.bridges[0]!.outcome).to.equal('USER_BUSY');
      expect(result.callerHungUp).to.equal(true);
      expect(result.hangupCause).to.not.equal('USER_BUSY');
    });

    it('answers -ERR No such channel! and its usage for another uuid, and sets nothing', async () => {
      const { seen, result } = await run(['myevents\n\n', 'linger\n\n', 'api uuid_setvar_multi c0ffee00-0000-4000-8000-00000000ffff continue_on_fail=true\n\n', execute('bridge', 'user/9999')],
        { uuid: UUID, callee: () => ({ kind: 'unknown-user' }) });
      expect(apiBodies(seen)).to.deep.equal(['-ERR No such channel!\n-USAGE: <uuid> <var>=<value>;<var>=<value>...\n']);
      expect(result.hangupCause).to.equal('SUBSCRIBER_ABSENT');
    });

    it('answers -ERR No such channel! for the call\'s own uuid once the caller has hung up (a channel that is down is not located)', async () => {
      const { seen } = await run(['myevents\n\n', 'linger\n\n'], { uuid: UUID, callerHangupAtMs: 30 }, { afterHangup: [`api uuid_setvar_multi ${UUID} continue_on_fail=true\n\n`] });
      expect(apiBodies(seen)).to.deep.equal(['-ERR No such channel!\n-USAGE: <uuid> <var>=<value>;<var>=<value>...\n']);
    });

    it('answers +OK for a trailing ;, -USAGE without variables, and api_exec\'s -ERR no reply for a uuid alone', async () => {
      const lines = [`${UUID} a=1;`, `${UUID} =x`, UUID, ''].map((arg) => `api uuid_setvar_multi${arg === '' ? '' : ` ${arg}`}\n\n`);
      const { seen } = await run(lines, { uuid: UUID, callerHangupAtMs: 50 });
      expect(apiBodies(seen)).to.deep.equal([
        '+OK\n',
        '-ERR No variable specified\n-USAGE: <uuid> <var>=<value>;<var>=<value>...\n',
        '-ERR no reply\n',
        '-USAGE: <uuid> <var>=<value>;<var>=<value>...\n',
      ]);
    });
  });

  it('unknown user without continue_on_fail: FreeSWITCH hangs the caller up (SUBSCRIBER_ABSENT)', async () => {
    const { seen, result } = await run(['myevents\n\n', 'linger\n\n', execute('bridge', 'user/9999')], { callee: () => ({ kind: 'unknown-user' }) });
    expect(seen.events.indexOf('CHANNEL_HANGUP')).to.be.lessThan(seen.events.indexOf('CHANNEL_EXECUTE_COMPLETE'));
    expect(result.hangupCause).to.equal('SUBSCRIBER_ABSENT');
    expect(result.callerHungUp).to.equal(true);
  });

  it('no answer: rings for originate_timeout from the {} prefix', async () => {
    const t0 = Date.now();
    const { seen, result } = await run(['myevents\n\n', 'linger\n\n', execute('bridge', '{originate_timeout=1}user/2001')],
      { callee: () => ({ kind: 'no-answer' }), msPerSecond: 200, callerHangupAtMs: 600 });
    const done = completeOf(seen, 'bridge');
    expect(eventVar(done, 'variable_originate_disposition')).to.equal('NO_ANSWER');
    expect(result.bridges[0]!.vars).to.deep.equal({ originate_timeout: '1' });
    expect(Date.now() - t0).to.be.greaterThan(190);
  });

  it('no answer: rings for the channel call_timeout when the prefix has none', async () => {
    const { seen, result } = await run(['myevents\n\n', 'linger\n\n', execute('set', 'call_timeout=2'), execute('bridge', 'user/2001')],
      { callee: () => ({ kind: 'no-answer' }), msPerSecond: 100, callerHangupAtMs: 800 });
    const progress = seen.frames.findIndex((f) => eventName(f) === 'CHANNEL_PROGRESS');
    expect(progress).to.be.greaterThan(0);
    expect(eventVar(completeOf(seen, 'bridge'), 'variable_DIALSTATUS')).to.equal('NOANSWER');
    expect(result.channelVars['call_timeout']).to.equal('2');
  });

  it('caller hangs up at T while the router is idle: ORIGINATOR_CANCEL, later sendmsg still +OK', async () => {
    const { seen, result } = await run(['myevents\n\n', 'linger\n\n'], { callerHangupAtMs: 30 });
    expect(seen.events).to.include('CHANNEL_HANGUP');
    expect(result.hangupCause).to.equal('ORIGINATOR_CANCEL');
  });

  it('pipelined commands in one write are all answered and executed in order', async () => {
    const { seen } = await run(['myevents\n\n', 'linger\n\n', execute('set', 'a=1'), execute('set', 'b=2'), execute('bridge', 'user/1000')],
      { callerHangupAfterAnswerMs: 10 }, { together: true });
    const replies = seen.frames.filter((f) => header(f.headers, 'Reply-Text')?.startsWith('+OK') && !header(f.headers, 'Event-Name'));
    expect(replies.length).to.be.at.least(5);
    const apps = seen.frames.filter((f) => eventName(f) === 'CHANNEL_EXECUTE').map((f) => eventVar(f, 'Application'));
    expect(apps).to.deep.equal(['set', 'set', 'bridge']);
  });

  it('sync mode: the bridge reply is held until the bridge ends, and its events come after it', async () => {
    const { seen } = await run(['myevents\n\n', 'linger\n\n', execute('bridge', 'user/1000')], { mode: 'sync', callerHangupAfterAnswerMs: 50 });
    const reply = seen.frames.findIndex((f, i) => i > 2 && header(f.headers, 'Reply-Text') === '+OK');
    const firstEvent = seen.frames.findIndex((f) => eventName(f) !== undefined);
    expect(reply).to.be.greaterThan(0);
    expect(firstEvent).to.be.greaterThan(reply);
    expect(header(seen.frames[0]!.headers, 'Socket-Mode')).to.equal('static');
  });

  it('chunked writes still reassemble into identical frames', async function () {
    // ~15 KB written 1-5 bytes per event-loop turn: over a second alone, many on a loaded machine.
    this.timeout(30_000);
    const { seen, result } = await run(['myevents\n\n', 'linger\n\n', execute('bridge', 'user/1000')], { chunked: { maxChunk: 5 }, callerHangupAfterAnswerMs: 10, recordWritten: true, lingerGiveUpMs: 10_000 });
    const got = seen.frames.map((f) => f.raw).join('');
    expect(got.length).to.be.greaterThan(10000);
    expect(result.written?.startsWith(got)).to.equal(true);
    expect(seen.events).to.include('CHANNEL_HANGUP_COMPLETE');
  });

  it('reset mid-frame: the router sees half a frame and a reset', async () => {
    const { seen, result } = await run(['myevents\n\n', 'linger\n\n', execute('bridge', 'user/1000')], { resetAtMs: 1, resetMidFrame: true, callerHangupAfterAnswerMs: 1e6, recordWritten: true });
    expect(result.closedBy).to.equal('reset');
    expect(seen.frames.map((f) => f.raw).join('').length).to.be.lessThan(result.written?.length ?? 0);
  });

  it('router closes while the caller is up: the call returns to the dialplan', async () => {
    const { result } = await run(['myevents\n\n', 'exit\n\n'], { mode: 'sync' });
    expect(result.returnedToDialplan).to.equal(true);
    expect(result.sentExit).to.equal(true);
  });

  it('a router that never sends exit after linger is reported as give-up', async () => {
    const { result } = await run(['myevents\n\n', 'linger\n\n'], { callerHangupAtMs: 10, lingerGiveUpMs: 100 }, { exitOnNotice: false });
    expect(result.closedBy).to.equal('give-up');
  });
  describe('subscription (myevents / event / nixevent / noevents / filter, as mod_event_socket)', () => {
    const NIX = 'nixevent CHANNEL_STATE CHANNEL_CALLSTATE CHANNEL_CREATE CHANNEL_DESTROY CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA ' +
      'CHANNEL_OUTGOING CHANNEL_ORIGINATE CHANNEL_PARK CHANNEL_UNPARK CHANNEL_APPLICATION CHANNEL_HANGUP_COMPLETE CHANNEL_ANSWER ' +
      'CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_EXECUTE CALL_UPDATE RECV_RTCP_MESSAGE\n\n';
    const replies = (seen: Seen): string[] =>
      seen.frames.filter((f) => header(f.headers, 'Content-Type') === 'command/reply' && !header(f.headers, 'Event-Name')).map((f) => header(f.headers, 'Reply-Text')!);

    for (const mode of ['async', 'sync'] as const) {
      it(`${mode}: after one nixevent only the types left on arrive (the nix- captures' call: EXECUTE_COMPLETE and HANGUP)`, async () => {
        const { seen, result } = await run(['myevents\n\n', NIX, 'linger\n\n', execute('bridge', 'user/1000')], { mode, callerHangupAfterAnswerMs: 10 }, { together: true });
        expect(new Set(seen.events)).to.deep.equal(new Set(['CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP']));
        expect(seen.events.filter((e) => e === 'CHANNEL_EXECUTE_COMPLETE')).to.have.length(mode === 'async' ? 2 : 1);
        expect(replies(seen).slice(0, 3)).to.deep.equal(['+OK Events Enabled', '+OK events nixed', '+OK will linger']);
        expect(result.bridges[0]!.outcome).to.equal('SUCCESS');
      });
    }

    it('sync: a nixevent read after an execute takes effect from the events created after it', async () => {
      const { seen } = await run(['myevents\n\n', execute('set', 'a=1'), 'nixevent CHANNEL_EXECUTE\n\n', execute('set', 'b=2'), 'linger\n\n'], { mode: 'sync', callerHangupAtMs: 150 });
      const executes = seen.frames.filter((f) => eventName(f) === 'CHANNEL_EXECUTE').map((f) => eventVar(f, 'Application-Data'));
      expect(executes).to.deep.equal(['a%3D1']);
      expect(seen.frames.filter((f) => eventName(f) === 'CHANNEL_EXECUTE_COMPLETE').map((f) => eventVar(f, 'Application-Data'))).to.deep.equal(['a%3D1', 'b%3D2']);
    });

    it('replies as FreeSWITCH does to a second myevents, to names it does not know and to noevents', async () => {
      const { seen } = await run(['myevents\n\n', 'myevents\n\n', 'nixevent NO_SUCH_EVENT\n\n', 'nixevent no_such SWITCH_EVENT_CHANNEL_STATE\n\n',
        'event plain\n\n', 'noevents\n\n', 'noevents\n\n', 'linger\n\n'], { callerHangupAtMs: 100 });
      expect(replies(seen).slice(0, 7)).to.deep.equal(['+OK Events Enabled', '-ERR aready enabled.', '-ERR no keywords supplied', '+OK events nixed',
        '-ERR no keywords supplied', '+OK no longer listening for events', '-ERR not listening for events']);
      expect(seen.events).to.deep.equal([]);
    });

    it('event: only the types named arrive; the reply names the format; ALL then a nix keeps the rest', async () => {
      const named = await run(['event plain CHANNEL_HANGUP channel_execute_complete\n\n', 'linger\n\n', execute('set', 'a=1')], { callerHangupAtMs: 100 });
      expect(replies(named.seen)[0]).to.equal('+OK event listener enabled plain');
      expect(new Set(named.seen.events)).to.deep.equal(new Set(['CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP']));
      const all = await run(['event ALL\n\n', 'nixevent CHANNEL_STATE\n\n', 'linger\n\n'], { callerHangupAtMs: 100 });
      expect(all.seen.events).to.include('CHANNEL_HANGUP_COMPLETE');
      expect(all.seen.events).to.not.include('CHANNEL_STATE');
    });

    it('filter: once a filter exists only matching events arrive; a negative one stops its match; delete all lifts them', async () => {
      const one = await run(['myevents\n\n', 'filter Event-Name CHANNEL_HANGUP\n\n', 'linger\n\n'], { callerHangupAtMs: 100 });
      expect(replies(one.seen)[1]).to.equal('+OK filter added. [Event-Name]=[CHANNEL_HANGUP]');
      expect(one.seen.events).to.deep.equal(['CHANNEL_HANGUP']);
      const neg = await run(['myevents\n\n', 'filter Unique-ID /./\n\n', 'filter add Event-Name -CHANNEL_STATE\n\n', 'linger\n\n'], { callerHangupAtMs: 100 });
      expect(neg.seen.events).to.include('CHANNEL_HANGUP_COMPLETE');
      expect(neg.seen.events).to.not.include('CHANNEL_STATE');
      const lifted = await run(['myevents\n\n', 'filter Event-Name CHANNEL_HANGUP\n\n', 'filter delete all\n\n', 'filter nonsense\n\n', 'linger\n\n'], { callerHangupAtMs: 100 });
      expect(replies(lifted.seen).slice(1, 4)).to.deep.equal(['+OK filter added. [Event-Name]=[CHANNEL_HANGUP]', '+OK filter deleted. [all][]', '-ERR invalid syntax']);
      expect(lifted.seen.events).to.include('CHANNEL_STATE');
    });

    /**
     * Two calls on one emulator, each with its own router connection writing `commandsOf(its uuid)`;
     * the Unique-IDs of the CHANNEL_HANGUPs the first call's socket is sent.
     */
    const hangupsSeenByFirst = async (commandsOf: (uuid: string) => string[]): Promise<string[]> => {
      const uuids = ['a0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000002'];
      const seenByFirst: string[] = [];
      let connections = 0;
      const server = createServer({ noDelay: true }, (s: Socket) => {
        const uuid = uuids[connections++]!;
        const reader = new FrameReader();
        s.on('error', () => undefined);
        s.on('data', (b) => {
          for (const f of reader.push(b)) {
            if (uuid === uuids[0] && eventName(f) === 'CHANNEL_HANGUP') seenByFirst.push(eventVar(f, 'Unique-ID')!);
            if (header(f.headers, 'Content-Disposition') === 'linger') s.write('exit\n\n');
          }
        });
        s.write(['connect\n\n', ...commandsOf(uuid), 'linger\n\n'].join(''));
      });
      const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
      const emu = new FreeSwitchEmulator({ host: '127.0.0.1', port }, { parkDelayMs: 0, lingerGiveUpMs: 1500 });
      // The second call hangs up first, while the first call's socket still listens.
      const first = emu.placeCall({ uuid: uuids[0], callerHangupAtMs: 300 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await Promise.all([first, emu.placeCall({ uuid: uuids[1], callerHangupAtMs: 100 })]);
      server.close();
      return seenByFirst;
    };

    it('event without myevents: every channel\'s events of the types named arrive, unless a filter keeps them out', async () => {
      expect(await hangupsSeenByFirst(() => ['event plain CHANNEL_HANGUP\n\n'])).to.deep.equal(['b0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000001']);
      expect(await hangupsSeenByFirst((uuid) => [`filter Unique-ID ${uuid}\n\n`, 'event plain CHANNEL_HANGUP\n\n'])).to.deep.equal(['a0000000-0000-4000-8000-000000000001']);
      expect(await hangupsSeenByFirst(() => ['myevents\n\n'])).to.deep.equal(['a0000000-0000-4000-8000-000000000001']);
      // FreeSWITCH compares a filter's value without regard to case (strcasecmp).
      expect(await hangupsSeenByFirst((uuid) => [`filter Unique-ID ${uuid.toUpperCase()}\n\n`, 'event plain CHANNEL_HANGUP\n\n'])).to.deep.equal(['a0000000-0000-4000-8000-000000000001']);
    });
  });
});
