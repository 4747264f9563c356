/**
 * A manual Clock for unit tests: time moves only when the test calls `advance`. Timers fire in due-time
 * order (ties in creation order), and microtasks are flushed between them so async chains settle.
 */
import type { Clock, TimerHandle } from '../../operator/src/runtime/clock.js';

interface FakeTimer {
  id: number;
  due: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private current: number;
  /** How far the wall clock (`now`) was stepped away from the monotonic one (`monotonic`). */
  private wallOffset = 0;
  private nextId = 1;
  private readonly timers = new Map<number, FakeTimer>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current + this.wallOffset;
  }

  monotonic(): number {
    return this.current;
  }

  /** Steps the wall clock only (an NTP correction); monotonic time and timers do not move. */
  stepWallClock(ms: number): void {
    this.wallOffset += ms;
  }

  /**
   * Moves time forward by `ms` without firing any timer: what a process sees when it resumes after
   * SIGSTOP, before its late timers get their turn. A later `advance` fires them.
   */
  jump(ms: number): void {
    this.current += ms;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, due: this.current + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.timers.delete(handle);
  }

  /** Number of timers not yet fired. */
  pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.earliest();
      if (next === undefined || next.due > target) break;
      this.timers.delete(next.id);
      this.current = Math.max(this.current, next.due); // late timers (after `jump`) fire now
      next.fn();
      await flushMicrotasks();
    }
    this.current = target;
    await flushMicrotasks();
  }

  private earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const timer of this.timers.values()) {
      if (best === undefined || timer.due < best.due || (timer.due === best.due && timer.id < best.id)) {
        best = timer;
      }
    }
    return best;
  }
}

/** Lets every already-queued promise continuation run. */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
