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
import { API_PORT } from '../api/defaults.js';
import { ANNOTATION_ABORT, ANNOTATION_RETRY } from '../api/types.js';
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
import { followRollback, followStable, holdFailed } from './judged.js';
import { newVerification, verifyStep } from './verify.js';

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
  const d = newDraft(input);
  handleRetry(d);
  if (!handleAbort(d)) {
    const { appliedRevision: applied, specRevision } = input;
    const { stableRevision: stable, failedRevision: failed } = d.status;
    if (failed === applied && applied !== stable) holdFailed(d);
    else if (applied === stable && specRevision !== stable && failed === specRevision) followRollback(d);
    else if (applied === stable) followStable(d);
    else await followNewRevision(d);
  }
  finish(d);
  return toDecision(d);
}

/** A new hello.dev/retry value lets the failed revision roll out again. */
function handleRetry(d: Draft): void {
  const s = d.status;
  if (!retryRequested(s, d.input.annotations)) return;
  s.observedRetry = d.input.annotations[ANNOTATION_RETRY];
  if (s.failedRevision === undefined) return;
  const message = `${ANNOTATION_RETRY}=${s.observedRetry}: revision ${s.failedRevision} may roll out again`;
  s.failedRevision = undefined;
  // Forget the failed attempt so the next flow starts a fresh rollout of it.
  if (s.currentRevision === d.input.appliedRevision) s.rolloutStartedAt = undefined;
  emit(d, 'Normal', Reason.RetryRequested, message);
}

/** A new hello.dev/abort value fails the rollout in flight at once; otherwise it is only recorded. */
function handleAbort(d: Draft): boolean {
  const s = d.status;
  const abort = d.input.annotations[ANNOTATION_ABORT];
  if (abort === undefined || abort === s.observedAbort) return false;
  s.observedAbort = abort;
  const moving = s.phase === 'Progressing' || s.phase === 'Verifying';
  const applied = d.input.appliedRevision;
  if (moving && applied !== s.stableRevision) {
    failRollout(
      d,
      Reason.Aborted,
      `aborted by annotation ${ANNOTATION_ABORT}=${abort} while ${s.phase ?? ''}`,
    );
    return true;
  }
  emit(
    d,
    'Normal',
    Reason.AbortIgnored,
    `${ANNOTATION_ABORT}=${abort}: no rollout in progress, nothing to abort`,
  );
  return false;
}

/** A revision that is not stable yet: roll it out, verify it, then promote or fail it. */
async function followNewRevision(d: Draft): Promise<void> {
  const { now, spec, pods, appliedRevision: revision } = d.input;
  const s = d.status;
  const moving = s.phase === 'Progressing' || s.phase === 'Verifying';
  if (!moving || s.currentRevision !== revision || s.rolloutStartedAt === undefined) startRollout(d);

  if (s.phase === 'Progressing') {
    const startedAt = new Date(s.rolloutStartedAt ?? now.toISOString());
    const health = judgeHealth(d, revision, pods, startedAt);
    if (health.state === 'Failed') {
      failRollout(d, health.reason, health.message);
      return;
    }
    if (health.state === 'Progressing') {
      condition(d, 'Progressing', 'True', Reason.RolloutInProgress, health.message);
      requeueIn(d, Math.min(POLL_MS, msUntilDeadline(spec, startedAt, now)));
      return;
    }
    const { smoke, analysis } = spec.rollout.verification;
    if (!(smoke.enabled && smoke.checks.length > 0) && !analysis.enabled) {
      const why = spec.rollout.verification.enabled
        ? 'no smoke checks and no analysis'
        : 'verification is disabled';
      promote(d, `${health.message}; ${why}`);
      return;
    }
    s.phase = 'Verifying';
    s.verification = newVerification(revision, now);
    emit(d, 'Normal', Reason.RolloutComplete, `${health.message}; verifying`);
  }

  // Verifying: pods that start crash-looping or lose their image still fail the rollout.
  const podFailure = findPodFailure(pods, revision, spec.rollout.crashLoopRestartThreshold);
  if (podFailure) {
    failRollout(d, podFailure.reason, podFailure.message);
    return;
  }
  const outcome = await verifyStep({
    verification: s.verification?.revision === revision ? s.verification : newVerification(revision, now),
    spec,
    pods: readyPods(d.input),
    verifier: d.input.verifier,
    measure: d.input.measure ?? realMeasure,
    now,
  });
  s.verification = outcome.verification;
  if (outcome.smokePassedNow) {
    emit(
      d,
      'Normal',
      Reason.SmokeTestPassed,
      `revision ${revision}: ${outcome.verification.lastMessage ?? ''}`,
    );
  }
  if (outcome.kind === 'failed') failRollout(d, outcome.reason, outcome.message);
  else if (outcome.kind === 'passed') promote(d, outcome.message);
  else {
    const message = `verifying revision ${revision}: ${outcome.verification.lastMessage ?? ''}`;
    condition(d, 'Progressing', 'True', Reason.Verifying, message);
    requeueIn(d, outcome.requeueAfterMs);
  }
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
function finish(d: Draft): void {
  const { deployment, generation } = d.input;
  const s = d.status;
  const available = availability(deployment);
  const serving = s.stableRevision ? `; stable revision ${s.stableRevision}` : '';
  condition(d, available.type, available.status, available.reason, `${available.message}${serving}`);
  if (!s.conditions?.some((c) => c.type === 'Degraded')) {
    condition(d, 'Degraded', 'False', Reason.AsExpected, 'no failed rollout on record');
  }
  s.conditions = s.conditions?.map((c) => ({ ...c, observedGeneration: generation }));
}
