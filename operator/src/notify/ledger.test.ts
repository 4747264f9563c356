import type { PendingNotification } from '../crd/types.js';
import { Reason } from '../rollout/conditions.js';
import { applyReports, enqueue, MAX_PENDING, MAX_RECENT, notificationsCondition } from './ledger.js';

const T1 = '2026-03-01T12:00:00.000Z';
const T2 = '2026-03-01T12:00:05.000Z';
const note = (id: string): PendingNotification => ({
  id,
  reason: Reason.RolloutStarted,
  transition: 'Started',
  revision: 'abc',
  image: 'hello:1',
  rolloutStartedAt: T1,
  time: T1,
  message: 'rolling out',
});

describe('enqueue', () => {
  it('adds a transition once: not again while pending, nor once done', () => {
    const once = enqueue(undefined, [note('a'), note('a')]).ledger;
    expect(once.pending?.map((p) => p.id)).toEqual(['a']);
    expect(enqueue(once, [note('a')]).ledger).toEqual(once);
    const done = applyReports(once, [{ id: 'a', outcome: 'sent', at: T2 }]);
    expect(enqueue(done, [note('a')]).ledger.pending).toEqual([]);
  });

  it('drops the oldest beyond the bound, counts them and never queues them again', () => {
    const ids = Array.from({ length: MAX_PENDING + 3 }, (_, i) => `n${String(i)}`);
    const { ledger, dropped } = enqueue(undefined, ids.map(note));
    expect(ledger.pending).toHaveLength(MAX_PENDING);
    expect(dropped.map((d) => d.id)).toEqual(['n0', 'n1', 'n2']);
    expect(ledger.dropped).toBe(3);
    expect(enqueue(ledger, [note('n0')]).ledger.pending?.some((p) => p.id === 'n0')).toBe(false);
  });
});

describe('applyReports', () => {
  const ledger = enqueue(undefined, [note('a'), note('b')]).ledger;

  it('records a delivery: out of pending, lastSent, counted, remembered', () => {
    const next = applyReports(ledger, [{ id: 'a', outcome: 'sent', at: T2 }]);
    expect(next).toMatchObject({ lastSent: 'a', lastSentTime: T2, sent: 1, recent: ['a'] });
    expect(next.pending?.map((p) => p.id)).toEqual(['b']);
  });

  it('is idempotent: the same report folded twice counts once', () => {
    const report = { id: 'a', outcome: 'sent', at: T2 } as const;
    const once = applyReports(ledger, [report]);
    expect(applyReports(once, [report])).toEqual(once);
  });

  it('keeps a retried notification pending with its attempts and the error', () => {
    const error = 'webhook of Secret s: attempt 1 of 6: the webhook answered HTTP 500';
    const next = applyReports(ledger, [{ id: 'b', outcome: 'retrying', at: T2, attempts: 1, error }]);
    expect(next.pending?.find((p) => p.id === 'b')?.attempts).toBe(1);
    expect(next).toMatchObject({ lastError: error, lastErrorTime: T2 });
    expect(next.failures).toBeUndefined();
  });

  it('counts a give-up as a failure and takes it out of pending', () => {
    const next = applyReports(ledger, [{ id: 'b', outcome: 'gaveUp', at: T2, attempts: 6, error: 'x' }]);
    expect(next).toMatchObject({ failures: 1, recent: ['b'] });
    expect(next.pending?.map((p) => p.id)).toEqual(['a']);
  });

  it('remembers at most MAX_RECENT ids, newest first', () => {
    const many = enqueue(
      undefined,
      Array.from({ length: MAX_PENDING }, (_, i) => note(`n${String(i)}`)),
    );
    let next = many.ledger;
    for (let i = 0; i < MAX_PENDING; i++)
      next = applyReports(next, [{ id: `n${String(i)}`, outcome: 'sent', at: T2 }]);
    expect(next.recent).toHaveLength(MAX_RECENT);
    expect(next.recent?.[0]).toBe(`n${String(MAX_PENDING - 1)}`);
  });
});

describe('notificationsCondition', () => {
  it('is absent before any attempt, True after a delivery, False after a later failure', () => {
    expect(notificationsCondition({})).toBeUndefined();
    const sent = { lastSent: 'a', lastSentTime: T1 };
    expect(notificationsCondition(sent)).toMatchObject({
      status: 'True',
      reason: Reason.NotificationsDelivered,
    });
    const failed = { ...sent, lastError: 'HTTP 500', lastErrorTime: T2, pending: [note('b')], failures: 2 };
    expect(notificationsCondition(failed)).toMatchObject({
      status: 'False',
      reason: Reason.WebhookFailed,
      message: 'HTTP 500; 1 pending, 2 given up',
    });
    expect(notificationsCondition({ ...failed, lastSentTime: '2026-03-01T12:00:09.000Z' })?.status).toBe(
      'True',
    );
  });
});
