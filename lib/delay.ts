/**
 * Time as the router sees it. Passed in, so that a spec can drive a call's every bound with a fake
 * clock instead of waiting for it.
 */
export interface Clock {
  readonly now: () => number;
  readonly setTimeout: (fn: () => void, ms: number) => unknown;
  readonly clearTimeout: (handle: unknown) => void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * What a wait needs of a signal: a real AbortSignal has it, and so has a call's channel signal
 * (channel-watch.ts), which is lighter.
 */
export interface StopSignal {
  readonly aborted: boolean;
  readonly addEventListener: (type: 'abort', listener: () => void, options?: { readonly once?: boolean }) => void;
  readonly removeEventListener: (type: 'abort', listener: () => void) => void;
}

export type Bounded<A> =
  | { readonly _tag: 'Settled'; readonly value: A }
  | { readonly _tag: 'TimedOut' }
  /** The signal fired first (the caller hung up, the socket closed). */
  | { readonly _tag: 'Aborted' };

const TIMED_OUT: Bounded<never> = { _tag: 'TimedOut' };
const ABORTED: Bounded<never> = { _tag: 'Aborted' };

/**
 * Waits for `promise` at most `ms` (Infinity: no bound) and no longer than `signal` stays quiet. The
 * timer and the abort listener go as soon as the wait ends, so a finished wait holds nothing; only a
 * reaction on `promise` stays, which is why `promise` must be the call's own (a promise shared by
 * every call that never settles would keep each finished call's state for good). A rejection of
 * `promise` rejects the wait.
 */
export const withTimeout = <A>(promise: Promise<A> | undefined, ms: number, signal?: StopSignal, clock: Clock = systemClock): Promise<Bounded<A>> => {
  if (signal?.aborted === true) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    let over = false;
    let timer: unknown;
    const onAbort = (): void => end(() => resolve(ABORTED));
    const end = (settle: () => void): void => {
      if (over) return;
      over = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    if (Number.isFinite(ms)) timer = clock.setTimeout(() => end(() => resolve(TIMED_OUT)), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    promise?.then(
      (value) => end(() => resolve({ _tag: 'Settled', value })),
      (error: unknown) => end(() => reject(error)),
    );
  });
};

/** `ms` of quiet, cut short by `signal`: withTimeout over nothing. */
export const pause = (ms: number, signal?: StopSignal, clock: Clock = systemClock): Promise<'TimedOut' | 'Aborted'> =>
  withTimeout<never>(undefined, ms, signal, clock).then((r) => (r._tag === 'Aborted' ? 'Aborted' : 'TimedOut'));
