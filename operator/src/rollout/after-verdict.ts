/**
 * Flows toward revisions already judged: the failed revision held in place, the rollback to the stable
 * revision followed to its end, and the stable revision restored. None of them verifies anything again,
 * so a rolled-back HelloWorld never loops through verify-then-rollback.
 */
import { ANNOTATION_RETRY } from '../crd/types.js';
import { Reason } from './conditions.js';
import {
  POLL_MS,
  appliedImage,
  condition,
  emit,
  judgeHealth,
  previousReason,
  requeueIn,
  type Draft,
} from './transitions.js';

/** The Deployment runs a revision that failed: nothing to judge until the spec or retry changes. */
export function holdFailed(draft: Draft): void {
  const status = draft.status;
  if (status.phase !== 'RolledBack') {
    status.phase = 'Failed';
    return;
  }
  // A rollback was decided, yet the failed template is still applied: it could not be undone.
  status.phase = 'Failed';
  const message = draft.input.spec.rollout.autoRollback
    ? `the Deployment still runs failed revision ${draft.input.appliedRevision}: the pod template of stable revision ${status.stableRevision ?? ''} could not be applied`
    : `autoRollback was turned off: the Deployment runs failed revision ${draft.input.appliedRevision} again`;
  condition(draft, 'Progressing', 'False', Reason.RollbackStalled, message);
  emit(draft, 'Warning', Reason.RollbackStalled, message);
}

/** The Deployment is going (or went) back to the stable revision after a failure. */
export function followRollback(draft: Draft): void {
  const { now } = draft.input;
  const status = draft.status;
  const stable = status.stableRevision ?? '';
  if (status.currentRevision !== stable || status.rolloutStartedAt === undefined) {
    status.currentRevision = stable;
    status.rolloutStartedAt = now.toISOString();
  }
  status.phase = 'RolledBack';
  // Old pods of the stable revision may carry restarts from long ago: only the Deployment and the clock judge.
  const health = judgeHealth(draft, stable, [], new Date(status.rolloutStartedAt ?? now.toISOString()));
  const target = `stable revision ${stable} (${status.stableImage ?? 'unknown image'})`;
  if (health.state === 'Progressing') {
    condition(
      draft,
      'Progressing',
      'True',
      Reason.RollbackInProgress,
      `rolling back to ${target}: ${health.message}`,
    );
    requeueIn(draft, POLL_MS);
  } else if (health.state === 'Complete') {
    const message = `rolled back to ${target}; revision ${status.failedRevision ?? ''} is not retried until the spec changes or ${ANNOTATION_RETRY} gets a new value`;
    if (previousReason(draft, 'Progressing') !== Reason.RolledBack)
      emit(draft, 'Normal', Reason.RollbackComplete, message);
    condition(draft, 'Progressing', 'False', Reason.RolledBack, message);
  } else {
    const message = `rollback to ${target} is not completing: ${health.reason}: ${health.message}`;
    if (previousReason(draft, 'Progressing') !== Reason.RollbackStalled)
      emit(draft, 'Warning', Reason.RollbackStalled, message);
    condition(draft, 'Progressing', 'False', Reason.RollbackStalled, message);
  }
}

/**
 * The spec asks for the stable revision (steady state, or the user reverted). It was verified before and
 * is never verified again; the Deployment only has to get there.
 */
export function followStable(draft: Draft): void {
  const { now, appliedRevision: stable } = draft.input;
  const status = draft.status;
  if (status.phase === 'Available' && status.currentRevision === stable) return;
  if (status.currentRevision !== stable || status.rolloutStartedAt === undefined) {
    status.currentRevision = stable;
    status.rolloutStartedAt = now.toISOString();
  }
  const health = judgeHealth(draft, stable, [], new Date(status.rolloutStartedAt ?? now.toISOString()));
  const target = `stable revision ${stable} (${appliedImage(draft.input)})`;
  if (health.state === 'Progressing') {
    status.phase = 'Progressing';
    condition(
      draft,
      'Progressing',
      'True',
      Reason.RolloutInProgress,
      `returning to ${target}: ${health.message}`,
    );
    requeueIn(draft, POLL_MS);
  } else if (health.state === 'Complete') {
    const message = `back on ${target}, verified before and not verified again`;
    status.phase = 'Available';
    status.failedRevision = undefined;
    condition(draft, 'Progressing', 'False', Reason.StableRevisionRestored, message);
    condition(draft, 'Degraded', 'False', Reason.StableRevisionRestored, message);
    emit(draft, 'Normal', Reason.StableRevisionRestored, message);
  } else {
    const message = `returning to ${target} is not completing: ${health.message}`;
    status.phase = 'Failed';
    if (previousReason(draft, 'Progressing') !== health.reason)
      emit(draft, 'Warning', health.reason, message);
    condition(draft, 'Progressing', 'False', health.reason, message);
    condition(draft, 'Degraded', 'True', health.reason, message);
  }
}
