import type { V1Secret } from '@kubernetes/client-node';
import { FakeClock, flushMicrotasks } from '../../../test/support/fake-clock.js';
import type { PendingNotification } from '../crd/types.js';
import type { PostResult } from './http.js';
import { DEFAULT_LIMITS, NotificationSender, type DeliveryOutcome, type WebhookTarget } from './sender.js';
import { blockedRanges } from './url.js';

const T = '2026-03-01T12:00:00.000Z';
const URL_TEXT = 'https://hooks.example.com/services/sekrit-token';
const note = (id: string): PendingNotification => ({
  id,
  reason: 'RolloutStarted',
  transition: 'Started',
  revision: 'abc',
  image: 'hello:1',
  rolloutStartedAt: T,
  time: T,
  message: 'rolling out',
});
const secretTarget: WebhookTarget = {
  kind: 'secret',
  secretRef: { name: 'hooks', key: 'url' },
  format: 'Json',
};
const secret = (url: string): V1Secret => ({ data: { url: Buffer.from(url).toString('base64') } });

interface Call {
  url: string;
  body: string;
  headers: Record<string, string>;
  answer: (result: PostResult) => void;
}

/** A sender on a fake clock whose POSTs wait until the test answers them. */
function harness(limits: Partial<typeof DEFAULT_LIMITS> = {}, secrets: Record<string, V1Secret> = {}) {
  const clock = new FakeClock(Date.parse(T));
  const calls: Call[] = [];
  const outcomes: DeliveryOutcome[] = [];
  const reported: string[] = [];
  const sender = new NotificationSender({
    post: (url, body, options) =>
      new Promise((resolve) => {
        calls.push({ url: url.href, body, headers: options.headers ?? {}, answer: resolve });
      }),
    readSecret: (namespace, name) => Promise.resolve(secrets[`${namespace}/${name}`]),
    blocked: blockedRanges([]),
    clock,
    limits: { ...DEFAULT_LIMITS, ...limits },
    onReport: (namespace, name) => reported.push(`${namespace}/${name}`),
    onOutcome: (outcome) => outcomes.push(outcome),
  });
  return { clock, calls, outcomes, reported, sender };
}

const hooks = { 'team-a/hooks': secret(URL_TEXT), 'team-b/hooks': secret(URL_TEXT) };

