import { FakeClock } from '../../../test/support/fake-clock.js';
import { resolveSpec } from '../crd/defaults.js';
import type { HelloWorld, HelloWorldSpec, HelloWorldStatus } from '../crd/types.js';
import { Reason } from '../rollout/conditions.js';
import { recordNotifications, webhookTarget, type Notifier } from './reconcile-step.js';
import { DEFAULT_LIMITS, NotificationSender } from './sender.js';
import { notificationId } from './transitions.js';
import { blockedRanges } from './url.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const DEFAULT = { url: new URL('https://hooks.example.com/x'), format: 'Json' as const };
const OWN = { secretRef: { name: 'hooks', key: 'url' } };

function notifier(defaultWebhook?: typeof DEFAULT): Notifier {
  const sender = new NotificationSender({
    post: () => new Promise(() => undefined),
    readSecret: () => Promise.resolve(undefined),
    blocked: blockedRanges([]),
    clock: new FakeClock(NOW.getTime()),
    limits: DEFAULT_LIMITS,
    onReport: () => undefined,
  });
  return { sender, ...(defaultWebhook && { defaultWebhook }) };
}

const hw = (spec: Partial<HelloWorldSpec>, status: HelloWorldStatus = {}): HelloWorld => ({
  apiVersion: 'hello.dev/v1alpha1',
  kind: 'HelloWorld',
  metadata: { namespace: 'team-a', name: 'hello', generation: 3 },
  spec: { image: 'hello:2', ...spec },
  status,
});

const started: HelloWorldStatus = {
  phase: 'Progressing',
  currentRevision: 'abc',
  rolloutStartedAt: NOW.toISOString(),
  conditions: [],
};
const events = [{ type: 'Normal' as const, reason: Reason.RolloutStarted, message: 'rolling out abc' }];

function record(n: Notifier, object: HelloWorld, status: HelloWorldStatus = started): HelloWorldStatus {
  return recordNotifications(n, object, {
    spec: resolveSpec(object.spec),
    events,
    status,
    now: NOW,
    generation: 3,
    deployment: undefined,
  });
}

describe('webhookTarget', () => {
  it("uses the HelloWorld's own webhook, else the operator's default, else none; never when off", () => {
    const own = resolveSpec({ image: 'i', notifications: { webhook: OWN } }).notifications;
    expect(webhookTarget(own, DEFAULT)).toEqual({ kind: 'secret', ...OWN, format: 'Json' });
    const plain = resolveSpec({ image: 'i' }).notifications;
    expect(webhookTarget(plain, DEFAULT)).toEqual({ kind: 'default', ...DEFAULT });
    expect(webhookTarget(plain, undefined)).toBeUndefined();
    const off = resolveSpec({ image: 'i', notifications: { enabled: false } }).notifications;
    expect(webhookTarget(off, DEFAULT)).toBeUndefined();
  });
});

describe('recordNotifications', () => {
  it('records the transition as pending, in the status to write, with the image of the spec', () => {
    const status = record(notifier(), hw({ notifications: { webhook: OWN } }));
    expect(status.notifications?.pending).toEqual([
      expect.objectContaining({
        id: notificationId('abc', NOW.toISOString(), Reason.RolloutStarted),
        transition: 'Started',
        image: 'hello:2',
      }) as unknown,
    ]);
    expect(status.conditions?.some((c) => c.type === 'Notifications')).toBe(false);
  });

  it('keeps the stored ledger: what was sent is not queued again', () => {
    const id = notificationId('abc', NOW.toISOString(), Reason.RolloutStarted);
    const stored = { recent: [id], lastSent: id, lastSentTime: NOW.toISOString(), sent: 1 };
    const status = record(notifier(DEFAULT), hw({}, { notifications: stored }));
    expect(status.notifications).toMatchObject({ ...stored, pending: [] });
    expect(status.conditions?.find((c) => c.type === 'Notifications')).toMatchObject({
      status: 'True',
      reason: Reason.NotificationsDelivered,
      observedGeneration: 3,
    });
  });

  it('clears the ledger and the condition when the HelloWorld has no webhook any more', () => {
    const condition = {
      type: 'Notifications' as const,
      status: 'False' as const,
      reason: Reason.WebhookFailed,
      message: 'x',
      lastTransitionTime: NOW.toISOString(),
    };
    const status = record(notifier(), hw({}, { notifications: { sent: 2 } }), {
      ...started,
      conditions: [condition],
    });
    expect(status.notifications).toBeUndefined();
    expect(status.conditions).toEqual([]);
  });
});
