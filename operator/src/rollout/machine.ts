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
import { ANNOTATION_ABORT, ANNOTATION_PAUSE, ANNOTATION_PROMOTE, ANNOTATION_RETRY } from '../crd/types.js';
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
  verifyPods,
  type Draft,
} from './transitions.js';
import { retryRequested } from './template.js';
import type { RolloutDecision, RolloutInput } from './types.js';
import { followRollback, followStable, holdFailed } from './after-verdict.js';
import { newVerification } from './verify.js';
import { followCanary } from './canary.js';
import { pauseRequested } from './gates.js';
import { isMoving } from './phases.js';

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
  // While the stable Deployment holds the stable template, the revision under judgement is the canary's.
  const draft = newDraft(
    input.canary?.holdStable ? { ...input, appliedRevision: input.specRevision } : input,
  );
  handleRetry(draft);
  if (!handleAbort(draft) && !handlePause(draft)) {
    if (draft.input.canary) await followCanary(draft);
    else await followRolling(draft);
  }
  finish(draft);
  return toDecision(draft);
}

/** The Rolling strategy, and every revision of the Canary strategy once it is judged (or the first). */
async function followRolling(draft: Draft): Promise<void> {
  const { appliedRevision: applied, specRevision } = draft.input;
  const { stableRevision: stable, failedRevision: failed } = draft.status;
  draft.status.canary = undefined;
  if (failed === applied && applied !== stable) holdFailed(draft);
  else if (applied === stable && specRevision !== stable && failed === specRevision) followRollback(draft);
  else if (applied === stable) followStable(draft);
  else if (!promotedByHand(draft)) await followNewRevision(draft);
}

/**
 * A new hello.dev/promote value during a Rolling strategy's verification promotes at once, skipping what
 * is left of it; at any other time it is only recorded.
 */
function promotedByHand(draft: Draft): boolean {
  const { annotations, gateActors, appliedRevision } = draft.input;
  const status = draft.status;
  const value = annotations[ANNOTATION_PROMOTE];
  if (value === undefined || value === status.observedPromote) return false;
  status.observedPromote = value;
  const who = `${ANNOTATION_PROMOTE}=${value}${gateActors?.[ANNOTATION_PROMOTE] ?? ''}`;
  if (status.phase === 'Verifying' && status.currentRevision === appliedRevision) {
    promote(draft, `verification skipped by ${who}`);
    return true;
  }
  emit(draft, 'Normal', Reason.PromoteIgnored, `${who}: no verification or canary step in progress to end`);
  return false;
}

/**
 * hello.dev/pause holds a rollout in flight where it stands (the reconciler pauses the Deployment too);
 * removing it resumes, with the time spent paused taken off every clock the rollout is judged by.
 */
function handlePause(draft: Draft): boolean {
  const { annotations, now, appliedRevision, gateActors } = draft.input;
  const status = draft.status;
  const inFlight =
    isMoving(status.phase) && (draft.input.canary !== undefined || appliedRevision !== status.stableRevision);
  if (pauseRequested(annotations) && inFlight) {
    const message = `revision ${appliedRevision} stands still under ${ANNOTATION_PAUSE}=${annotations[ANNOTATION_PAUSE] ?? ''}${gateActors?.[ANNOTATION_PAUSE] ?? ''}; remove the annotation to resume`;
    if (status.pausedAt === undefined) {
      status.pausedAt = now.toISOString();
      emit(draft, 'Normal', Reason.RolloutPaused, message);
    }
    status.phase = 'Paused';
    condition(draft, 'Progressing', 'True', Reason.RolloutPaused, message);
    return true;
  }
  if (status.pausedAt === undefined) return false;
  const pausedMs = Math.max(0, now.getTime() - new Date(status.pausedAt).getTime());
  const later = (iso: string | undefined): string | undefined =>
    iso === undefined ? undefined : new Date(new Date(iso).getTime() + pausedMs).toISOString();
  status.pausedAt = undefined;
  status.rolloutStartedAt = later(status.rolloutStartedAt);
  if (status.canary)
    status.canary = { ...status.canary, stepStartedAt: later(status.canary.stepStartedAt) ?? '' };
  if (status.verification)
    status.verification = { ...status.verification, startedAt: later(status.verification.startedAt) ?? '' };
  const verifying = !draft.input.canary && status.verification?.revision === appliedRevision;
  if (status.phase === 'Paused') status.phase = verifying ? 'Verifying' : 'Progressing';
  emit(
    draft,
    'Normal',
    Reason.RolloutResumed,
    `${ANNOTATION_PAUSE} removed after ${Math.round(pausedMs / 1000)} s: revision ${appliedRevision} carries on`,
  );
  return false;
}

/** A new hello.dev/retry value lets the failed revision roll out again. */
function handleRetry(draft: Draft): void {
  const status = draft.status;
  if (!retryRequested(status, draft.input.annotations)) return;
  status.observedRetry = draft.input.annotations[ANNOTATION_RETRY];
  if (status.failedRevision === undefined) return;
  const by = draft.input.gateActors?.[ANNOTATION_RETRY] ?? '';
  const message = `${ANNOTATION_RETRY}=${status.observedRetry}${by}: revision ${status.failedRevision} may roll out again`;
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
  const applied = draft.input.appliedRevision;
  const by = draft.input.gateActors?.[ANNOTATION_ABORT] ?? '';
  if (isMoving(status.phase) && applied !== status.stableRevision) {
    failRollout(
      draft,
      Reason.Aborted,
      `aborted by annotation ${ANNOTATION_ABORT}=${abort}${by} while ${status.phase ?? ''}`,
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
  if (!isMoving(status.phase) || status.currentRevision !== revision || status.rolloutStartedAt === undefined)
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
  const current = status.verification;
  const verification = current?.revision === revision ? current : newVerification(revision, now);
  const outcome = await verifyPods(draft, verification, readyPods(draft.input), `revision ${revision}`);
  if (outcome.kind === 'failed') failRollout(draft, outcome.reason, outcome.message);
  else if (outcome.kind === 'passed') promote(draft, outcome.message);
  else {
    const message = `verifying revision ${revision}: ${outcome.verification.lastMessage ?? ''}`;
    condition(draft, 'Progressing', 'True', Reason.Verifying, message);
    requeueIn(draft, outcome.requeueAfterMs);
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
