/**
 * Which rollout transitions become notifications, and the notification each one makes. The rollout state
 * machine emits one event per transition; the reasons below are the ones a webhook hears about.
 */
import { createHash } from 'node:crypto';
import type { HelloWorldStatus, PendingNotification } from '../crd/types.js';
import { FailureReason, Reason } from '../rollout/conditions.js';
import { summarize } from '../rollout/history.js';
import type { RolloutEvent } from '../rollout/types.js';

export type Transition = PendingNotification['transition'];

/**
 * The notified event reasons, in one place: add a reason here and its transition is sent. A failure
 * reason is RolledBack when the same decision rolled back, else Failed (nothing undone).
 */
export const NOTIFIED_REASONS: Readonly<Record<string, Transition | 'RolledBackOrFailed'>> = {
  [Reason.RolloutStarted]: 'Started',
  [Reason.SmokeTestPassed]: 'StepPassed',
  [Reason.CanaryStepPassed]: 'StepPassed',
  [Reason.StepPromoted]: 'StepPassed',
  [Reason.RolloutPaused]: 'Paused',
  [Reason.RolloutSucceeded]: 'Promoted',
  [Reason.RollbackStalled]: 'Failed',
  ...Object.fromEntries(Object.values(FailureReason).map((reason) => [reason, 'RolledBackOrFailed'])),
};

/** Transitions that end a rollout: history holds the rollout they end (and when it started). */
const ENDINGS: ReadonlySet<Transition> = new Set(['Promoted', 'RolledBack', 'Failed']);

/**
 * The id of a transition: the same whichever reconcile, or operator process, finds it. A rollout is a
 * revision and the time it started; a transition of it is a reason.
 */
export function notificationId(
  revision: string,
  rolloutStartedAt: string,
  reason: string,
  step?: number,
): string {
  // A canary rollout passes and pauses at several steps: the step tells them apart.
  const key = `${revision}\n${rolloutStartedAt}\n${reason}${step === undefined ? '' : `\n${String(step)}`}`;
  return createHash('sha256').update(key).digest('hex').slice(0, 24);
}

/** The step of a canary rollout in flight (status.canary.stepIndex), if any. */
function canaryStep(status: HelloWorldStatus): number | undefined {
  return status.canary?.stepIndex;
}

/**
 * The notifications of one decision of the state machine: its events with a notified reason, against
 * the status it decided. `image` is the applied revision's image (for transitions that history lacks).
 */
export function notificationsFor(input: {
  events: readonly RolloutEvent[];
  status: HelloWorldStatus;
  now: Date;
  image: string;
}): PendingNotification[] {
  const { events, status, now, image } = input;
  const time = now.toISOString();
  const out: PendingNotification[] = [];
  for (const event of events) {
    const listed = NOTIFIED_REASONS[event.reason];
    if (listed === undefined) continue;
    const rolledBack = status.phase === 'RolledBack' && status.lastRollback?.time === time;
    const transition: Transition =
      listed === 'RolledBackOrFailed' ? (rolledBack ? 'RolledBack' : 'Failed') : listed;
    const ended = status.history?.[0];
    const rollout =
      ENDINGS.has(transition) && ended?.endTime === time
        ? { revision: ended.revision, startedAt: ended.startTime, image: ended.image }
        : { revision: status.currentRevision ?? '', startedAt: status.rolloutStartedAt ?? time, image };
    const rollback = transition === 'RolledBack' ? status.lastRollback : undefined;
    out.push({
      id: notificationId(
        rollout.revision,
        rollout.startedAt,
        event.reason,
        ENDINGS.has(transition) ? undefined : canaryStep(status),
      ),
      reason: event.reason,
      transition,
      revision: rollout.revision,
      image: rollout.image,
      rolloutStartedAt: rollout.startedAt,
      time,
      message: summarize(event.message),
      ...(rollback && { rollback: { ...rollback, message: summarize(rollback.message) } }),
    });
  }
  return out;
}
