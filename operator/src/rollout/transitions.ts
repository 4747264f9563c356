/**
 * The decision being built for one call of the state machine, and the transitions every flow shares:
 * start a rollout, fail it (roll back or stop), and promote it to stable; and the health verdict they act on.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { ConditionStatus, ConditionType } from '../api/types.js';
import { FailureReason, Reason, setCondition, getCondition } from './conditions.js';
import { assessRolloutHealth, type RolloutHealth } from './health.js';
import { deploymentRevision } from './revision.js';
import type { RolloutDecision, RolloutEvent, RolloutInput, RolloutStatus } from './types.js';

/** How often a moving rollout is looked at when no watch event arrives first. */
export const POLL_MS = 5_000;

export interface Draft {
  readonly input: RolloutInput;
  status: RolloutStatus;
  events: RolloutEvent[];
  requeueAfterMs?: number;
  rollback?: { reason: string };
  templateChanged?: boolean;
  needsLiveDeployment?: boolean;
}

export function newDraft(input: RolloutInput): Draft {
  const s = input.status;
  const status: RolloutStatus = {
    phase: s.phase,
    currentRevision: s.currentRevision,
    stableRevision: s.stableRevision,
    stableImage: s.stableImage,
    failedRevision: s.failedRevision,
    observedRetry: s.observedRetry,
    observedAbort: s.observedAbort,
    rolloutStartedAt: s.rolloutStartedAt,
    verification: s.verification,
    lastRollback: s.lastRollback,
    conditions: s.conditions ?? [],
  };
  return { input, status, events: [] };
}

export function toDecision(d: Draft): RolloutDecision {
  const seen = new Set<string>();
  const events = d.events.filter((e) => !seen.has(e.reason) && seen.add(e.reason));
  // Undefined members are dropped so the status compares equal to what the API server returns.
  const status = JSON.parse(JSON.stringify(d.status)) as RolloutStatus;
  return {
    status,
    events,
    ...(d.requeueAfterMs !== undefined && { requeueAfterMs: Math.max(0, Math.ceil(d.requeueAfterMs)) }),
    ...(d.rollback && { rollback: d.rollback }),
    ...(d.templateChanged && { templateChanged: true }),
    ...(d.needsLiveDeployment && { needsLiveDeployment: true }),
  };
}

/**
 * Rollout health as the flows act on it. ProgressDeadlineExceeded is the one verdict that only the clock
 * (or a condition that a later status replaces) can bring about, so a Deployment from the informer cache,
 * which may lag behind a rollout that completed in time, cannot prove it: the verdict is held back as
 * Progressing and a live read is asked for. Pod failures are facts of their own and count at once.
 */
export function judgeHealth(
  d: Draft,
  revision: string,
  pods: readonly V1Pod[],
  startedAt: Date,
): RolloutHealth {
  const { deployment, spec, now, deploymentIsLive } = d.input;
  const health = assessRolloutHealth({ deployment, pods, revision, spec, startedAt, now });
  if (health.state !== 'Failed' || health.reason !== FailureReason.ProgressDeadlineExceeded) return health;
  if (deploymentIsLive) return health;
  d.needsLiveDeployment = true;
  return {
    state: 'Progressing',
    message: `${health.message}; confirming with a live read of the Deployment`,
  };
}

export function condition(
  d: Draft,
  type: ConditionType,
  status: ConditionStatus,
  reason: string,
  message: string,
): void {
  d.status.conditions = setCondition(
    d.status.conditions,
    { type, status, reason, message },
    d.input.generation,
    d.input.now,
  );
}

/** The reason a condition had when this call began; transitions compare against it. */
export function previousReason(d: Draft, type: ConditionType): string | undefined {
  return getCondition(d.input.status.conditions, type)?.reason;
}

export function emit(d: Draft, type: RolloutEvent['type'], reason: string, message: string): void {
  d.events.push({ type, reason, message });
}

export function requeueIn(d: Draft, ms: number): void {
  d.requeueAfterMs = d.requeueAfterMs === undefined ? ms : Math.min(d.requeueAfterMs, ms);
}

