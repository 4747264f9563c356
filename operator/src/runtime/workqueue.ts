/**
 * A per-key work queue with the semantics of client-go's rate-limited workqueue:
 *
 * - a key queued several times before a worker picks it up is processed once (dedupe);
 * - a key is never processed by two workers at once: adding a key that is being processed marks it
 *   dirty, and it is queued again when the current run finishes;
 * - failures back off per key exponentially (5 ms doubling, capped at 5 min) until `forget`;
 * - `addAfter` delays a key; of several pending delays for one key the earliest wins.
 */
import { backoffDelay, systemClock, type Clock, type TimerHandle } from './clock.js';

/** What a handler asks for after a successful run. */
export interface Result {
  /** Process the key again after this many milliseconds (e.g. to poll a rollout). */
  requeueAfterMs?: number;
}

export type Handler<K extends string> = (key: K) => Promise<Result | undefined>;

export interface WorkQueueOptions<K extends string> {
  clock?: Clock;
  /** First retry delay; doubles per consecutive failure. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Called whenever the number of ready keys changes (for a depth gauge). */
  onDepth?: (depth: number) => void;
  /** Called for every rate-limited retry scheduled. */
  onRetry?: (key: K, delayMs: number) => void;
  /** Called when a handler throws, before the key is retried. */
  onError?: (key: K, error: unknown) => void;
}

export const DEFAULT_BASE_DELAY_MS = 5;
export const DEFAULT_MAX_DELAY_MS = 5 * 60 * 1000;

export class WorkQueue<K extends string> {
  private readonly clock: Clock;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly hooks: Pick<WorkQueueOptions<K>, 'onDepth' | 'onRetry' | 'onError'>;

  /** Ready keys in FIFO order; every key here is also in `dirty`. */
  private readonly ready: K[] = [];
  /** Keys that need processing (queued, or re-added while processing). */
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly waiting = new Map<K, { at: number; handle: TimerHandle }>();
  private readonly failures = new Map<K, number>();
  private readonly idleWorkers: ((key: K | undefined) => void)[] = [];
  private shuttingDown = false;
  private workers: Promise<void>[] = [];

  constructor(options: WorkQueueOptions<K> = {}) {
    this.clock = options.clock ?? systemClock;
    this.baseDelayMs = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
    this.maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    this.hooks = { onDepth: options.onDepth, onRetry: options.onRetry, onError: options.onError };
  }

  /** Queues `key` now unless it is already queued. */
  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // re-queued by `done` when the current run ends
    this.push(key);
  }

  /** Queues `key` after `delayMs`; an earlier pending delay for the same key is kept. */
  addAfter(key: K, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + delayMs;
    const pending = this.waiting.get(key);
    if (pending !== undefined) {
      if (pending.at <= at) return;
      this.clock.clearTimeout(pending.handle);
    }
    const handle = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.waiting.set(key, { at, handle });
  }

  /** Queues `key` after its next backoff delay and counts the failure. */
  addRateLimited(key: K): void {
    if (this.shuttingDown) return;
    const failures = this.failures.get(key) ?? 0;
    const delay = backoffDelay(failures, this.baseDelayMs, this.maxDelayMs);
    this.failures.set(key, failures + 1);
    this.hooks.onRetry?.(key, delay);
    this.addAfter(key, delay);
  }

  /** Resets the backoff of `key` (after a success). */
  forget(key: K): void {
    this.failures.delete(key);
  }

  /** Consecutive failures recorded for `key`. */
  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** Keys ready to be processed now. */
  len(): number {
    return this.ready.length;
  }

  /** Keys waiting for a delay to pass. */
  waitingLen(): number {
    return this.waiting.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Starts `workers` concurrent loops that process keys with `handler`: a thrown error retries the key
   * with backoff; a success forgets its backoff and honours `requeueAfterMs`. Resolves after `shutDown`
   * once every worker has finished its current key.
   */
  run(workers: number, handler: Handler<K>): Promise<void> {
    for (let i = 0; i < workers; i++) this.workers.push(this.worker(handler));
    return Promise.all(this.workers).then(() => undefined);
  }

  /** Stops handing out keys and cancels pending delays; resolves when in-flight handlers finish. */
  async shutDown(): Promise<void> {
    this.shuttingDown = true;
    for (const { handle } of this.waiting.values()) this.clock.clearTimeout(handle);
    this.waiting.clear();
    for (const wake of this.idleWorkers.splice(0)) wake(undefined);
    await Promise.all(this.workers);
  }

  private async worker(handler: Handler<K>): Promise<void> {
    for (;;) {
      const key = await this.get();
      if (key === undefined) return;
      try {
        const result = await handler(key);
        this.forget(key);
        const after = result?.requeueAfterMs;
        if (after !== undefined && after > 0) this.addAfter(key, after);
      } catch (error) {
        this.hooks.onError?.(key, error);
        this.addRateLimited(key);
      } finally {
        this.done(key);
      }
    }
  }

  /** The next ready key, or undefined once shutting down. */
  private get(): Promise<K | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.ready.shift();
    if (key !== undefined) {
      this.startProcessing(key);
      this.hooks.onDepth?.(this.ready.length);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.idleWorkers.push(resolve));
  }

  private push(key: K): void {
    const idle = this.idleWorkers.shift();
    if (idle !== undefined) {
      this.startProcessing(key);
      idle(key);
      return;
    }
    this.ready.push(key);
    this.hooks.onDepth?.(this.ready.length);
  }

  private startProcessing(key: K): void {
    this.dirty.delete(key);
    this.processing.add(key);
  }

  private done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) this.push(key);
  }
}