describe('NotificationSender', () => {
  it('posts each pending notification once, with its id, and reports it sent', async () => {
    const { calls, sender, outcomes, reported } = harness({}, hooks);
    const hw = { namespace: 'team-a', name: 'hello' };
    sender.offer(hw, secretTarget, [note('a')]);
    await flushMicrotasks();
    sender.offer(hw, secretTarget, [note('a')]); // the next reconcile offers the same pending list
    await flushMicrotasks();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(URL_TEXT);
    expect(calls[0]?.headers['x-helloworld-notification-id']).toBe('a');
    expect(JSON.parse(calls[0]?.body ?? '{}')).toMatchObject({
      id: 'a',
      helloWorld: hw,
      transition: 'Started',
    });
    calls[0]?.answer({ status: 204 });
    await flushMicrotasks();
    expect(sender.reports('team-a', 'hello')).toEqual([{ id: 'a', outcome: 'sent', at: T }]);
    expect(outcomes).toEqual(['sent']);
    expect(reported).toEqual(['team-a/hello']);
    // Recorded in status: no longer pending, forgotten, and never sent again.
    sender.offer(hw, secretTarget, []);
    expect(sender.reports('team-a', 'hello')).toEqual([]);
    await flushMicrotasks();
    expect(calls).toHaveLength(1);
  });

  it('retries with exponential backoff on the clock, then succeeds', async () => {
    const { calls, clock, sender, outcomes } = harness({ retryBaseMs: 1000, retryMaxMs: 60_000 }, hooks);
    sender.offer({ namespace: 'team-a', name: 'hello' }, secretTarget, [note('a')]);
    await flushMicrotasks();
    calls[0]?.answer({ status: 500 });
    await flushMicrotasks();
    expect(sender.reports('team-a', 'hello')[0]).toMatchObject({ outcome: 'retrying', attempts: 1 });
    await clock.advance(999);
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    expect(calls).toHaveLength(2);
    calls[1]?.answer({ error: 'ECONNRESET: socket hang up' });
    await flushMicrotasks();
    await clock.advance(1999);
    expect(calls).toHaveLength(2);
    await clock.advance(1);
    expect(calls).toHaveLength(3);
    calls[2]?.answer({ status: 200 });
    await flushMicrotasks();
    expect(sender.reports('team-a', 'hello')[0]?.outcome).toBe('sent');
    expect(outcomes).toEqual(['retried', 'retried', 'sent']);
  });

  it('caps the backoff delay', async () => {
    const { calls, clock, sender } = harness({ retryBaseMs: 1000, retryMaxMs: 3000, maxAttempts: 10 }, hooks);
    sender.offer({ namespace: 'team-a', name: 'hello' }, secretTarget, [note('a')]);
    for (const wait of [1000, 2000, 3000, 3000]) {
      await flushMicrotasks();
      calls.at(-1)?.answer({ status: 503 });
      await flushMicrotasks();
      const before = calls.length;
      await clock.advance(wait - 1);
      expect(calls).toHaveLength(before);
      await clock.advance(1);
      expect(calls).toHaveLength(before + 1);
    }
  });

  it('gives up after the last attempt, and at once on an answer that will not change', async () => {
    const { calls, clock, sender, outcomes } = harness({ maxAttempts: 2, retryBaseMs: 10 }, hooks);
    sender.offer({ namespace: 'team-a', name: 'hello' }, secretTarget, [note('a'), note('b')]);
    await flushMicrotasks();
    calls[0]?.answer({ status: 500 });
    calls[1]?.answer({ status: 404 });
    await flushMicrotasks();
    await clock.advance(10);
    calls[2]?.answer({ status: 500 });
    await flushMicrotasks();
    const reports = sender.reports('team-a', 'hello');
    expect(reports.map((r) => [r.id, r.outcome])).toEqual([
      ['a', 'gaveUp'],
      ['b', 'gaveUp'],
    ]);
    expect(reports[1]).toMatchObject({ attempts: 1, error: expect.stringContaining('HTTP 404') as unknown });
    expect(reports[0]).toMatchObject({
      error: 'webhook of Secret hooks: attempt 2 of 2: the webhook answered HTTP 500',
    });
    expect(outcomes.sort()).toEqual(['failed', 'failed', 'retried']);
  });

  it("holds at most maxInFlightPerNamespace of the operator's slots for one namespace", async () => {
    const { calls, sender } = harness({ maxInFlight: 3, maxInFlightPerNamespace: 2 }, hooks);
    sender.offer({ namespace: 'team-a', name: 'slow' }, secretTarget, [note('a1'), note('a2'), note('a3')]);
    await flushMicrotasks();
    expect(calls).toHaveLength(2); // team-a's receiver never answers: its third waits
    sender.offer({ namespace: 'team-b', name: 'fast' }, secretTarget, [note('b1'), note('b2')]);
    await flushMicrotasks();
    const bodies = calls.map((c) => (JSON.parse(c.body) as { id: string }).id);
    expect(bodies).toEqual(['a1', 'a2', 'b1']);
    calls[2]?.answer({ status: 200 });
    await flushMicrotasks();
    expect(calls.map((c) => (JSON.parse(c.body) as { id: string }).id)).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect(sender.reports('team-b', 'fast').map((r) => r.outcome)).toEqual(['sent']);
  });

  it('reports a missing Secret or a hostile URL in its Secret without the URL', async () => {
    const bad = { 'team-a/hooks': secret('file:///var/run/secrets/kubernetes.io/serviceaccount/token') };
    for (const secrets of [{}, bad]) {
      const { calls, sender } = harness({}, secrets);
      sender.offer({ namespace: 'team-a', name: 'hello' }, secretTarget, [note('a')]);
      await flushMicrotasks();
      expect(calls).toHaveLength(0);
      const [report] = sender.reports('team-a', 'hello');
      expect(report?.outcome).toBe('retrying');
      const error = report && 'error' in report ? report.error : '';
      expect(error).toMatch(/Secret hooks (does not exist|key url has scheme file:)/);
      expect(error).not.toContain('serviceaccount');
    }
  });

  it('sends the Slack shape to a Slack target and the default URL without a Secret', async () => {
    const { calls, sender } = harness();
    const target: WebhookTarget = { kind: 'default', url: new URL(URL_TEXT), format: 'Slack' };
    sender.offer({ namespace: 'team-a', name: 'hello' }, target, [note('a')]);
    await flushMicrotasks();
    expect(JSON.parse(calls[0]?.body ?? '{}')).toHaveProperty('blocks');
  });

  it('refuses work beyond its queue bound, as dropped', async () => {
    const { sender, outcomes, calls } = harness({ maxQueued: 2, maxInFlight: 1 }, hooks);
    sender.offer({ namespace: 'team-a', name: 'hello' }, secretTarget, [note('a'), note('b'), note('c')]);
    await flushMicrotasks();
    expect(calls).toHaveLength(1);
    expect(outcomes).toEqual(['dropped']);
    expect(sender.reports('team-a', 'hello')).toEqual([
      expect.objectContaining({ id: 'c', outcome: 'gaveUp' }) as unknown,
    ]);
  });

  it('forgets a HelloWorld: its retry timers are cleared and nothing more is sent', async () => {
    const { calls, clock, sender } = harness({}, hooks);
    sender.offer({ namespace: 'team-a', name: 'hello' }, secretTarget, [note('a')]);
    await flushMicrotasks();
    calls[0]?.answer({ status: 500 });
    await flushMicrotasks();
    sender.forget('team-a', 'hello');
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(120_000);
    expect(calls).toHaveLength(1);
  });
});
