import type { CallResult, CallScript, SocketMode } from '../emulator/index.ts';
import { FreeSwitchEmulator } from '../emulator/index.ts';
import { calleeFor } from './destinations.ts';

/** What a scenario may need beyond placing a call; a PBX that cannot do it says why. */
export type Capability = 'router-commands' | 'socket-reset' | 'chunked-frames' | 'caller-hangup-at' | 'many-calls';

/** The telephony side of an integration spec: the emulator here, a real FreeSWITCH where one is given. */
export interface Pbx {
  readonly description: string;
  placeCall(mode: SocketMode, script?: CallScript): Promise<CallResult>;
  /** `true`, or the reason this PBX cannot do it (printed when the spec is skipped). */
  can(capability: Capability): true | string;
  close(): Promise<void>;
}

/** Scale of the emulator's clock for ringing bounds: a `callTimeout` of 1 s rings for 100 ms. */
export const EMULATOR_MS_PER_SECOND = 100;

export const emulatorPbx = (router: { host: string; port: number }): Pbx => {
  const emulator = new FreeSwitchEmulator(router, {
    parkDelayMs: 0,
    msPerSecond: EMULATOR_MS_PER_SECOND,
    callee: calleeFor,
    lingerGiveUpMs: 3_000,
  });
  return {
    description: 'the FreeSWITCH emulator (spec/emulator)',
    placeCall: (mode, script = {}) => emulator.placeCall({ mode, ...script }),
    can: () => true,
    close: async () => undefined,
  };
};
