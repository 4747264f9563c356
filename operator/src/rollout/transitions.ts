/**
 * The decision being built for one call of the state machine, and the transitions every flow shares:
 * start a rollout, fail it (roll back or stop), and promote it to stable; and the health verdict they act on.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { ConditionStatus, ConditionType, RolloutOutcome, VerificationStatus } from '../crd/types.js';
import { measure as realMeasure } from '../verification/analysis.js';
import type { PodRef } from '../verification/types.js';
import { verifyStep, type VerifyOutcome } from './verify.js';
import type { DryRunHit } from './verify-judge.js';
import { FailureReason, Reason, setCondition, getCondition } from './conditions.js';
import { assessRolloutHealth, type RolloutHealth } from './health.js';
import { boundHistory, recordOutcome, summarize } from './history.js';
import { deploymentRevision } from './revision.js';
import { isMoving } from './phases.js';
import type { RolloutDecision, RolloutEvent, RolloutInput, RolloutStatus } from './types.js';

/** How often a moving rollout is looked at when no watch event arrives first. */
export const POLL_MS = 5_000;

/** The decision under construction, with the input it is decided on. */
export interface Draft extends RolloutDecision {
  readonly input: RolloutInput;
}

export function newDraft(input: RolloutInput): Draft {
  const stored = input.status;
  const status: RolloutStatus = {
    phase: stored.phase,
    currentRevision: stored.currentRevision,
    stableRevision: stored.stableRevision,
    stableImage: stored.stableImage,
    failedRevision: stored.failedRevision,
    observedRetry: stored.observedRetry,
    observedAbort: stored.observedAbort,
    observedPromote: stored.observedPromote,
    pausedAt: stored.pausedAt,
    canary: stored.canary,
    rolloutStartedAt: stored.rolloutStartedAt,
    verification: stored.verification,
    lastRollback: stored.lastRollback,
    // Bounded on every call, so a lowered historyLimit takes effect without waiting for an outcome.
    history: stored.history && boundHistory(stored.history, input.spec.rollout.historyLimit),
    conditions: stored.conditions ?? [],
  };
  return { input, status, events: [] };
}

export function toDecision(draft: Draft): RolloutDecision {
  const seen = new Set<string>();
  const events = draft.events.filter((e) => !seen.has(e.reason) && seen.add(e.reason));
  // Undefined members are dropped so the status compares equal to what the API server returns.
  const status = JSON.parse(JSON.stringify(draft.status)) as RolloutStatus;
  return {
    status,
    events,
    ...(draft.requeueAfterMs !== undefined && {
      requeueAfterMs: Math.max(0, Math.ceil(draft.requeueAfterMs)),
    }),
    ...(draft.rollback && { rollback: draft.rollback }),
    ...(draft.templateChanged && { templateChanged: true }),
    ...(draft.needsLiveDeployment && { needsLiveDeployment: true }),
  };
}

/**
 * Rollout health as the flows act on it. ProgressDeadlineExceeded is the one verdict that only the clock
 * (or a condition that a later status replaces) can bring about, so a Deployment from the informer cache,
 * which may lag behind a rollout that completed in time, cannot prove it: the verdict is held back as
 * Progressing and a live read is asked for. Pod failures are facts of their own and count at once.
 */
export function judgeHealth(
  draft: Draft,
  revision: string,
  pods: readonly V1Pod[],
  startedAt: Date,
): RolloutHealth {
  const { deployment, spec, now, deploymentIsLive } = draft.input;
  const health = assessRolloutHealth({ deployment, pods, revision, spec, startedAt, now });
  if (health.state !== 'Failed' || health.reason !== FailureReason.ProgressDeadlineExceeded) return health;
  if (deploymentIsLive) return health;
  draft.needsLiveDeployment = true;
  return {
    state: 'Progressing',
    message: `${health.message}; confirming with a live read of the Deployment`,
  };
}

export function condition(
  draft: Draft,
  type: ConditionType,
  status: ConditionStatus,
  reason: string,
  message: string,
): void {
  draft.status.conditions = setCondition(
    draft.status.conditions,
    { type, status, reason, message },
    draft.input.generation,
    draft.input.now,
  );
}

/** The reason a condition had when this call began; transitions compare against it. */
export function previousReason(draft: Draft, type: ConditionType): string | undefined {
  return getCondition(draft.input.status.conditions, type)?.reason;
}

export function emit(draft: Draft, type: RolloutEvent['type'], reason: string, message: string): void {
  draft.events.push({ type, reason, message });
}

export function requeueIn(draft: Draft, ms: number): void {
  draft.requeueAfterMs = draft.requeueAfterMs === undefined ? ms : Math.min(draft.requeueAfterMs, ms);
}

/** The image of the revision the Deployment is moving to. */
export function appliedImage(input: RolloutInput): string {
  const specImage = input.spec.image;
  if (input.appliedRevision === input.specRevision || !input.deployment) return specImage;
  if (deploymentRevision(input.deployment) !== input.appliedRevision) return specImage;
  return input.deployment.spec?.template.spec?.containers[0]?.image ?? specImage;
}

/** A new revision starts rolling out; whatever was in flight is superseded. */
export function startRollout(draft: Draft): void {
  const { appliedRevision: revision, now } = draft.input;
  const status = draft.status;
  const superseded = isMoving(status.phase) && status.currentRevision !== revision;
  const stable = status.stableRevision
    ? `stable revision is ${status.stableRevision} (${status.stableImage ?? 'unknown image'})`
    : 'first revision, no stable revision yet';
  const message = `rolling out revision ${revision} (${appliedImage(draft.input)}); ${stable}${
    superseded ? `; supersedes revision ${status.currentRevision ?? ''}` : ''
  }`;
  status.phase = 'Progressing';
  status.currentRevision = revision;
  status.rolloutStartedAt = now.toISOString();
  status.verification = undefined;
  status.canary = undefined;
  // A different revision is rolling out: the spec changed again, so the failed one may be tried later.
  status.failedRevision = undefined;
  condition(draft, 'Progressing', 'True', Reason.RolloutInProgress, message);
  emit(draft, 'Normal', Reason.RolloutStarted, message);
}

