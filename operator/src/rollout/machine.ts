/**
 * The rollout state machine. Level-triggered and restart-safe: every call derives the next state from the
 * persisted status, the annotations and what the cluster shows now, so an operator restarted anywhere in
 * a rollout or verification carries on. The verifier calls are its only side effects.
 *
 *   Progressing ──complete──▶ Verifying ──pass──▶ Available (stable := revision)
 *        │                        │
 *        └──fail / abort──────────┴──▶ RolledBack (back to stable) | Failed (nothing undone)
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { API_PORT } from '../crd/defaults.js';
import { ANNOTATION_ABORT, ANNOTATION_RETRY } from '../crd/types.js';
import { measure as realMeasure } from '../verification/analysis.js';
import type { PodRef } from '../verification/types.js';
import { Reason, availability } from './conditions.js';
import { findPodFailure, msUntilDeadline } from './health.js';
import { podRevision } from './revision.js';
import {
  POLL_MS,
  condition,
  emit,
  failRollout,
  judgeHealth,
  newDraft,
  promote,
  requeueIn,
  startRollout,
  toDecision,
  type Draft,
} from './transitions.js';
import { retryRequested } from './template.js';
import type { RolloutDecision, RolloutInput } from './types.js';
import { followRollback, followStable, holdFailed } from './after-verdict.js';
import { newVerification, verifyStep } from './verify.js';
import type { DryRunHit } from './verify-judge.js';

export type {
  MeasureFn,
  RolloutDecision,
  RolloutEvent,
  RolloutInput,
  RolloutStatus,
  TemplateChoice,
} from './types.js';

/**
 * Judges the rollout after the Deployment was applied, as progressRollout does; when the verdict hangs on
 * a cached Deployment past its progress deadline, reads the Deployment live and decides again. Returns the
 * Deployment the decision stands on.
 */
export async function judgeRollout(
  input: RolloutInput,
  readLiveDeployment: () => Promise<V1Deployment | undefined>,
): Promise<{ decision: RolloutDecision; deployment: V1Deployment | undefined }> {
  const cached = await progressRollout(input);
  if (!cached.needsLiveDeployment) return { decision: cached, deployment: input.deployment };
  // Past the deadline by the cache: the rollout fails only if the API server agrees it is not complete.
  const deployment = await readLiveDeployment();
  const decision = await progressRollout({ ...input, deployment, deploymentIsLive: true });
  return { decision, deployment };
}

/** Judges the rollout after the Deployment was applied and says what the status, events and next look are. */
export async function progressRollout(input: RolloutInput): Promise<RolloutDecision> {
  const draft = newDraft(input);
  handleRetry(draft);
  if (!handleAbort(draft)) {
    const { appliedRevision: applied, specRevision } = input;
    const { stableRevision: stable, failedRevision: failed } = draft.status;
    if (failed === applied && applied !== stable) holdFailed(draft);
    else if (applied === stable && specRevision !== stable && failed === specRevision) followRollback(draft);
    else if (applied === stable) followStable(draft);
    else await followNewRevision(draft);
  }
  finish(draft);
  return toDecision(draft);
}

/** A new hello.dev/retry value lets the failed revision roll out again. */
function handleRetry(draft: Draft): void {
  const status = draft.status;
  if (!retryRequested(status, draft.input.annotations)) return;
  status.observedRetry = draft.input.annotations[ANNOTATION_RETRY];
  if (status.failedRevision === undefined) return;
  const message = `${ANNOTATION_RETRY}=${status.observedRetry}: revision ${status.failedRevision} may roll out again`;
  status.failedRevision = undefined;
  // Forget the failed attempt so the next flow starts a fresh rollout of it.
  if (status.currentRevision === draft.input.appliedRevision) status.rolloutStartedAt = undefined;
  emit(draft, 'Normal', Reason.RetryRequested, message);
}

/** A new hello.dev/abort value fails the rollout in flight at once; otherwise it is only recorded. */
function handleAbort(draft: Draft): boolean {
  const status = draft.status;
  const abort = draft.input.annotations[ANNOTATION_ABORT];
  if (abort === undefined || abort === status.observedAbort) return false;
  status.observedAbort = abort;
  const moving = status.phase === 'Progressing' || status.phase === 'Verifying';
  const applied = draft.input.appliedRevision;
  if (moving && applied !== status.stableRevision) {
    failRollout(
      draft,
      Reason.Aborted,
      `aborted by annotation ${ANNOTATION_ABORT}=${abort} while ${status.phase ?? ''}`,
    );
    return true;
  }
  emit(
    draft,
    'Normal',
    Reason.AbortIgnored,
    `${ANNOTATION_ABORT}=${abort}: no rollout in progress, nothing to abort`,
  );
  return false;
}

