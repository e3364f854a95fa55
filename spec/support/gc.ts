import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full garbage collection, without a command-line flag: the flag set at run time, `gc` read from a new context. */
export const collectGarbage = (): void => {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
};

/** Live heap after a full collection. */
export const liveHeap = (): number => {
  collectGarbage();
  return process.memoryUsage().heapUsed;
};
