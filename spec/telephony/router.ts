import { Writable } from 'node:stream';
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig, formatProblems } from '../../lib/config/load.ts';
import { createLogger } from '../../lib/log.ts';
import type { Router } from '../../lib/routing/route.ts';
import { startRouter, type RunningRouter } from '../../lib/server.ts';
import type { CallRecord } from '../../lib/telephony/call-record.ts';
import { DEFAULT_LIMITS, type CallLimits } from '../../lib/telephony/limits.ts';
import { FreeSwitchEmulator, type CallScript } from '../emulator/index.ts';
import { startCrmServer, type CrmServer } from '../support/crm-server.ts';

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface RouterUnderTest {
  readonly crm: CrmServer;
  readonly router: RunningRouter;
  readonly emulator: FreeSwitchEmulator;
  readonly logs: LogLine[];
  readonly records: CallRecord[];
  /** The record of the call with this uuid, once the router has let go of it. */
  readonly recordOf: (uuid: string) => Promise<CallRecord>;
  readonly stop: () => Promise<void>;
}

/** The router in this process on one scheme pointing at a loopback CRM, dialled by the emulator. */
export const startRouterUnderTest = async (
  scheme: Record<string, unknown>,
  options: { readonly limits?: Partial<CallLimits>; readonly emulator?: Partial<CallScript>; readonly route?: Router; readonly logLevel?: 'info' | 'debug' } = {},
): Promise<RouterUnderTest> => {
  const crm = await startCrmServer();
  const decoded = decodeConfig({
    listen: { host: '127.0.0.1', port: 0 },
    logLevel: 'info',
    schemes: [{ name: 'default', gateway: 'pstn', callTimeout: 1, responseTimeout: 1, ...scheme, url: `${crm.url}/` }],
  });
  if (E.isLeft(decoded)) throw new Error(`bad spec config:\n${formatProblems(decoded.left)}`);
  const logs: LogLine[] = [];
  const records: CallRecord[] = [];
  const waiting = new Map<string, (record: CallRecord) => void>();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const router = await startRouter({
    config: decoded.right.config,
    log: createLogger(options.logLevel ?? 'info', sink),
    limits: { ...DEFAULT_LIMITS, replyMs: 1_000, exitGraceMs: 1_000, hangupGraceMs: 300, ...options.limits },
    ...(options.route ? { route: options.route } : {}),
    onCallDone: (record) => {
      records.push(record);
      if (record.uuid !== undefined) waiting.get(record.uuid)?.(record);
    },
  });
  const emulator = new FreeSwitchEmulator({ host: '127.0.0.1', port: router.address.port }, { parkDelayMs: 0, msPerSecond: 100, lingerGiveUpMs: 3_000, ...options.emulator });
  return {
    crm,
    router,
    emulator,
    logs,
    records,
    recordOf: (uuid) => {
      const done = records.find((r) => r.uuid === uuid);
      return done ? Promise.resolve(done) : new Promise((resolve) => waiting.set(uuid, resolve));
    },
    stop: async () => {
      await router.drain();
      await crm.close();
    },
  };
};