/** A revision that is not stable yet: roll it out, verify it, then promote or fail it. */
async function followNewRevision(draft: Draft): Promise<void> {
  const { now, spec, pods, appliedRevision: revision } = draft.input;
  const status = draft.status;
  const moving = status.phase === 'Progressing' || status.phase === 'Verifying';
  if (!moving || status.currentRevision !== revision || status.rolloutStartedAt === undefined)
    startRollout(draft);

  if (status.phase === 'Progressing') {
    const startedAt = new Date(status.rolloutStartedAt ?? now.toISOString());
    const health = judgeHealth(draft, revision, pods, startedAt);
    if (health.state === 'Failed') {
      failRollout(draft, health.reason, health.message);
      return;
    }
    if (health.state === 'Progressing') {
      condition(draft, 'Progressing', 'True', Reason.RolloutInProgress, health.message);
      requeueIn(draft, Math.min(POLL_MS, msUntilDeadline(spec, startedAt, now)));
      return;
    }
    const { smoke, analysis } = spec.rollout.verification;
    if (!(smoke.enabled && smoke.checks.length > 0) && !analysis.enabled) {
      const why = spec.rollout.verification.enabled
        ? 'no smoke checks and no analysis'
        : 'verification is disabled';
      promote(draft, `${health.message}; ${why}`);
      return;
    }
    status.phase = 'Verifying';
    status.verification = newVerification(revision, now);
    emit(draft, 'Normal', Reason.RolloutComplete, `${health.message}; verifying`);
  }

  // Verifying: pods that start crash-looping or lose their image still fail the rollout.
  const podFailure = findPodFailure(pods, revision, spec.rollout.crashLoopRestartThreshold);
  if (podFailure) {
    failRollout(draft, podFailure.reason, podFailure.message);
    return;
  }
  const outcome = await verifyStep({
    verification:
      status.verification?.revision === revision ? status.verification : newVerification(revision, now),
    spec,
    pods: readyPods(draft.input),
    verifier: draft.input.verifier,
    measure: draft.input.measure ?? realMeasure,
    now,
  });
  status.verification = outcome.verification;
  reportDryRun(draft, revision, outcome.dryRun);
  if (outcome.smokePassedNow) {
    emit(
      draft,
      'Normal',
      Reason.SmokeTestPassed,
      `revision ${revision}: ${outcome.verification.lastMessage ?? ''}`,
    );
  }
  if (outcome.kind === 'failed') failRollout(draft, outcome.reason, outcome.message);
  else if (outcome.kind === 'passed') promote(draft, outcome.message);
  else {
    const message = `verifying revision ${revision}: ${outcome.verification.lastMessage ?? ''}`;
    condition(draft, 'Progressing', 'True', Reason.Verifying, message);
    requeueIn(draft, outcome.requeueAfterMs);
  }
}

/** One Warning per verification and dry-run check that would have failed it (the metric counts the same). */
function reportDryRun(draft: Draft, revision: string, hits: readonly DryRunHit[]): void {
  const first = hits.filter((h) => h.first);
  if (first.length === 0) return;
  draft.events.push({
    type: 'Warning',
    reason: Reason.DryRunWouldFail,
    message: `revision ${revision}: dry run, would have failed: ${first.map((h) => `${h.check}: ${h.message}`).join('; ')}`,
    dryRunChecks: first.map((h) => h.check),
  });
}

/** Ready, not terminating pods of the revision under verification. */
function readyPods(input: RolloutInput): PodRef[] {
  return input.pods
    .filter(
      (p) =>
        podRevision(p) === input.appliedRevision &&
        !p.metadata?.deletionTimestamp &&
        p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    )
    .map((p) => ({ namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', port: API_PORT }));
}

/** Conditions every decision carries: Available from the Deployment, and Degraded once known. */
function finish(draft: Draft): void {
  const { deployment, generation } = draft.input;
  const status = draft.status;
  const available = availability(deployment);
  const serving = status.stableRevision ? `; stable revision ${status.stableRevision}` : '';
  condition(draft, available.type, available.status, available.reason, `${available.message}${serving}`);
  if (!status.conditions?.some((c) => c.type === 'Degraded')) {
    condition(draft, 'Degraded', 'False', Reason.AsExpected, 'no failed rollout on record');
  }
  status.conditions = status.conditions?.map((c) => ({ ...c, observedGeneration: generation }));
}
