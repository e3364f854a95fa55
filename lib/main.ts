import { existsSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { parseCommandLine, USAGE, type Command } from './cli/args.ts';
import { defaultConfigPath } from './cli/config-path.ts';
import { startService } from './cli/service.ts';
import { formatTryReport, tryCall } from './cli/try.ts';
import { LogLevel } from './config/codecs.ts';
import { formatProblems, loadConfig, type LoadedConfig } from './config/load.ts';
import { makeGotFetch } from './crm/fetch.ts';
import { VERSION } from './crm/version.ts';
import { createLogger } from './log.ts';

/** Exit codes. `try` also uses ROUTED and FALLBACK; BAD_CONFIG covers a bad command line too. */
const ROUTED = 0;
const FALLBACK = 1;
/** Nothing was started: the configuration (or the command line) cannot be used. */
const BAD_CONFIG = 2;
/** A listener cannot be opened (address in use, no permission). */
const CANNOT_LISTEN = 1;
/** A second SIGTERM/SIGINT while draining: calls still deciding are dropped to FreeSWITCH's dialplan. */
const FORCED = 1;

const fail = (code: number, message: string): never => {
  process.stderr.write(`crm-router: ${message}\n`);
  process.exit(code);
};

const load = (path: string | undefined): { readonly path: string; readonly loaded: LoadedConfig } => {
  const chosen = path ?? defaultConfigPath(process.env, existsSync);
  const loaded = loadConfig(chosen);
  if (E.isLeft(loaded)) return fail(BAD_CONFIG, `${chosen} is not a usable configuration:\n${formatProblems(loaded.left)}`);
  return { path: chosen, loaded: loaded.right };
};

const logLevelOverride = (): (typeof LogLevel)['_A'] | undefined => {
  const level = process.env['CRM_ROUTER_LOG_LEVEL'];
  if (level === undefined || level === '') return undefined;
  return LogLevel.is(level) ? level : fail(BAD_CONFIG, `CRM_ROUTER_LOG_LEVEL: expected ${LogLevel.name}, got ${JSON.stringify(level)}`);
};

/** pino-pretty is optional: a production install does without it. */
const prettyStream = async (): Promise<NodeJS.WritableStream> => {
  try {
    const { default: pretty } = await import('pino-pretty');
    // sync: the lines of a process that exits right after writing them are not lost (nor reordered).
    return pretty({ colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', sync: true });
  } catch {
    return fail(BAD_CONFIG, '--pretty needs the optional dependency pino-pretty: `npm install pino-pretty` (or drop --pretty and pipe the JSON lines through `npx pino-pretty`)');
  }
};

const run = async (command: Extract<Command, { _tag: 'Run' }>): Promise<void> => {
  const { path, loaded } = load(command.config);
  const override = logLevelOverride();
  const log = createLogger(override ?? loaded.config.logLevel, command.pretty ? await prettyStream() : undefined);
  const started = await startService({ configPath: path, loaded, log, logLevelOverride: override, processMetrics: true });
  if (E.isLeft(started)) {
    const { listener, host, port, code } = started.left;
    log.fatal({ host, port, code }, listener === 'admin' ? 'cannot listen for admin requests (admin.listen)' : 'cannot listen for FreeSWITCH');
    log.flush();
    process.exit(CANNOT_LISTEN);
  }
  const service = started.right;
  process.on('SIGHUP', () => {
    log.info({ signal: 'SIGHUP', config: path }, 'reloading the configuration');
    service.reload();
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal, activeCalls: service.router.activeCalls() }, 'second signal: exiting now');
      log.flush();
      process.exit(FORCED);
    }
    stopping = true;
    const drainSeconds = service.config().shutdown.drainSeconds;
    log.info({ signal, activeCalls: service.router.activeCalls(), drainSeconds }, 'stopping: no new calls; letting calls in progress finish their decision');
    void service.shutdown().then((result) => {
      log.info({ drain: result, activeCalls: service.router.activeCalls() }, 'stopped');
      log.flush();
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Announced once the signals are handled: a supervisor may act on this line at once.
  const { address } = service.router;
  log.info(
    { host: address.address, port: address.port, admin: service.admin ? `${service.admin.address.address}:${service.admin.address.port}` : null, config: path, schemes: loaded.config.schemes.map((s) => s.name), version: VERSION },
    'listening for FreeSWITCH',
  );
};

const check = (command: Extract<Command, { _tag: 'Check' }>): void => {
  const { path, loaded } = load(command.config);
  for (const warning of loaded.warnings) process.stdout.write(`warning: ${warning}\n`);
  const { schemes, listen, admin } = loaded.config;
  const adminText = admin.listen === null ? 'off' : `${admin.listen.host}:${admin.listen.port}`;
  process.stdout.write(`${path}: usable; schemes ${schemes.map((s) => s.name).join(', ')}; listen ${listen.host}:${listen.port}; admin ${adminText}\n`);
  process.exit(0);
};

const tryOne = async (command: Extract<Command, { _tag: 'Try' }>): Promise<void> => {
  const { loaded } = load(command.config);
  const report = await tryCall(loaded.config, command, { fetch: makeGotFetch(), log: createLogger('silent') });
  if (E.isLeft(report)) return fail(BAD_CONFIG, `--scheme: no scheme named ${JSON.stringify(report.left.name)} (configured: ${report.left.known.join(', ')})`);
  process.stdout.write(command.json ? `${JSON.stringify(report.right, null, 2)}\n` : formatTryReport(report.right));
  process.exit(report.right.outcome._tag === 'Routed' ? ROUTED : FALLBACK);
};

const main = async (): Promise<void> => {
  const command = parseCommandLine(process.argv.slice(2));
  switch (command._tag) {
    case 'Help':
      process.stdout.write(USAGE);
      return;
    case 'Version':
      process.stdout.write(`crm-router ${VERSION}\n`);
      return;
    case 'Usage':
      return fail(BAD_CONFIG, `${command.message}\n(crm-router --help lists the commands)`);
    case 'Check':
      return check(command);
    case 'Try':
      return tryOne(command);
    case 'Run':
      return run(command);
  }
};

void main();
