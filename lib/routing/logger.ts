/** The logging the routing pipeline needs; a pino Logger satisfies it. */
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}
