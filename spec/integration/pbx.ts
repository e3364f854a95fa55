import type { CallResult, CallScript, SocketMode } from '../emulator/index.ts';
import { FreeSwitchEmulator } from '../emulator/index.ts';
import { calleeFor } from './destinations.ts';

/** What a scenario may need beyond placing a call; a PBX that cannot do it says why. */
export const CAPABILITIES = ['router-commands', 'socket-reset', 'chunked-frames', 'caller-hangup-at', 'many-calls', 'latin1-caller', 'media-bypass'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** A call script, plus what only the integration PBXs offer. */
export interface PbxScript extends CallScript {
  /**
   * The caller's display name as bytes, one character per byte (U+0000-U+00FF): "Jos\u00e9" is the
   * Latin-1 byte E9, which FreeSWITCH passes on as %E9 — not UTF-8 once decoded. Needs 'latin1-caller'.
   */
  readonly callerNameBytes?: string;
}

/** The telephony side of an integration spec: the emulator here, a real FreeSWITCH where one is given. */
export interface Pbx {
  readonly description: string;
  placeCall(mode: SocketMode, script?: PbxScript): Promise<CallResult>;
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
    placeCall: (mode, script = {}) => {
      if (script.callerNameBytes !== undefined) throw new Error('the emulator cannot place a caller whose channel data is not UTF-8');
      return emulator.placeCall({ mode, ...script });
    },
    can: (capability) =>
      capability === 'latin1-caller' ? "the emulator's channel data comes from UTF-8 templates; a Latin-1 caller needs a real FreeSWITCH (or the latin1-* captures, in spec/conformance)" : true,
    close: async () => undefined,
  };
};
