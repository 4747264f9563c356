import type { HelloWorldStatus } from '../crd/types.js';
import { FailureReason, Reason } from '../rollout/conditions.js';
import type { RolloutEvent } from '../rollout/types.js';
import { NOTIFIED_REASONS, notificationId, notificationsFor } from './transitions.js';

const NOW = new Date('2026-03-01T12:05:00.000Z');
const STARTED = '2026-03-01T12:00:00.000Z';
const event = (reason: string, message = `${reason} happened`): RolloutEvent => ({
  type: 'Normal',
  reason,
  message,
});

describe('notificationId', () => {
  it('is the same for the same rollout and reason, and differs when any of them does', () => {
    const id = notificationId('abc', STARTED, Reason.RolloutStarted);
    expect(notificationId('abc', STARTED, Reason.RolloutStarted)).toBe(id);
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    expect(notificationId('abd', STARTED, Reason.RolloutStarted)).not.toBe(id);
    expect(notificationId('abc', '2026-03-01T12:00:01.000Z', Reason.RolloutStarted)).not.toBe(id);
    expect(notificationId('abc', STARTED, Reason.RolloutSucceeded)).not.toBe(id);
  });
});

describe('notificationsFor', () => {
  it('notifies the listed reasons only', () => {
    const status: HelloWorldStatus = {
      phase: 'Verifying',
      currentRevision: 'abc',
      rolloutStartedAt: STARTED,
    };
    const notes = notificationsFor({
      events: [event(Reason.RolloutComplete), event(Reason.SmokeTestPassed), event(Reason.AbortIgnored)],
      status,
      now: NOW,
      image: 'hello:2',
    });
    expect(notes.map((n) => [n.reason, n.transition])).toEqual([[Reason.SmokeTestPassed, 'StepPassed']]);
    expect(notes[0]).toMatchObject({ revision: 'abc', image: 'hello:2', rolloutStartedAt: STARTED });
  });

  it('lists every failure reason and the canary steps in one table', () => {
    for (const reason of Object.values(FailureReason)) expect(NOTIFIED_REASONS[reason]).toBeDefined();
    expect(NOTIFIED_REASONS.CanaryStepPassed).toBe('StepPassed');
    expect(NOTIFIED_REASONS.RolloutPaused).toBe('Paused');
    expect(NOTIFIED_REASONS.StepPromoted).toBe('StepPassed');
    expect(NOTIFIED_REASONS.RolloutSucceeded).toBe('Promoted');
  });

  it('a rollout started: the id is its revision, start and reason', () => {
    const status: HelloWorldStatus = {
      phase: 'Progressing',
      currentRevision: 'abc',
      rolloutStartedAt: NOW.toISOString(),
    };
    const [note] = notificationsFor({ events: [event(Reason.RolloutStarted)], status, now: NOW, image: 'i' });
    expect(note).toMatchObject({
      transition: 'Started',
      id: notificationId('abc', NOW.toISOString(), Reason.RolloutStarted),
      time: NOW.toISOString(),
    });
  });

  it('a rollback names the rollout that failed (from history), not the stable one it returns to', () => {
    const time = NOW.toISOString();
    const lastRollback = {
      fromRevision: 'bad',
      toRevision: 'good',
      fromImage: 'hello:2',
      toImage: 'hello:1',
      reason: FailureReason.CrashLooping,
      message: 'pod restarted 4 times',
      time,
    };
    const status: HelloWorldStatus = {
      phase: 'RolledBack',
      currentRevision: 'good', // the machine already points at the stable revision
      rolloutStartedAt: time,
      lastRollback,
      history: [
        {
          revision: 'bad',
          image: 'hello:2',
          startTime: STARTED,
          endTime: time,
          outcome: 'RolledBack',
          reason: FailureReason.CrashLooping,
          summary: 'x',
        },
      ],
    };
    const events = [{ ...event(FailureReason.CrashLooping), type: 'Warning' as const }];
    const [note] = notificationsFor({ events, status, now: NOW, image: 'hello:2' });
    expect(note).toMatchObject({
      transition: 'RolledBack',
      revision: 'bad',
      image: 'hello:2',
      rolloutStartedAt: STARTED,
      id: notificationId('bad', STARTED, FailureReason.CrashLooping),
      rollback: lastRollback,
    });
  });

  it('a failure with nothing undone is Failed, without a rollback', () => {
    const status: HelloWorldStatus = { phase: 'Failed', currentRevision: 'bad', rolloutStartedAt: STARTED };
    const [note] = notificationsFor({
      events: [event(FailureReason.ProgressDeadlineExceeded)],
      status,
      now: NOW,
      image: 'hello:2',
    });
    expect(note?.transition).toBe('Failed');
    expect(note?.rollback).toBeUndefined();
  });

  it('tells the steps of one canary rollout apart', () => {
    const at = (stepIndex: number): HelloWorldStatus =>
      ({ ...base, canary: { stepIndex } }) as HelloWorldStatus;
    const base: HelloWorldStatus = {
      phase: 'Progressing',
      currentRevision: 'abc',
      rolloutStartedAt: STARTED,
    };
    const id = (status: HelloWorldStatus): string | undefined =>
      notificationsFor({ events: [event('CanaryStepPassed')], status, now: NOW, image: 'i' })[0]?.id;
    expect(id(at(1))).not.toBe(id(at(3)));
    expect(id(at(1))).toBe(id(at(1)));
    expect(id(base)).toBe(notificationId('abc', STARTED, 'CanaryStepPassed'));
  });

  it('keeps messages to one bounded printable line', () => {
    const status: HelloWorldStatus = {
      phase: 'Progressing',
      currentRevision: 'abc',
      rolloutStartedAt: STARTED,
    };
    const [note] = notificationsFor({
      events: [event(Reason.RolloutStarted, `a\nb\u202e${'x'.repeat(500)}`)],
      status,
      now: NOW,
      image: 'i',
    });
    expect(note?.message).not.toMatch(/[\n\u202e]/);
    expect(Array.from(note?.message ?? '').length).toBeLessThanOrEqual(201);
  });
});
