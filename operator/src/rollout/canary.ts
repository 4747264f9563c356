/**
 * The Canary strategy's flow: the spec's revision runs in the canary Deployment beside the untouched
 * stable pods and goes through spec.rollout.steps one at a time; once every step passed, the stable
 * Deployment takes the revision and the canary Deployment goes. Where it stands lives in status.canary,
 * so an operator restarted at any step carries on at that step. A failure at any step rolls back by
 * removing the canary Deployment: the stable pods never changed, so nothing else has to move.
 *
 *   canary(n) ──ready──▶ verify ──pass──▶ pause ──time / promote──▶ … ──▶ promoting ──▶ Available
 *        └──────── crash, deadline, failed check, timed-out pause, abort ──▶ RolledBack
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { ResolvedStep } from '../crd/defaults.js';
import { API_PORT } from '../crd/defaults.js';
import { CANARY_TRACK, TRACK_LABEL } from '../crd/labels.js';
import { ANNOTATION_PROMOTE, type CanaryStatus } from '../crd/types.js';
import type { PodRef } from '../verification/types.js';
import { describeStep } from './canary-plan.js';
import { isMoving } from './phases.js';
import { FailureReason, Reason } from './conditions.js';
import { findPodFailure, msUntilDeadline, DEADLINE_GRACE_SECONDS } from './health.js';
import { podRevision } from './revision.js';
import {
  POLL_MS,
  condition,
  emit,
  failRollout,
  judgeHealth,
  previousReason,
  promote,
  requeueIn,
  startRollout,
  verifyPods,
  type Draft,
} from './transitions.js';
import { newVerification } from './verify.js';

/** A canary rollout of the spec's revision (the draft's applied revision): its current step. */
export async function followCanary(draft: Draft): Promise<void> {
  const { now, spec, appliedRevision: revision } = draft.input;
  const status = draft.status;
  const steps = spec.rollout.steps;
  const fresh =
    status.canary?.revision !== revision ||
    !isMoving(status.phase) ||
    status.currentRevision !== revision ||
    status.rolloutStartedAt === undefined;
  if (fresh) {
    startRollout(draft);
    status.canary = newCanary(revision, steps.length, now);
  }
  const canary = { ...(status.canary ?? newCanary(revision, steps.length, now)) };
  status.canary = canary;
  countPods(draft, canary);
  if (takePromotion(draft, canary)) {
    requeueIn(draft, 0);
    return;
  }
  const step = steps[canary.stepIndex];
  if (step === undefined) followPromotion(draft, canary);
  else await followStep(draft, canary, step);
}

function newCanary(revision: string, steps: number, now: Date): CanaryStatus {
  return {
    revision,
    stepIndex: 0,
    steps,
    stepStartedAt: now.toISOString(),
    replicas: 0,
    readyReplicas: 0,
    stableReplicas: 0,
  };
}

async function followStep(draft: Draft, canary: CanaryStatus, step: ResolvedStep): Promise<void> {
  const { now, spec } = draft.input;
  const status = draft.status;
  const failure = findPodFailure(canaryPods(draft), canary.revision, spec.rollout.crashLoopRestartThreshold);
  if (failure) {
    failCanary(draft, canary, failure.reason, failure.message);
    return;
  }
  const startedAt = new Date(canary.stepStartedAt);
  if (step.kind === 'canary') {
    const wanted = draft.input.canary?.replicas ?? 0;
    if (canary.readyReplicas >= wanted) {
      advance(draft, canary, `${canary.readyReplicas} canary pods ready`);
      return;
    }
    if (msUntilDeadline(spec, startedAt, now) <= 0) {
      const deadline = spec.rollout.progressDeadlineSeconds;
      const message = `${canary.readyReplicas} of ${wanted} canary pods ready after progressDeadlineSeconds=${deadline} (+${DEADLINE_GRACE_SECONDS} s)`;
      failCanary(draft, canary, FailureReason.ProgressDeadlineExceeded, message);
      return;
    }
    status.phase = 'Progressing';
    const message = `${canary.readyReplicas} of ${wanted} canary pods ready`;
    condition(draft, 'Progressing', 'True', Reason.CanaryStep, stepText(draft, canary, message));
    requeueIn(draft, Math.min(POLL_MS, msUntilDeadline(spec, startedAt, now)));
    return;
  }
  if (step.kind === 'verify') {
    await followVerify(draft, canary);
    return;
  }
  followPause(draft, canary, step);
}

