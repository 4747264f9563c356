/**
 * The reconciler's part of backups: whether the claim a restore names may be used, and what the backup
 * pods say, turned into status, the Backup condition and one event per backup that ended.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { backupName } from '../builders/backup.js';
import type { BackupDecision } from '../backup/decision.js';
import { backupCondition, finishedBackups, nextBackupStatus } from '../backup/status.js';
import type { ResolvedSpec } from '../crd/defaults.js';
import { KINDS, typeMeta } from '../crd/kinds.js';
import { APP_NAME, COMPONENT_LABEL, MANAGED_BY, MANAGED_BY_LABEL, NAME_LABEL } from '../crd/labels.js';
import type { BackupStatus, HelloWorld } from '../crd/types.js';
import { Reason } from '../rollout/conditions.js';
import type { ChildReads } from './child-reads.js';
import type { ClusterReader } from './cluster-reader.js';

/** The labels every backup claim the operator made carries, whichever HelloWorld made it. */
const BACKUP_CLAIM_LABELS = {
  [NAME_LABEL]: APP_NAME,
  [COMPONENT_LABEL]: 'redis-backup',
  [MANAGED_BY_LABEL]: MANAGED_BY,
};

/**
 * Why Redis cannot be created with the restore the spec asks for, or undefined when it can. Only a
 * backup claim is accepted: restoreFrom must not become a way to mount any claim of the namespace into a
 * pod of the operator's making.
 */
export async function restoreBlock(
  reads: ChildReads,
  hw: HelloWorld,
  spec: ResolvedSpec,
): Promise<{ reason: string; message: string } | undefined> {
  const restore = spec.redis.mode === 'Managed' ? spec.redis.restoreFrom : undefined;
  if (restore === undefined) return undefined;
  const claim = await reads.find({ ...typeMeta(KINDS.PersistentVolumeClaim), name: restore.claimName });
  const what = `PersistentVolumeClaim ${restore.claimName} (spec.redis.restoreFrom.claimName)`;
  const until = 'Redis and the API pods are not changed until it is, or restoreFrom is removed';
  if (claim === undefined) {
    return {
      reason: Reason.RestoreClaimInvalid,
      message: `${what} does not exist in namespace ${hw.metadata.namespace}; ${until}`,
    };
  }
  const labels = claim.metadata?.labels ?? {};
  if (Object.entries(BACKUP_CLAIM_LABELS).some(([key, value]) => labels[key] !== value)) {
    const wanted = Object.entries(BACKUP_CLAIM_LABELS).map(([k, v]) => `${k}=${v}`);
    return {
      reason: Reason.RestoreClaimInvalid,
      message: `${what} is not a HelloWorld backup claim (it lacks the labels ${wanted.join(', ')}): only a claim the operator made for backups can be restored from; ${until}`,
    };
  }
  return undefined;
}

export interface BackupOutcome {
  status: BackupStatus | undefined;
  condition: ReturnType<typeof backupCondition>;
  /** One per backup that ended since the stored status. */
  events: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
}

export function backupOutcome(
  hw: HelloWorld,
  pods: readonly V1Pod[],
  decision: BackupDecision,
): BackupOutcome {
  const stored = hw.status?.backup;
  const status = nextBackupStatus(stored, finishedBackups(pods), decision);
  const events: BackupOutcome['events'] = [];
  if (status?.lastSuccessTime !== undefined && status.lastSuccessTime !== stored?.lastSuccessTime) {
    const message = `backup ${status.lastFile ?? ''} (${String(status.lastSizeBytes ?? 0)} bytes) finished at ${status.lastSuccessTime}`;
    events.push({ type: 'Normal', reason: Reason.BackupSucceeded, message });
  }
  if (status?.lastFailureTime !== undefined && status.lastFailureTime !== stored?.lastFailureTime) {
    const message = `backup failed at ${status.lastFailureTime}: ${status.lastFailureMessage ?? ''}`;
    events.push({ type: 'Warning', reason: Reason.BackupFailed, message });
  }
  return { status, condition: backupCondition(decision, status), events };
}

/** When the backup CronJob was created: the age of the backups until the first one ends. */
export function backupSince(reader: ClusterReader, hw: HelloWorld): Date | undefined {
  const ref = { ...typeMeta(KINDS.CronJob), namespace: hw.metadata.namespace, name: backupName(hw) };
  const created = reader.getChild(ref)?.metadata?.creationTimestamp as Date | string | undefined;
  return created === undefined ? undefined : new Date(created);
}
