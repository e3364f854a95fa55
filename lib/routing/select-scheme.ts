/** Which scheme handles a call: channel variable, else called-number rule, else default. */
import type { Config, Scheme } from '../config/codecs.ts';
import type { Call } from '../core/call.ts';

export interface SchemeChoice {
  readonly scheme: Scheme;
  /** For the call's log line, e.g. `variable crm_scheme="sales"` or why the variable was passed over. */
  readonly reason: string;
}

/**
 * A caller controls the called number: one longer than this matches no rule,
 * so no pattern ever runs on more (E.164 numbers have at most 15 digits; SIP
 * user parts with prefixes a few dozen characters).
 */
export const MAX_MATCHED_LENGTH = 64;

// Few schemes per file: a linear search beats building an index per call.
const byName = (config: Config, name: string): Scheme | undefined => config.schemes.find((s) => s.name === name);

export function selectScheme(config: Config, call: Call): SchemeChoice {
  const { variable, byCalledNumber } = config.selection;
  let passedOver = '';
  const wanted = Object.hasOwn(call.variables, variable) ? call.variables[variable] : undefined;
  if (wanted !== undefined && wanted !== '') {
    const scheme = byName(config, wanted);
    if (scheme !== undefined) return { scheme, reason: `variable ${variable}=${JSON.stringify(wanted)}` };
    passedOver = `variable ${variable}=${JSON.stringify(wanted.slice(0, 64))} names no scheme; `;
  }
  const matchable = call.called.length <= MAX_MATCHED_LENGTH;
  if (!matchable) passedOver += `called number longer than ${MAX_MATCHED_LENGTH} characters matches no rule; `;
  for (const rule of matchable ? byCalledNumber : []) {
    if (rule.pattern.test(call.called)) {
      // Config decoding guarantees every rule names an existing scheme.
      const scheme = byName(config, rule.scheme);
      if (scheme !== undefined) return { scheme, reason: `${passedOver}called number matched /${rule.pattern.source}/` };
    }
  }
  const fallback = byName(config, config.selection.default) ?? config.schemes[0];
  if (fallback === undefined) throw new Error('unreachable: a decoded Config has at least one scheme');
  return { scheme: fallback, reason: `${passedOver}default` };
}
