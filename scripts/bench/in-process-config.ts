/**
 * The config of fetch-latency.ts and young-survival.ts, which run crm-router's pieces in their own
 * process: one JSON scheme asking `url`, its answer's destination in `number_01`, the fallback the
 * dialplan, logging off.
 */
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig } from '../../lib/config/load.ts';
import type { Config } from '../../lib/config/codecs.ts';

export function inProcessConfig(url: string): Config {
  const decoded = decodeConfig({
    listen: { host: '127.0.0.1', port: 0 },
    logLevel: 'silent',
    selection: { variable: 'crm_scheme', byCalledNumber: [], default: 'default' },
    schemes: [{ name: 'default', url, method: 'POST', submit: 'json', import: 'json', destinationField: 'number_01', callTimeout: 30, responseTimeout: 5, params: {}, headers: {}, gateway: 'pstn', allowedPrefixes: ['380'], fallback: { action: 'dialplan' } }],
  });
  if (E.isLeft(decoded)) throw new Error(`bad benchmark config: ${JSON.stringify(decoded.left)}`);
  return decoded.right.config;
}