async function followVerify(draft: Draft, canary: CanaryStatus): Promise<void> {
  const { now } = draft.input;
  const status = draft.status;
  const current = status.verification;
  const verification =
    current?.revision === canary.revision && current.startedAt >= canary.stepStartedAt
      ? current
      : newVerification(canary.revision, now);
  const subject = `canary of revision ${canary.revision}`;
  // The stable pods over the same intervals: the canary is judged against them too (verification.md).
  const baseline = readyRefs(stablePods(draft));
  const outcome = await verifyPods(draft, verification, readyRefs(canaryPods(draft)), subject, baseline);
  if (outcome.kind === 'failed') failCanary(draft, canary, outcome.reason, outcome.message);
  else if (outcome.kind === 'passed') advance(draft, canary, outcome.message);
  else {
    status.phase = 'Verifying';
    const message = outcome.verification.lastMessage ?? 'verifying the canary pods';
    condition(draft, 'Progressing', 'True', Reason.Verifying, stepText(draft, canary, message));
    requeueIn(draft, outcome.requeueAfterMs);
  }
}

function followPause(
  draft: Draft,
  canary: CanaryStatus,
  step: Extract<ResolvedStep, { kind: 'pause' }>,
): void {
  const { now } = draft.input;
  const status = draft.status;
  const elapsedMs = now.getTime() - new Date(canary.stepStartedAt).getTime();
  if (step.durationSeconds !== undefined) {
    const leftMs = step.durationSeconds * 1000 - elapsedMs;
    if (leftMs <= 0) {
      advance(draft, canary, `paused ${step.durationSeconds} s`);
      return;
    }
    status.phase = 'Paused';
    const message = `paused for ${step.durationSeconds} s, ${Math.ceil(leftMs / 1000)} s left`;
    condition(draft, 'Progressing', 'True', Reason.RolloutPaused, stepText(draft, canary, message));
    requeueIn(draft, leftMs);
    return;
  }
  if (step.timeoutSeconds !== undefined && elapsedMs >= step.timeoutSeconds * 1000) {
    const message = `nobody promoted within the pause's timeout of ${step.timeoutSeconds} s`;
    if (step.onTimeout === 'Promote') advance(draft, canary, `${message}: promoted as onTimeout says`);
    else failCanary(draft, canary, FailureReason.PauseTimedOut, `${message}: rolled back as onTimeout says`);
    return;
  }
  status.phase = 'Paused';
  const until =
    step.timeoutSeconds === undefined ? '' : ` (${step.onTimeout} after ${step.timeoutSeconds} s)`;
  const message = stepText(draft, canary, `waiting for a new value of ${ANNOTATION_PROMOTE}${until}`);
  // Announced once: a person is waited for.
  if (previousReason(draft, 'Progressing') !== Reason.RolloutPaused)
    emit(draft, 'Normal', Reason.RolloutPaused, message);
  condition(draft, 'Progressing', 'True', Reason.RolloutPaused, message);
  if (step.timeoutSeconds !== undefined) requeueIn(draft, step.timeoutSeconds * 1000 - elapsedMs);
}

/** Every step passed: the stable Deployment rolls to the revision; done, it becomes the stable one. */
function followPromotion(draft: Draft, canary: CanaryStatus): void {
  const { appliedRevision: revision, pods } = draft.input;
  const status = draft.status;
  const health = judgeHealth(draft, revision, pods, new Date(canary.stepStartedAt));
  if (health.state === 'Failed') {
    failCanary(draft, canary, health.reason, health.message);
    return;
  }
  if (health.state === 'Progressing') {
    status.phase = 'Progressing';
    condition(draft, 'Progressing', 'True', Reason.CanaryPromoting, stepText(draft, canary, health.message));
    requeueIn(draft, POLL_MS);
    return;
  }
  status.canary = undefined;
  status.verification = undefined;
  promote(draft, `every canary step passed (${canary.steps}); ${health.message}`);
  requeueIn(draft, 0); // the canary Deployment goes with the next look
}