/**
 * The revision being rolled out failed. With autoRollback and a stable revision the Deployment goes back
 * to it (the reconciler applies the stable template next); otherwise nothing is undone and the phase is
 * Failed. Either way the revision is recorded and not retried until the spec or hello.dev/retry changes.
 */
export function failRollout(draft: Draft, reason: FailureReason, message: string): void {
  const { appliedRevision: revision, now, spec } = draft.input;
  const status = draft.status;
  const image = appliedImage(draft.input);
  status.failedRevision = revision;
  status.canary = undefined; // a canary's pods go with the next look (the plan has none for a failed revision)
  const rollingBack =
    spec.rollout.autoRollback && status.stableRevision && status.stableRevision !== revision;
  const outcome = reason === FailureReason.Aborted ? 'Aborted' : rollingBack ? 'RolledBack' : 'Failed';
  recordHistory(draft, outcome, reason, message);
  if (rollingBack && status.stableRevision) {
    const toImage = status.stableImage ?? '';
    status.lastRollback = {
      fromRevision: revision,
      toRevision: status.stableRevision,
      fromImage: image,
      toImage,
      reason,
      message,
      time: now.toISOString(),
    };
    status.phase = 'RolledBack';
    status.currentRevision = status.stableRevision;
    status.rolloutStartedAt = now.toISOString();
    const summary = `revision ${revision} (${image}) failed: ${message}; rolling back to stable revision ${status.stableRevision} (${toImage})`;
    condition(draft, 'Degraded', 'True', reason, summary);
    condition(draft, 'Progressing', 'True', Reason.RollbackInProgress, summary);
    emit(draft, 'Warning', reason, summary);
    draft.rollback = { reason };
    draft.templateChanged = true;
    requeueIn(draft, 0);
    return;
  }
  const why = status.stableRevision
    ? 'autoRollback is off: nothing was undone'
    : 'no stable revision to roll back to: nothing was undone';
  const summary = `revision ${revision} (${image}) failed: ${message}; ${why}`;
  status.phase = 'Failed';
  condition(draft, 'Degraded', 'True', reason, summary);
  condition(draft, 'Progressing', 'False', reason, summary);
  emit(draft, 'Warning', reason, summary);
}

/** The revision passed its checks: it becomes the stable revision. */
export function promote(draft: Draft, message: string): void {
  const { appliedRevision: revision } = draft.input;
  const status = draft.status;
  const image = appliedImage(draft.input);
  status.phase = 'Available';
  status.currentRevision = revision;
  status.stableRevision = revision;
  status.stableImage = image;
  status.failedRevision = undefined;
  recordHistory(draft, 'Promoted', Reason.RolloutSucceeded, message);
  const summary = `revision ${revision} (${image}) is the stable revision: ${message}`;
  condition(draft, 'Progressing', 'False', Reason.RolloutSucceeded, summary);
  condition(draft, 'Degraded', 'False', Reason.RolloutSucceeded, `revision ${revision} succeeded`);
  emit(draft, 'Normal', Reason.RolloutSucceeded, summary);
}

/**
 * Adds the outcome of the rollout of the applied revision to status.history. Called where the outcome is
 * decided, before the status moves on (a rollback restarts the clock of the stable revision).
 */
function recordHistory(draft: Draft, outcome: RolloutOutcome, reason: string, message: string): void {
  const { appliedRevision: revision, now, spec } = draft.input;
  const status = draft.status;
  const started = status.currentRevision === revision ? status.rolloutStartedAt : undefined;
  const entry = {
    revision,
    image: appliedImage(draft.input),
    startTime: started ?? now.toISOString(),
    endTime: now.toISOString(),
    outcome,
    reason,
    summary: summarize(message),
  };
  status.history = recordOutcome(status.history, entry, spec.rollout.historyLimit);
}

/**
 * One verification step of `pods` (smoke checks, then one analysis interval at a time), kept in
 * status.verification; the smoke checks' passing is announced once. `subject` names what is verified.
 */
export async function verifyPods(
  draft: Draft,
  verification: VerificationStatus,
  pods: PodRef[],
  subject: string,
  baseline?: PodRef[],
): Promise<VerifyOutcome> {
  const { spec, verifier, now } = draft.input;
  const outcome = await verifyStep({
    verification,
    spec,
    pods,
    ...(baseline && { baseline }),
    verifier,
    measure: draft.input.measure ?? realMeasure,
    now,
  });
  draft.status.verification = outcome.verification;
  reportDryRun(draft, subject, outcome.dryRun);
  if (outcome.smokePassedNow) {
    emit(draft, 'Normal', Reason.SmokeTestPassed, `${subject}: ${outcome.verification.lastMessage ?? ''}`);
  }
  return outcome;
}

/** One Warning per verification and dry-run check that would have failed it (the metric counts the same). */
function reportDryRun(draft: Draft, subject: string, hits: readonly DryRunHit[]): void {
  const first = hits.filter((h) => h.first);
  if (first.length === 0) return;
  draft.events.push({
    type: 'Warning',
    reason: Reason.DryRunWouldFail,
    message: `${subject}: dry run, would have failed: ${first.map((h) => `${h.check}: ${h.message}`).join('; ')}`,
    dryRunChecks: first.map((h) => h.check),
  });
}
