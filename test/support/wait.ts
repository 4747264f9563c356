// Polling for tests and benchmarks: wait until something holds, and say what was awaited when it
// does not. No imports, so that benchmarks run by Node directly can use it too.

export interface WaitForOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Pause between attempts (default 250 ms). */
  intervalMs?: number;
  /** What is awaited, for the failure message, e.g. "deployment web to have 3 ready replicas". */
  describe: string;
}

/**
 * Polls `predicate` until it returns a value other than `undefined`, `null` or `false`, and
 * returns that value. Errors thrown by the predicate count as "not yet". On timeout it throws an
 * error naming what was awaited, how long, and the last value or error seen.
 */
export async function waitFor<T>(
  predicate: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: WaitForOptions,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      const value = await predicate();
      if (value !== undefined && value !== null && value !== false) {
        return value;
      }
      last = `last result: ${String(value)}`;
    } catch (error) {
      last = `last error: ${describeError(error)}`;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.describe} (${last})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A short description of an error, including the HTTP status and body of API errors. */
export function describeError(error: unknown): string {
  // client-node's ApiException, recognised by its shape so that this module imports nothing.
  if (error instanceof Error && 'code' in error && typeof error.code === 'number' && 'body' in error) {
    return `HTTP ${String(error.code)}: ${JSON.stringify(error.body)}`;
  }
  return error instanceof Error ? error.message : String(error);
}