/** A new hello.dev/promote value ends the step in progress at once, with who set it. */
function takePromotion(draft: Draft, canary: CanaryStatus): boolean {
  const { annotations, gateActors } = draft.input;
  const value = annotations[ANNOTATION_PROMOTE];
  if (value === undefined || value === draft.status.observedPromote) return false;
  draft.status.observedPromote = value;
  const by = gateActors?.[ANNOTATION_PROMOTE] ?? '';
  if (canary.stepIndex >= canary.steps) {
    emit(
      draft,
      'Normal',
      Reason.PromoteIgnored,
      `${ANNOTATION_PROMOTE}=${value}${by}: every step passed already`,
    );
    return false;
  }
  const step = describeStep(draft.input.spec.rollout.steps, canary.stepIndex);
  emit(draft, 'Normal', Reason.StepPromoted, `step ${step} ended by ${ANNOTATION_PROMOTE}=${value}${by}`);
  moveOn(draft, canary);
  return true;
}

function advance(draft: Draft, canary: CanaryStatus, why: string): void {
  const step = describeStep(draft.input.spec.rollout.steps, canary.stepIndex);
  emit(draft, 'Normal', Reason.CanaryStepPassed, `revision ${canary.revision}: step ${step} passed: ${why}`);
  moveOn(draft, canary);
  // The next step may ask for another canary count, or the stable Deployment: decided on the next look.
  requeueIn(draft, 0);
}

function moveOn(draft: Draft, canary: CanaryStatus): void {
  canary.stepIndex += 1;
  canary.message = describeStep(draft.input.spec.rollout.steps, canary.stepIndex);
  canary.stepStartedAt = draft.input.now.toISOString();
  draft.status.verification = undefined;
  draft.status.phase = 'Progressing';
}

function failCanary(draft: Draft, canary: CanaryStatus, reason: FailureReason, message: string): void {
  const step = describeStep(draft.input.spec.rollout.steps, canary.stepIndex);
  failRollout(
    draft,
    reason,
    `at step ${step}: ${message}; the ${canary.readyReplicas} canary pods are removed, the ${canary.stableReplicas} stable pods kept serving`,
  );
}

/** The Progressing message of a step; its short form is status.canary.message (a printer column). */
function stepText(draft: Draft, canary: CanaryStatus, message: string): string {
  const step = describeStep(draft.input.spec.rollout.steps, canary.stepIndex);
  canary.message = `${step}: ${message}`.slice(0, 1024);
  return `canary of revision ${canary.revision}, step ${step}: ${message} (${canary.readyReplicas} canary and ${canary.stableReplicas} stable pods ready)`;
}

/** The canary Deployment's pods of the revision (not terminating). */
function canaryPods(draft: Draft): V1Pod[] {
  const revision = draft.input.appliedRevision;
  return draft.input.pods.filter(
    (p) =>
      p.metadata?.labels?.[TRACK_LABEL] === CANARY_TRACK &&
      podRevision(p) === revision &&
      !p.metadata.deletionTimestamp,
  );
}

/** The stable revision's pods (not terminating). */
function stablePods(draft: Draft): V1Pod[] {
  const stable = draft.status.stableRevision;
  return draft.input.pods.filter((p) => podRevision(p) === stable && !p.metadata?.deletionTimestamp);
}

function countPods(draft: Draft, canary: CanaryStatus): void {
  canary.replicas = draft.input.canary?.replicas ?? 0;
  canary.readyReplicas = canaryPods(draft).filter(isReady).length;
  canary.stableReplicas = stablePods(draft).filter(isReady).length;
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

function readyRefs(pods: readonly V1Pod[]): PodRef[] {
  return pods
    .filter(isReady)
    .map((p) => ({ namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', port: API_PORT }));
}
