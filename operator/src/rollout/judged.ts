/**
 * Flows toward revisions already judged: the failed revision held in place, the rollback to the stable
 * revision followed to its end, and the stable revision restored. None of them verifies anything again,
 * so a rolled-back HelloWorld never loops through verify-then-rollback.
 */
import { ANNOTATION_RETRY } from '../api/types.js';
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
export function holdFailed(d: Draft): void {
  const s = d.status;
  if (s.phase !== 'RolledBack') {
    s.phase = 'Failed';
    return;
  }
  // A rollback was decided, yet the failed template is still applied: it could not be undone.
  s.phase = 'Failed';
  const message = d.input.spec.rollout.autoRollback
    ? `the Deployment still runs failed revision ${d.input.appliedRevision}: the pod template of stable revision ${s.stableRevision ?? ''} could not be applied`
    : `autoRollback was turned off: the Deployment runs failed revision ${d.input.appliedRevision} again`;
  condition(d, 'Progressing', 'False', Reason.RollbackStalled, message);
  emit(d, 'Warning', Reason.RollbackStalled, message);
}

/** The Deployment is going (or went) back to the stable revision after a failure. */
export function followRollback(d: Draft): void {
  const { now } = d.input;
  const s = d.status;
  const stable = s.stableRevision ?? '';
  if (s.currentRevision !== stable || s.rolloutStartedAt === undefined) {
    s.currentRevision = stable;
    s.rolloutStartedAt = now.toISOString();
  }
  s.phase = 'RolledBack';
  // Old pods of the stable revision may carry restarts from long ago: only the Deployment and the clock judge.
  const health = judgeHealth(d, stable, [], new Date(s.rolloutStartedAt ?? now.toISOString()));
  const target = `stable revision ${stable} (${s.stableImage ?? 'unknown image'})`;
  if (health.state === 'Progressing') {
    condition(
      d,
      'Progressing',
      'True',
      Reason.RollbackInProgress,
      `rolling back to ${target}: ${health.message}`,
    );
    requeueIn(d, POLL_MS);
  } else if (health.state === 'Complete') {
    const message = `rolled back to ${target}; revision ${s.failedRevision ?? ''} is not retried until the spec changes or ${ANNOTATION_RETRY} gets a new value`;
    if (previousReason(d, 'Progressing') !== Reason.RolledBack)
      emit(d, 'Normal', Reason.RollbackComplete, message);
    condition(d, 'Progressing', 'False', Reason.RolledBack, message);
  } else {
    const message = `rollback to ${target} is not completing: ${health.reason}: ${health.message}`;
    if (previousReason(d, 'Progressing') !== Reason.RollbackStalled)
      emit(d, 'Warning', Reason.RollbackStalled, message);
    condition(d, 'Progressing', 'False', Reason.RollbackStalled, message);
  }
}

/**
 * The spec asks for the stable revision (steady state, or the user reverted). It was verified before and
 * is never verified again; the Deployment only has to get there.
 */
export function followStable(d: Draft): void {
  const { now, appliedRevision: stable } = d.input;
  const s = d.status;
  if (s.phase === 'Available' && s.currentRevision === stable) return;
  if (s.currentRevision !== stable || s.rolloutStartedAt === undefined) {
    s.currentRevision = stable;
    s.rolloutStartedAt = now.toISOString();
  }
  const health = judgeHealth(d, stable, [], new Date(s.rolloutStartedAt ?? now.toISOString()));
  const target = `stable revision ${stable} (${appliedImage(d.input)})`;
  if (health.state === 'Progressing') {
    s.phase = 'Progressing';
    condition(
      d,
      'Progressing',
      'True',
      Reason.RolloutInProgress,
      `returning to ${target}: ${health.message}`,
    );
    requeueIn(d, POLL_MS);
  } else if (health.state === 'Complete') {
    const message = `back on ${target}, verified before and not verified again`;
    s.phase = 'Available';
    s.failedRevision = undefined;
    condition(d, 'Progressing', 'False', Reason.StableRevisionRestored, message);
    condition(d, 'Degraded', 'False', Reason.StableRevisionRestored, message);
    emit(d, 'Normal', Reason.StableRevisionRestored, message);
  } else {
    const message = `returning to ${target} is not completing: ${health.message}`;
    s.phase = 'Failed';
    if (previousReason(d, 'Progressing') !== health.reason) emit(d, 'Warning', health.reason, message);
    condition(d, 'Progressing', 'False', health.reason, message);
    condition(d, 'Degraded', 'True', health.reason, message);
  }
}
