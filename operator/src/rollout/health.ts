/**
 * Rollout health: is the Deployment's move to a revision still going, done, or failed? Pure; reads the
 * Deployment and the pods as the API server reports them.
 */
import type { V1ContainerStatus, V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { ResolvedSpec } from '../crd/defaults.js';
import { FailureReason } from './conditions.js';
import { deploymentRevision, podRevision } from './revision.js';

export type HealthFailureReason =
  | typeof FailureReason.ProgressDeadlineExceeded
  | typeof FailureReason.ImagePullFailed
  | typeof FailureReason.CrashLooping;

export type RolloutHealth =
  | { state: 'Progressing'; message: string }
  | { state: 'Complete'; message: string }
  | { state: 'Failed'; reason: HealthFailureReason; message: string };

export interface HealthInput {
  deployment: V1Deployment | undefined;
  /** This instance's API pods, any revision. */
  pods: readonly V1Pod[];
  revision: string;
  spec: Pick<ResolvedSpec, 'rollout'>;
  startedAt: Date;
  now: Date;
}

/**
 * Slack on our own clock-based deadline, for reconcile latency: the Deployment's own
 * ProgressDeadlineExceeded (which measures from the last progress) usually has the better message.
 */
export const DEADLINE_GRACE_SECONDS = 5;

/**
 * Waiting reasons that fail a rollout at once. The kubelet retries pulls with a back-off, but an image
 * that could not be pulled once in a rollout is almost always a wrong tag or missing credentials; the
 * retry annotation covers the rare registry blip.
 */
const IMAGE_PULL_FAILURES = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
]);

export function assessRolloutHealth(input: HealthInput): RolloutHealth {
  const { deployment, revision, now, startedAt } = input;
  const podFailure = findPodFailure(input.pods, revision, input.spec.rollout.crashLoopRestartThreshold);
  if (podFailure) return podFailure;

  const progress = deployment ? describeProgress(deployment) : 'the Deployment does not exist yet';
  if (deployment && isComplete(deployment, revision)) {
    return { state: 'Complete', message: `revision ${revision} rolled out: ${progress}` };
  }

  const observed = deployment !== undefined && observesRevision(deployment, revision);
  const stalled = observed
    ? deployment.status?.conditions?.find(
        (c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded',
      )
    : undefined;
  if (stalled) {
    return {
      state: 'Failed',
      reason: FailureReason.ProgressDeadlineExceeded,
      message: `revision ${revision}: ${stalled.message ?? 'the Deployment exceeded its progress deadline'} (${progress})`,
    };
  }

  const deadlineSeconds = input.spec.rollout.progressDeadlineSeconds;
  const elapsedMs = now.getTime() - startedAt.getTime();
  if (elapsedMs > (deadlineSeconds + DEADLINE_GRACE_SECONDS) * 1000) {
    return {
      state: 'Failed',
      reason: FailureReason.ProgressDeadlineExceeded,
      message: `revision ${revision} did not complete within progressDeadlineSeconds=${deadlineSeconds} (${progress})`,
    };
  }
  return { state: 'Progressing', message: `rolling out revision ${revision}: ${progress}` };
}

/** Milliseconds until the clock-based deadline fails the rollout; never negative. */
export function msUntilDeadline(spec: Pick<ResolvedSpec, 'rollout'>, startedAt: Date, now: Date): number {
  const deadline =
    startedAt.getTime() + (spec.rollout.progressDeadlineSeconds + DEADLINE_GRACE_SECONDS) * 1000;
  return Math.max(0, deadline - now.getTime());
}

/**
 * A pod of `revision` that cannot become healthy: an image that does not pull, or a container that has
 * restarted `restartThreshold` times (one crash at start-up, e.g. a dependency not ready yet, is tolerated).
 */
export function findPodFailure(
  pods: readonly V1Pod[],
  revision: string,
  restartThreshold: number,
): Extract<RolloutHealth, { state: 'Failed' }> | undefined {
  for (const pod of pods) {
    if (podRevision(pod) !== revision || pod.metadata?.deletionTimestamp) continue;
    const name = pod.metadata?.name ?? '<unnamed>';
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const status of statuses) {
      const waiting = status.state?.waiting;
      if (waiting?.reason && IMAGE_PULL_FAILURES.has(waiting.reason)) {
        return {
          state: 'Failed',
          reason: FailureReason.ImagePullFailed,
          message: `pod ${name} container ${status.name}: ${waiting.reason}: ${waiting.message ?? `cannot pull ${status.image}`}`,
        };
      }
      if (status.restartCount >= restartThreshold) {
        return {
          state: 'Failed',
          reason: FailureReason.CrashLooping,
          message: `pod ${name} container ${status.name} restarted ${status.restartCount} times (threshold ${restartThreshold})${describeCrash(status)}`,
        };
      }
    }
  }
  return undefined;
}

function describeCrash(status: V1ContainerStatus): string {
  const parts: string[] = [];
  const last = status.lastState?.terminated;
  if (last) parts.push(`last exit: ${last.reason ?? 'terminated'} (exit code ${last.exitCode})`);
  const waiting = status.state?.waiting;
  if (waiting?.reason) parts.push(`now ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`);
  return parts.length > 0 ? `; ${parts.join('; ')}` : '';
}

/** The controller has seen the current spec, and that spec's template is `revision`. */
function observesRevision(deployment: V1Deployment, revision: string): boolean {
  const generation = deployment.metadata?.generation ?? 0;
  return (
    (deployment.status?.observedGeneration ?? -1) >= generation && deploymentRevision(deployment) === revision
  );
}

function isComplete(deployment: V1Deployment, revision: string): boolean {
  if (!observesRevision(deployment, revision)) return false;
  const desired = deployment.spec?.replicas ?? 1;
  const status = deployment.status;
  const updated = status?.updatedReplicas ?? 0;
  const available = status?.availableReplicas ?? 0;
  return updated === desired && available >= desired && (status?.replicas ?? 0) === updated;
}

function describeProgress(deployment: V1Deployment): string {
  const desired = deployment.spec?.replicas ?? 1;
  const s = deployment.status;
  const updated = s?.updatedReplicas ?? 0;
  const old = Math.max(0, (s?.replicas ?? 0) - updated);
  return `${updated} of ${desired} updated, ${s?.availableReplicas ?? 0} available, ${old} old replicas left`;
}
