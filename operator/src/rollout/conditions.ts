/**
 * Status conditions of a HelloWorld (metav1.Condition semantics) and every reason they, and the rollout
 * events, can carry. `kubectl wait --for=condition=Available` and `kubectl describe` read these.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import type { Condition, ConditionStatus, ConditionType } from '../crd/types.js';

/** Why a rollout failed; the reason of Degraded=True, of the Warning event and of the rollback metric. */
export const FailureReason = {
  ProgressDeadlineExceeded: 'ProgressDeadlineExceeded',
  ImagePullFailed: 'ImagePullFailed',
  CrashLooping: 'CrashLooping',
  SmokeTestFailed: 'SmokeTestFailed',
  AnalysisFailed: 'AnalysisFailed',
  /** The canary's errors or latency were significantly worse than the stable pods' (analysis.comparison). */
  CanaryWorseThanStable: 'CanaryWorseThanStable',
  Aborted: 'Aborted',
  /** A canary pause waiting for hello.dev/promote timed out with onTimeout: Rollback. */
  PauseTimedOut: 'PauseTimedOut',
} as const;
export type FailureReason = (typeof FailureReason)[keyof typeof FailureReason];

/**
 * Why a reconcile stopped before it touched the pods: Degraded=True with this reason (and a Warning
 * event), which a later reconcile clears once the cause is gone.
 */
export const BlockedReason = {
  /** An object under a child's name is not controlled by this HelloWorld: it is left untouched. */
  ChildConflict: 'ChildConflict',
  /** The external Redis Secret is missing, lacks the key, or holds no redis:// or rediss:// URL. */
  RedisSecretInvalid: 'RedisSecretInvalid',
  /** The managed Redis Secret's password is missing or could change the Redis configuration. */
  RedisPasswordInvalid: 'RedisPasswordInvalid',
  /** spec.serviceAccount.name names a ServiceAccount that does not exist in the namespace. */
  ServiceAccountNotFound: 'ServiceAccountNotFound',
  /** spec.redis.restoreFrom names a claim that does not exist or is not a HelloWorld backup claim. */
  RestoreClaimInvalid: 'RestoreClaimInvalid',
} as const;
export type BlockedReason = (typeof BlockedReason)[keyof typeof BlockedReason];

/** The reason of the Monitoring condition: whether a ServiceMonitor and PrometheusRule were generated. */
export const MonitoringReason = {
  MonitoringEnabled: 'MonitoringEnabled',
  MonitoringDisabled: 'MonitoringDisabled',
  PrometheusOperatorNotInstalled: 'PrometheusOperatorNotInstalled',
} as const;
export type MonitoringReason = (typeof MonitoringReason)[keyof typeof MonitoringReason];

/** Every condition and event reason the operator writes, in one place; each is written somewhere. */
export const Reason = {
  ...FailureReason,
  ...BlockedReason,
  ...MonitoringReason,
  Reconciled: 'Reconciled',
  ReconcileFailed: 'ReconcileFailed',
  RolloutStarted: 'RolloutStarted',
  RolloutInProgress: 'RolloutInProgress',
  RolloutComplete: 'RolloutComplete',
  Verifying: 'Verifying',
  SmokeTestPassed: 'SmokeTestPassed',
  /** A dry-run check (smoke check, thresholds, comparison) would have failed the rollout; once per verification. */
  DryRunWouldFail: 'DryRunWouldFail',
  RolloutSucceeded: 'RolloutSucceeded',
  StableRevisionRestored: 'StableRevisionRestored',
  RollbackInProgress: 'RollbackInProgress',
  RolledBack: 'RolledBack',
  RollbackComplete: 'RollbackComplete',
  RollbackStalled: 'RollbackStalled',
  RetryRequested: 'RetryRequested',
  AbortIgnored: 'AbortIgnored',
  CanaryStepPassed: 'CanaryStepPassed',
  CanaryStep: 'CanaryStep',
  CanaryPromoting: 'CanaryPromoting',
  StepPromoted: 'StepPromoted',
  PromoteIgnored: 'PromoteIgnored',
  RolloutPaused: 'RolloutPaused',
  RolloutResumed: 'RolloutResumed',
  AsExpected: 'AsExpected',
  MinimumReplicasAvailable: 'MinimumReplicasAvailable',
  MinimumReplicasUnavailable: 'MinimumReplicasUnavailable',
  /** The managed Redis Secret was gone: a new password was generated and Redis and the API rolled. */
  RedisPasswordRegenerated: 'RedisPasswordRegenerated',
  /** The Backup condition (spec.redis.backup), and the events of each backup that ended. */
  BackupSucceeded: 'BackupSucceeded',
  BackupFailed: 'BackupFailed',
  BackupScheduleInvalid: 'BackupScheduleInvalid',
  NoBackupYet: 'NoBackupYet',
  /** The Notifications condition (notify/ledger.ts): the webhook took the last notification, or did not. */
  NotificationsDelivered: 'NotificationsDelivered',
  WebhookFailed: 'WebhookFailed',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export interface ConditionUpdate {
  type: ConditionType;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/**
 * Sets one condition, keeping lastTransitionTime when the status did not change (reason and message may
 * still change). Returns a new array; the order of existing conditions is kept.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  observedGeneration: number,
  now: Date,
): Condition[] {
  const list = conditions ?? [];
  const existing = list.find((c) => c.type === update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    observedGeneration,
    lastTransitionTime:
      existing && existing.status === update.status ? existing.lastTransitionTime : now.toISOString(),
    reason: update.reason,
    message: update.message,
  };
  return existing ? list.map((c) => (c.type === update.type ? next : c)) : [...list, next];
}

export function getCondition(
  conditions: readonly Condition[] | undefined,
  type: ConditionType,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: ConditionType): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

/**
 * Available: the service answers. True when the Deployment reports Available (enough replicas for its
 * maxUnavailable) and at least one replica is available, whichever revision serves.
 */
export function availability(deployment: V1Deployment | undefined): ConditionUpdate {
  if (!deployment) {
    return {
      type: 'Available',
      status: 'False',
      reason: Reason.MinimumReplicasUnavailable,
      message: 'the Deployment does not exist yet',
    };
  }
  const desired = deployment.spec?.replicas ?? 1;
  const available = deployment.status?.availableReplicas ?? 0;
  const deploymentAvailable =
    deployment.status?.conditions?.find((c) => c.type === 'Available')?.status === 'True';
  const counts = `${available} of ${desired} replicas available`;
  return deploymentAvailable && available >= 1
    ? { type: 'Available', status: 'True', reason: Reason.MinimumReplicasAvailable, message: counts }
    : { type: 'Available', status: 'False', reason: Reason.MinimumReplicasUnavailable, message: counts };
}
