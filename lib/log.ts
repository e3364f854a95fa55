import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** The one place the process's logger is made. */
export const createLogger = (level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger =>
  pino(
    {
      name: 'crm-router',
      level,
      base: undefined,
    },
    destination ?? process.stdout,
  );
