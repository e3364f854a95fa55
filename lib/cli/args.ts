/**
 * The command line, parsed by node:util's parseArgs: no dependency, strict (an unknown flag or a
 * missing value is an error, never a config path), and in Node since 18.3, below our engines floor.
 * commander or yargs would add a dependency for sub-command help we can write in a dozen lines.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';

export type Command =
  | { readonly _tag: 'Help' }
  | { readonly _tag: 'Version' }
  | { readonly _tag: 'Run'; readonly config: string | undefined; readonly pretty: boolean }
  | { readonly _tag: 'Check'; readonly config: string | undefined }
  | {
      readonly _tag: 'Try';
      readonly config: string | undefined;
      readonly scheme: string | undefined;
      readonly caller: string;
      readonly called: string;
      readonly variables: Readonly<Record<string, string>>;
      readonly json: boolean;
    }
  /** The command line cannot be understood: `message` says why. */
  | { readonly _tag: 'Usage'; readonly message: string };

export const USAGE = `Usage:
  crm-router [run] [CONFIG] [--pretty]   route calls (the default command)
  crm-router check [CONFIG]              validate CONFIG, print its warnings; exit 0 (usable) or 2
  crm-router try [--config CONFIG] [--scheme NAME] --caller NUMBER --called NUMBER
                 [--var name=value ...] [--json]
                                         ask the real CRM what it would do with such a call;
                                         exit 0 (routed), 1 (fallback), 2 (bad config or arguments)
  crm-router --help | --version

CONFIG defaults to $CRM_ROUTER_CONFIG, else /etc/crm-router/crm-router.json when it exists,
else conf/crm-router.json of the installed package.

Options:
  --pretty        human-readable logs (needs the optional dependency pino-pretty)
  --scheme NAME   use this scheme, as if the dialplan set the selection variable to NAME
  --var n=v       a channel variable of the call (repeatable), e.g. --var caller_id_name=Alice
  --json          one JSON object instead of text
  -h, --help      this text
  -V, --version   the version

Environment:
  CRM_ROUTER_CONFIG     configuration file when none is given
  CRM_ROUTER_LOG_LEVEL  overrides the configuration's logLevel (fatal|error|warn|info|debug|trace|silent)
`;

const COMMON = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  pretty: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

const TRY_OPTIONS = {
  help: COMMON.help,
  version: COMMON.version,
  config: { type: 'string', short: 'c' },
  scheme: { type: 'string', short: 's' },
  caller: { type: 'string' },
  called: { type: 'string' },
  var: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

const usage = (message: string): Command => ({ _tag: 'Usage', message });

/** At most one positional: the configuration file. */
const onlyConfig = (positionals: readonly string[], command: string): string | undefined | Command =>
  positionals.length > 1 ? usage(`${command} takes one configuration file, got ${positionals.length}: ${positionals.join(' ')}`) : positionals[0];

/** An Either, not a union with Command: the user's record may itself hold a `_tag` key. */
function parseVariables(pairs: readonly string[]): E.Either<Command, Record<string, string>> {
  const variables: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return E.left(usage(`--var expects name=value, got ${JSON.stringify(pair)}`));
    Object.defineProperty(variables, pair.slice(0, eq), { value: pair.slice(eq + 1), enumerable: true, writable: true, configurable: true });
  }
  return E.right(variables);
}

const isCommand = (x: unknown): x is Command => typeof x === 'object' && x !== null && '_tag' in x;

export function parseCommandLine(argv: readonly string[]): Command {
  const [first, ...rest] = argv;
  const named = first === 'run' || first === 'check' || first === 'try' || first === 'help';
  const command = named ? first : 'run';
  if (command === 'help') return { _tag: 'Help' };
  const args = named ? rest : [...argv];
  try {
    if (command === 'try') {
      const { values } = parseArgs({ args, options: TRY_OPTIONS, allowPositionals: false, strict: true });
      if (values.help === true) return { _tag: 'Help' };
      if (values.version === true) return { _tag: 'Version' };
      if (values.caller === undefined || values.called === undefined) return usage('try needs --caller NUMBER and --called NUMBER');
      const variables = parseVariables(values.var ?? []);
      if (E.isLeft(variables)) return variables.left;
      return {
        _tag: 'Try',
        config: values.config,
        scheme: values.scheme,
        caller: values.caller,
        called: values.called,
        variables: variables.right,
        json: values.json === true,
      };
    }
    const { values, positionals } = parseArgs({ args, options: COMMON, allowPositionals: true, strict: true });
    if (values.help === true) return { _tag: 'Help' };
    if (values.version === true) return { _tag: 'Version' };
    if (command === 'check' && values.pretty === true) return usage('--pretty applies to run only: check prints no logs');
    const config = onlyConfig(positionals, command);
    if (isCommand(config)) return config;
    return command === 'check' ? { _tag: 'Check', config } : { _tag: 'Run', config, pretty: values.pretty === true };
  } catch (error) {
    return usage(error instanceof Error ? error.message : String(error));
  }
}
