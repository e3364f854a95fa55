/** Schemes for specs, decoded through the real config codecs so they are exactly what production sees. */
import * as E from 'fp-ts/lib/Either.js';
import type { Scheme } from '../../lib/config/codecs.ts';
import { decodeConfig, formatProblems } from '../../lib/config/load.ts';
import type { Call } from '../../lib/core/call.ts';
import type { Logger } from '../../lib/routing/logger.ts';

export function schemeOf(settings: Record<string, unknown>): Scheme {
  const decoded = decodeConfig({ schemes: [{ name: 'default', url: 'http://127.0.0.1:1/route', gateway: 'pstn', destinationField: 'number_01', ...settings }] });
  if (E.isLeft(decoded)) throw new Error(`bad spec scheme:\n${formatProblems(decoded.left)}`);
  const scheme = decoded.right.config.schemes[0];
  if (scheme === undefined) throw new Error('no scheme');
  return scheme;
}

export const call: Call = {
  callId: 'sip-call-1@10.0.0.1',
  uuid: '6f7a1c2e-0000-4000-8000-000000000001',
  caller: '380441234567',
  called: '5551000',
  variables: { caller_id_number: '380441234567', caller_id_name: 'Ольга', destination_number: '5551000' },
};

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn';
  readonly obj: object;
  readonly msg: string;
}

/** A Logger that keeps what it is told. */
export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    debug: (obj, msg) => lines.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
  };
}
