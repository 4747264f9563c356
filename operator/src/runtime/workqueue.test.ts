import { FakeClock, flushMicrotasks } from '../../../test/support/fake-clock.js';
import { WorkQueue, type Result } from './workqueue.js';
import { backoffDelay } from './clock.js';

/** A handler whose runs the test completes by hand, recording what ran and how many ran at once. */
function controllableHandler() {
  const started: string[] = [];
  const pending = new Map<string, { resolve: (r: Result | undefined) => void; reject: (e: Error) => void }>();
  let running = 0;
  let maxRunningPerKey = 0;
  const runningPerKey = new Map<string, number>();
  const handler = (key: string): Promise<Result | undefined> => {
    started.push(key);
    running++;
    const n = (runningPerKey.get(key) ?? 0) + 1;
    runningPerKey.set(key, n);
    maxRunningPerKey = Math.max(maxRunningPerKey, n);
    return new Promise<Result | undefined>((resolve, reject) => {
      pending.set(key, { resolve, reject });
    }).finally(() => {
      running--;
      runningPerKey.set(key, (runningPerKey.get(key) ?? 1) - 1);
    });
  };
  const finish = async (key: string, result?: Result): Promise<void> => {
    const p = pending.get(key);
    if (p === undefined) throw new Error(`${key} is not running`);
    pending.delete(key);
    p.resolve(result);
    await flushMicrotasks();
  };
  const fail = async (key: string): Promise<void> => {
    const p = pending.get(key);
    if (p === undefined) throw new Error(`${key} is not running`);
    pending.delete(key);
    p.reject(new Error('boom'));
    await flushMicrotasks();
  };
  return {
    handler,
    finish,
    fail,
    started,
    running: () => running,
    maxRunningPerKey: () => maxRunningPerKey,
  };
}