/** The image of the revision the Deployment is moving to. */
export function appliedImage(input: RolloutInput): string {
  const specImage = input.spec.image;
  if (input.appliedRevision === input.specRevision || !input.deployment) return specImage;
  if (deploymentRevision(input.deployment) !== input.appliedRevision) return specImage;
  return input.deployment.spec?.template.spec?.containers[0]?.image ?? specImage;
}

/** A new revision starts rolling out; whatever was in flight is superseded. */
export function startRollout(d: Draft): void {
  const { appliedRevision: revision, now } = d.input;
  const s = d.status;
  const superseded = (s.phase === 'Progressing' || s.phase === 'Verifying') && s.currentRevision !== revision;
  const stable = s.stableRevision
    ? `stable revision is ${s.stableRevision} (${s.stableImage ?? 'unknown image'})`
    : 'first revision, no stable revision yet';
  const message = `rolling out revision ${revision} (${appliedImage(d.input)}); ${stable}${
    superseded ? `; supersedes revision ${s.currentRevision ?? ''}` : ''
  }`;
  s.phase = 'Progressing';
  s.currentRevision = revision;
  s.rolloutStartedAt = now.toISOString();
  s.verification = undefined;
  // A different revision is rolling out: the spec changed again, so the failed one may be tried later.
  s.failedRevision = undefined;
  condition(d, 'Progressing', 'True', Reason.RolloutInProgress, message);
  emit(d, 'Normal', Reason.RolloutStarted, message);
}

/**
 * The revision being rolled out failed. With autoRollback and a stable revision the Deployment goes back
 * to it (the reconciler applies the stable template next); otherwise nothing is undone and the phase is
 * Failed. Either way the revision is recorded and not retried until the spec or hello.dev/retry changes.
 */
export function failRollout(d: Draft, reason: FailureReason, message: string): void {
  const { appliedRevision: revision, now, spec } = d.input;
  const s = d.status;
  const image = appliedImage(d.input);
  s.failedRevision = revision;
  if (spec.rollout.autoRollback && s.stableRevision && s.stableRevision !== revision) {
    const toImage = s.stableImage ?? '';
    s.lastRollback = {
      fromRevision: revision,
      toRevision: s.stableRevision,
      fromImage: image,
      toImage,
      reason,
      message,
      time: now.toISOString(),
    };
    s.phase = 'RolledBack';
    s.currentRevision = s.stableRevision;
    s.rolloutStartedAt = now.toISOString();
    const summary = `revision ${revision} (${image}) failed: ${message}; rolling back to stable revision ${s.stableRevision} (${toImage})`;
    condition(d, 'Degraded', 'True', reason, summary);
    condition(d, 'Progressing', 'True', Reason.RollbackInProgress, summary);
    emit(d, 'Warning', reason, summary);
    d.rollback = { reason };
    d.templateChanged = true;
    requeueIn(d, 0);
    return;
  }
  const why = s.stableRevision
    ? 'autoRollback is off: nothing was undone'
    : 'no stable revision to roll back to: nothing was undone';
  const summary = `revision ${revision} (${image}) failed: ${message}; ${why}`;
  s.phase = 'Failed';
  condition(d, 'Degraded', 'True', reason, summary);
  condition(d, 'Progressing', 'False', reason, summary);
  emit(d, 'Warning', reason, summary);
}

/** The revision passed its checks: it becomes the stable revision. */
export function promote(d: Draft, message: string): void {
  const { appliedRevision: revision } = d.input;
  const s = d.status;
  const image = appliedImage(d.input);
  s.phase = 'Available';
  s.currentRevision = revision;
  s.stableRevision = revision;
  s.stableImage = image;
  s.failedRevision = undefined;
  const summary = `revision ${revision} (${image}) is the stable revision: ${message}`;
  condition(d, 'Progressing', 'False', Reason.RolloutSucceeded, summary);
  condition(d, 'Degraded', 'False', Reason.RolloutSucceeded, `revision ${revision} succeeded`);
  emit(d, 'Normal', Reason.RolloutSucceeded, summary);
}
