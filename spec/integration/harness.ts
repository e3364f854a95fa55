import { Writable } from 'node:stream';
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig, formatProblems } from '../../lib/config/load.ts';
import { createLogger } from '../../lib/log.ts';
import { startRouter, type RunningRouter } from '../../lib/server.ts';
import type { CallRecord } from '../../lib/telephony/call-record.ts';
import { DEFAULT_LIMITS } from '../../lib/telephony/handle-call.ts';
import { startCrmServer, type CrmServer } from '../support/crm-server.ts';
import { emulatorPbx, type Pbx } from './pbx.ts';
import { realFreeSwitchFromEnv } from './real-freeswitch.ts';

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface Harness {
  readonly crm: CrmServer;
  readonly pbx: Pbx;
  readonly router: RunningRouter;
  /** One per call the router let go of, in the order they finished. */
  readonly records: CallRecord[];
  /** Resolves with the record of the call with this channel uuid, once the router lets go of it. */
  readonly recordOf: (uuid: string) => Promise<CallRecord>;
  readonly logs: LogLine[];
  readonly stop: () => Promise<void>;
}

/** pino writes one JSON line per call to this stream; the specs read them back. */
const collect = (logs: LogLine[]): Writable =>
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });

/**
 * The router in this process, on the config made of `schemes` (each pointing at the loopback CRM with
 * `url: "/path"`), and the PBX that dials it: a real FreeSWITCH when CRM_ROUTER_FREESWITCH names one,
 * the emulator otherwise.
 */
export const startHarness = async (schemes: ReadonlyArray<Record<string, unknown>>): Promise<Harness> => {
  const crm = await startCrmServer();
  const real = realFreeSwitchFromEnv();
  const decoded = decodeConfig({
    listen: real ? real.routerListen : { host: '127.0.0.1', port: 0 },
    logLevel: 'info',
    schemes: schemes.map((s) => ({ gateway: 'pstn', ...s, url: `${crm.url}${String(s['url'] ?? '/')}` })),
  });
  if (E.isLeft(decoded)) throw new Error(`bad spec config:\n${formatProblems(decoded.left)}`);
  const logs: LogLine[] = [];
  const records: CallRecord[] = [];
  const waiting = new Map<string, (record: CallRecord) => void>();
  const router = await startRouter({
    config: decoded.right.config,
    log: createLogger('info', collect(logs)),
    // replyMs 2.5 s, not 1: with 200 calls starting at once on a 2-core machine, a real FreeSWITCH
    // answered an async `connect` just over 1 s late in 3 of 14 runs of local.sh, and that call went back
    // to the dialplan, as it should. Short still, for the specs that wait it out (a bridge FreeSWITCH
    // drops unrun); the late-reply paths have specs of their own (spec/telephony).
    limits: { ...DEFAULT_LIMITS, replyMs: 2_500, exitGraceMs: 1_000, hangupGraceMs: 500 },
    onCallDone: (record) => {
      records.push(record);
      if (record.uuid !== undefined) waiting.get(record.uuid)?.(record);
    },
  });
  let pbx: Pbx;
  try {
    pbx = real ? await real.connect() : emulatorPbx({ host: '127.0.0.1', port: router.address.port });
  } catch (error) {
    // Leave nothing listening behind: the failure must end the run, not hang it or spoil the next suite.
    await router.drain();
    await crm.close();
    throw error;
  }
  return {
    crm,
    pbx,
    router,
    records,
    recordOf: (uuid) => {
      const done = records.find((r) => r.uuid === uuid);
      return done ? Promise.resolve(done) : new Promise((resolve) => waiting.set(uuid, resolve));
    },
    logs,
    stop: async () => {
      await pbx.close();
      await router.drain();
      await crm.close();
    },
  };
};
