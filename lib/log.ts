import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/**
 * The one place the process's logger is made. Header values of a scheme (auth tokens) never reach a
 * log line: the CRM layer logs header names only, and `redact` catches them should one slip through.
 */
export const createLogger = (level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger =>
  pino(
    {
      name: 'crm-router',
      level,
      base: undefined,
      redact: { paths: ['headers.*', 'request.headers.*', '*.headers.*'], censor: '[redacted]' },
    },
    destination ?? process.stdout,
  );
