/**
 * Time as a dependency. The runtime's loops (work queue delays, informer restarts, leader election) take a
 * Clock so unit tests drive them with a FakeClock instead of waiting on real timers.
 */
export type TimerHandle = object | number;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Milliseconds on a clock that never steps (CLOCK_MONOTONIC: it also runs while the process is
   * stopped); for measuring elapsed time. Defaults to `now` where absent.
   */
  monotonic?(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    // Runtime timers never keep the process alive on their own; shutdown is explicit.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** Resolves after `ms` on `clock`, or early (without rejecting) when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      resolve();
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Exponential backoff: `baseMs * 2^failures`, capped at `maxMs`. `failures` counts from 0. */
export function backoffDelay(failures: number, baseMs: number, maxMs: number): number {
  // 2^60 overflows no double but is far past any cap; clamping keeps the arithmetic exact.
  const exponent = Math.min(Math.max(failures, 0), 60);
  return Math.min(baseMs * 2 ** exponent, maxMs);
}
