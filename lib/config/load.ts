/** Reads and decodes the configuration file once, at start-up. */
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { Config, configWarnings } from './codecs.ts';
import { toProblems, type ConfigProblem } from './problems.ts';

export { formatProblems, type ConfigProblem } from './problems.ts';

export interface LoadedConfig {
  /** Deeply frozen: schemes are shared by every call. */
  readonly config: Config;
  readonly warnings: string[];
}

function deepFreeze<A>(value: A): A {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Decodes already-parsed JSON (specs use this directly). */
export function decodeConfig(json: unknown): E.Either<ConfigProblem[], LoadedConfig> {
  const decoded = Config.decode(json);
  if (E.isLeft(decoded)) return E.left(toProblems(decoded.left));
  const config = deepFreeze(decoded.right);
  return E.right({ config, warnings: configWarnings(config) });
}

/** Line and column of a JSON.parse error, when the message gives a position. */
function syntaxProblem(text: string, error: SyntaxError): ConfigProblem {
  const position = /position (\d+)/.exec(error.message)?.[1];
  if (position === undefined) return { path: '', message: `invalid JSON: ${error.message}` };
  const before = text.slice(0, Number(position));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return { path: '', message: `invalid JSON at line ${line}, column ${column}: ${error.message}` };
}

export function loadConfig(path: string): E.Either<ConfigProblem[], LoadedConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    return E.left([{ path: '', message: `cannot read ${path}: ${code}` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return E.left([syntaxProblem(text, e as SyntaxError)]);
  }
  return decodeConfig(json);
}
