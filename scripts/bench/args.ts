/**
 * The bench scripts' command lines: flags read in order, `--flag value` pairs, each mistake thrown with
 * the script's usage.
 */
export interface ArgumentReader {
  /** The next flag, or undefined when none is left. */
  readonly next: () => string | undefined;
  /** The value after the current flag. */
  readonly value: () => string;
  /** The value after the current flag, a number above zero. */
  readonly positive: () => number;
}

export const argumentReader = (argv: readonly string[], usage: string): ArgumentReader => {
  let at = -1;
  let flag: string | undefined;
  const value = (): string => {
    const v = argv[++at];
    if (v === undefined) throw new Error(`${flag} needs a value\n${usage}`);
    return v;
  };
  return {
    next: () => (flag = argv[++at]),
    value,
    positive: () => {
      const n = Number(value());
      if (!(n > 0)) throw new Error(`${flag} needs a positive number\n${usage}`);
      return n;
    },
  };
};
