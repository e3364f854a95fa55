/**
 * The load generator, as its own process: the project's FreeSWITCH emulator placing calls on the
 * router at a steady rate. Each call is the real outbound-socket exchange (connect, myevents, linger,
 * ring_ready, the bridge with its events, hang-up, linger notice, exit); the emulator's park-loop
 * delay is 0, because that delay is FreeSWITCH's, not the router's.
 *
 * Per call it records the time from TCP connect to reading the router's `bridge` sendmsg. Calls are
 * opened on a clock (how many are due since the start), not by a fixed interval, so timer jitter does
 * not lower the rate; when the process cannot keep up, the backlog of due-but-unopened calls says so.
 */
import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { attach, Channels } from '../../spec/emulator/index.ts';
import type { CallSample, LoadPlan, LoadReply, LoadRequest, LoadResult } from './messages.ts';

const LOOP_RESOLUTION_MS = 2;
/** Every call this load generator places is a channel of one FreeSWITCH, as on a real one. */
const channels = new Channels();

const send = (reply: LoadReply): void => {
  process.send?.(reply);
};

interface Progress {
  opened: number;
  settled: number;
}

/** Places one call; resolves with its sample, never rejects. */
function placeCall(plan: LoadPlan, progress: Progress, onConnected: () => void): Promise<CallSample> {
  return new Promise((resolve) => {
    const uuid = randomUUID();
    let connectedAt = Number.NaN;
    let bridgedAt = Number.NaN;
    let connected = false;
    const socket = connect({ host: plan.host, port: plan.port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      finish('timeout', false);
    }, plan.callTimeoutMs);
    let finished = false;
    const finish = (status: CallSample['status'], gaveUp: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (!connected) onConnected();
      progress.settled++;
      resolve({ uuid, status, bridgeMs: bridgedAt - connectedAt, gaveUp });
    };
    socket.once('connect', () => {
      connected = true;
      connectedAt = performance.now();
      onConnected();
      const call = attach(socket, {
        mode: plan.mode,
        uuid,
        parkDelayMs: 0,
        onCommand: (command) => {
          if (Number.isNaN(bridgedAt) && command.name === 'sendmsg' && command.headers['execute-app-name'] === 'bridge') {
            bridgedAt = performance.now();
          }
        },
      }, { coalesceWrites: true, channels });
      void call.result.then((result) => {
        socket.destroy();
        finish(Number.isNaN(bridgedAt) ? 'not-bridged' : 'bridged', result.closedBy === 'give-up');
      });
    });
    socket.once('error', () => {
      if (!connected) finish('refused', false);
    });
  });
}

/** What the orchestrator may ask of a run while it goes. */
interface Running {
  /** Samples of ended calls not yet handed out by `progress`. */
  readonly ended: CallSample[];
  /** Open no more calls. */
  readonly stop: () => void;
}

const running = new Map<number, Running>();

function run(id: number, plan: LoadPlan): void {
  const delay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  delay.enable();
  const progress: Progress = { opened: 0, settled: 0 };
  const calls: Array<Promise<CallSample>> = [];
  let count = plan.count;
  const ended: CallSample[] = [];
  let connectedOrFailed = 0;
  let saidOpened = false;
  const sayOpenedOnce = (): void => {
    if (saidOpened || connectedOrFailed < count) return;
    saidOpened = true;
    send({ type: 'opened', id });
  };
  const onConnected = (): void => {
    connectedOrFailed++;
    sayOpenedOnce();
  };
  running.set(id, {
    ended,
    stop: () => {
      count = Math.min(count, progress.opened);
      sayOpenedOnce();
    },
  });
  const start = performance.now();
  let lastOpen = start;
  let maxBacklog = 0;
  const tick = (): void => {
    const due = Math.min(count, Math.floor(((performance.now() - start) * plan.rate) / 1000) + 1);
    maxBacklog = Math.max(maxBacklog, due - progress.opened);
    while (progress.opened < due) {
      progress.opened++;
      const call = placeCall(plan, progress, onConnected);
      void call.then((sample) => ended.push(sample));
      calls.push(call);
    }
    lastOpen = performance.now();
    if (progress.opened < count) setTimeout(tick, 1);
    else void finish();
  };
  const finish = async (): Promise<void> => {
    const samples = await Promise.all(calls);
    running.delete(id);
    delay.disable();
    const seconds = (lastOpen - start) / 1000;
    const result: LoadResult = {
      calls: samples,
      achievedRate: count <= 1 || seconds <= 0 ? plan.rate : (count - 1) / seconds,
      maxBacklog,
      // The histogram holds whole timer intervals: an idle loop reads about the resolution itself.
      loopDelayP99Ms: Math.max(0, delay.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
    };
    send({ type: 'done', id, result });
  };
  tick();
}

process.on('message', (message: LoadRequest) => {
  switch (message.type) {
    case 'run':
      return run(message.id, message.plan);
    case 'progress': {
      const ended = running.get(message.run)?.ended.splice(0) ?? [];
      return send({ type: 'progress', id: message.id, samples: ended });
    }
    case 'stop':
      running.get(message.run)?.stop();
      return send({ type: 'stop', id: message.id });
  }
});
process.on('disconnect', () => process.exit(0));
// An orderly exit, so that a --cpu-prof profile is written.
process.on('SIGTERM', () => process.exit(0));
send({ type: 'ready' });