describe('WorkQueue', () => {
  let clock: FakeClock;
  let queue: WorkQueue<string>;

  beforeEach(() => {
    clock = new FakeClock(1_000_000);
    queue = new WorkQueue<string>({ clock });
  });

  afterEach(async () => {
    await queue.shutDown().catch(() => undefined);
  });

  it('processes a key queued several times once', async () => {
    queue.add('a');
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.len()).toBe(2);
    const h = controllableHandler();
    void queue.run(1, h.handler);
    await flushMicrotasks();
    await h.finish('a');
    await h.finish('b');
    expect(h.started).toEqual(['a', 'b']);
    expect(queue.len()).toBe(0);
  });

  it('never processes one key concurrently; a key added while running runs once more afterwards', async () => {
    const h = controllableHandler();
    void queue.run(4, h.handler);
    queue.add('a');
    await flushMicrotasks();
    queue.add('a');
    queue.add('a');
    await flushMicrotasks();
    expect(h.started).toEqual(['a']);
    expect(h.running()).toBe(1);
    await h.finish('a');
    expect(h.started).toEqual(['a', 'a']);
    await h.finish('a');
    expect(h.started).toEqual(['a', 'a']);
    expect(h.maxRunningPerKey()).toBe(1);
  });

  it('runs different keys in parallel up to the number of workers', async () => {
    const h = controllableHandler();
    void queue.run(2, h.handler);
    queue.add('a');
    queue.add('b');
    queue.add('c');
    await flushMicrotasks();
    expect(h.running()).toBe(2);
    expect(queue.len()).toBe(1);
    await h.finish('a');
    expect(h.started).toEqual(['a', 'b', 'c']);
    await h.finish('b');
    await h.finish('c');
  });

  it('retries a failing key with exponential backoff and resets it after a success', async () => {
    const retries: number[] = [];
    queue = new WorkQueue<string>({ clock, onRetry: (_key, delay) => retries.push(delay) });
    const h = controllableHandler();
    void queue.run(1, h.handler);
    queue.add('a');
    await flushMicrotasks();
    await h.fail('a');
    expect(queue.numRequeues('a')).toBe(1);
    expect(queue.waitingLen()).toBe(1);
    await clock.advance(4);
    expect(h.started).toHaveLength(1);
    await clock.advance(1);
    expect(h.started).toHaveLength(2);
    await h.fail('a');
    await clock.advance(9);
    expect(h.started).toHaveLength(2);
    await clock.advance(1);
    expect(h.started).toHaveLength(3);
    await h.finish('a');
    expect(queue.numRequeues('a')).toBe(0);
    expect(retries).toEqual([5, 10]);
  });

  it('caps the backoff', () => {
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, 5, 300_000))).toEqual([5, 10, 20, 40]);
    expect(backoffDelay(16, 5, 300_000)).toBe(300_000);
    expect(backoffDelay(1000, 5, 300_000)).toBe(300_000);
    const delays: number[] = [];
    queue = new WorkQueue<string>({ clock, onRetry: (_k, d) => delays.push(d) });
    for (let i = 0; i < 20; i++) queue.addRateLimited('a');
    expect(delays.at(-1)).toBe(300_000);
    expect(Math.max(...delays)).toBe(300_000);
  });

  it('forget resets the backoff of one key only', () => {
    const delays: Record<string, number[]> = { a: [], b: [] };
    queue = new WorkQueue<string>({ clock, onRetry: (k, d) => delays[k]!.push(d) });
    queue.addRateLimited('a');
    queue.addRateLimited('a');
    queue.addRateLimited('b');
    queue.forget('a');
    queue.addRateLimited('a');
    queue.addRateLimited('b');
    expect(delays).toEqual({ a: [5, 10, 5], b: [5, 10] });
  });

  it('addAfter releases keys in due order and keeps the earliest delay of a key', async () => {
    const order: string[] = [];
    void queue.run(1, (key) => {
      order.push(key);
      return Promise.resolve(undefined);
    });
    queue.addAfter('late', 300);
    queue.addAfter('early', 100);
    queue.addAfter('middle', 200);
    queue.addAfter('early', 250); // a later delay for a pending key is ignored
    queue.addAfter('late', 150); // an earlier one replaces it
    await clock.advance(99);
    expect(order).toEqual([]);
    await clock.advance(1);
    expect(order).toEqual(['early']);
    await clock.advance(200);
    expect(order).toEqual(['early', 'late', 'middle']);
    expect(queue.waitingLen()).toBe(0);
  });

  it('requeues after requeueAfterMs on success', async () => {
    const h = controllableHandler();
    void queue.run(1, h.handler);
    queue.add('a');
    await flushMicrotasks();
    await h.finish('a', { requeueAfterMs: 1000 });
    await clock.advance(999);
    expect(h.started).toHaveLength(1);
    await clock.advance(1);
    expect(h.started).toHaveLength(2);
    await h.finish('a');
  });

  it('reports errors and queue depth', async () => {
    const depths: number[] = [];
    const errors: string[] = [];
    queue = new WorkQueue<string>({
      clock,
      onDepth: (d) => depths.push(d),
      onError: (key, err) => errors.push(`${key}:${(err as Error).message}`),
    });
    queue.add('a');
    queue.add('b');
    const h = controllableHandler();
    void queue.run(1, h.handler);
    await flushMicrotasks();
    await h.fail('a');
    await h.finish('b');
    expect(errors).toEqual(['a:boom']);
    expect(depths).toEqual([1, 2, 1, 0]);
  });

  it('shutDown stops new work, cancels delays and waits for in-flight handlers', async () => {
    const h = controllableHandler();
    const running = queue.run(2, h.handler);
    queue.add('a');
    await flushMicrotasks();
    queue.add('b');
    queue.addAfter('c', 10);
    await flushMicrotasks();
    expect(h.running()).toBe(2);
    let stopped = false;
    const shutdown = queue.shutDown().then(() => {
      stopped = true;
    });
    queue.add('d');
    await flushMicrotasks();
    expect(stopped).toBe(false);
    await h.finish('a');
    expect(stopped).toBe(false);
    await h.finish('b');
    await shutdown;
    await running;
    expect(stopped).toBe(true);
    await clock.advance(100);
    expect(h.started).toEqual(['a', 'b']);
    expect(clock.pendingTimers()).toBe(0);
  });
});
