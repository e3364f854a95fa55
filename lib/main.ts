import * as E from 'fp-ts/lib/Either.js';
import { formatProblems, loadConfig } from './config/load.ts';
import { createLogger } from './log.ts';
import { startRouter, type RunningRouter } from './server.ts';

/** Exit code for a configuration that cannot be used: nothing was started. */
const BAD_CONFIG = 2;
/** Exit code when the listener cannot be opened (address in use, no permission). */
const CANNOT_LISTEN = 1;

const main = async (): Promise<void> => {
  const path = process.argv[2] ?? 'conf/crm-router.json';
  const loaded = loadConfig(path);
  if (E.isLeft(loaded)) {
    process.stderr.write(`crm-router: ${path} is not a usable configuration:\n${formatProblems(loaded.left)}\n`);
    process.exit(BAD_CONFIG);
  }
  const { config, warnings } = loaded.right;
  const log = createLogger(config.logLevel);
  for (const warning of warnings) log.warn({ config: path }, warning);
  let router: RunningRouter;
  try {
    router = await startRouter({ config, log });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    log.fatal({ host: config.listen.host, port: config.listen.port, code }, 'cannot listen for FreeSWITCH');
    log.flush();
    process.exit(CANNOT_LISTEN);
  }
  log.info({ host: router.address.address, port: router.address.port, config: path, schemes: config.schemes.map((s) => s.name) }, 'listening for FreeSWITCH');

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, activeCalls: router.activeCalls() }, 'stopping: no new calls; letting calls in progress finish their decision');
    void router.drain().then(() => {
      log.info({}, 'stopped');
      log.flush();
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
};

void main();
