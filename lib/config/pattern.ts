/**
 * Regular expressions from the configuration run against what a caller
 * controls (the called number, a CRM's digits), so a pattern that can
 * backtrack super-linearly would let one call stall the process. Each is
 * compiled and proven linear once, at start-up, by recheck (an automaton
 * analysis, with fuzzing where that does not apply).
 */
import * as t from 'io-ts';
import { checkSync } from 'recheck';

/** Longer patterns are refused before any analysis: a called-number rule is a few dozen characters. */
export const MAX_PATTERN_LENGTH = 512;
/** An analysis taking longer than this is refused: the pattern is too complex to trust. */
const CHECK_TIMEOUT_MS = 2000;

type Verdict = { readonly ok: true; readonly regex: RegExp } | { readonly ok: false; readonly why: string };

// A source's verdict never changes; a config decoded twice (specs, reloads) checks it once.
const verdicts = new Map<string, Verdict>();

function compile(source: string): Verdict {
  if (source.length > MAX_PATTERN_LENGTH) return { ok: false, why: `expected a regular expression of at most ${MAX_PATTERN_LENGTH} characters, got ${source.length} characters` };
  let regex: RegExp;
  try {
    regex = new RegExp(source);
  } catch {
    return { ok: false, why: `expected a regular expression, got ${JSON.stringify(source)}` };
  }
  // recheck's documented default for checkSync is a worker thread driving a native agent process, both
  // kept for the process's life (+40 MiB RSS for a check made once at start-up): run it on this thread
  // unless the operator chose otherwise.
  process.env['RECHECK_SYNC_BACKEND'] ??= 'pure';
  const diagnostics = checkSync(source, '', { timeout: CHECK_TIMEOUT_MS });
  switch (diagnostics.status) {
    case 'safe':
      return { ok: true, regex };
    case 'vulnerable':
      return {
        ok: false,
        why: `expected a regular expression that runs in linear time, got ${JSON.stringify(source)} (${diagnostics.complexity.type} backtracking, found by recheck)`,
      };
    case 'unknown':
      return {
        ok: false,
        why: `expected a regular expression that can be proven to run in linear time, got ${JSON.stringify(source)} (recheck: ${diagnostics.error.kind})`,
      };
  }
}

/** A regular expression (no flags), refused unless it is proven to run in linear time. */
export const SafePattern = new t.Type<RegExp, string, unknown>(
  'a regular expression',
  (u): u is RegExp => u instanceof RegExp,
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c);
    let verdict = verdicts.get(u);
    if (verdict === undefined) {
      verdict = compile(u);
      verdicts.set(u, verdict);
    }
    return verdict.ok ? t.success(verdict.regex) : t.failure(u, c, verdict.why);
  },
  (r) => r.source,
);
