/**
 * What the backups did, read from the pods the backup CronJob ran: pure functions from those pods and
 * the stored status to the next `status.backup` and the Backup condition. A pod's termination message is
 * written by whatever runs in it (spec.redis.image is the user's), so it is parsed strictly and never
 * trusted beyond a backup file name and a byte count.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { BACKUP_FILE_PATTERN } from '../builders/backup.js';
import type { BackupStatus, ConditionStatus } from '../crd/types.js';
import { Reason } from '../rollout/conditions.js';
import type { BackupDecision } from './decision.js';

/** What a successful backup pod reports. */
export interface BackupReport {
  file: string;
  bytes: number;
}

/** A longer message is not one the backup script wrote. */
const REPORT_MAX_CHARS = 256;
/** Longest failure message kept in status (the schema's maxLength). */
const FAILURE_MAX_CHARS = 512;

/** The report of a successful backup pod, or undefined when the message is not exactly one. */
export function parseBackupReport(message: string | undefined): BackupReport | undefined {
  if (message === undefined || message.length > REPORT_MAX_CHARS) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { file, bytes, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return undefined;
  if (typeof file !== 'string' || !BACKUP_FILE_PATTERN.test(file)) return undefined;
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) return undefined;
  return { file, bytes };
}

/** One backup pod that ended: when, and with what outcome. */
export type FinishedBackup =
  { time: string; ok: true; report: BackupReport } | { time: string; ok: false; message: string };

/**
 * The backup pods (the instance's pods labelled as backups) that ended. Only pods a Job controls count:
 * the CronJob's scheduled Jobs, and those made from it by hand (`kubectl create job --from=cronjob/…`,
 * under any name). Whoever can create pods in the namespace could fake one, but could as well delete
 * the backups: what a backup pod says is only ever shown for its own HelloWorld.
 */
export function finishedBackups(pods: readonly V1Pod[]): FinishedBackup[] {
  const result: FinishedBackup[] = [];
  for (const pod of pods) {
    const controller = pod.metadata?.ownerReferences?.find((ref) => ref.controller === true);
    if (controller?.kind !== 'Job') continue;
    const phase = pod.status?.phase;
    if (phase !== 'Succeeded' && phase !== 'Failed') continue;
    const terminated = pod.status?.containerStatuses?.find((c) => c.name === 'backup')?.state?.terminated;
    const finishedAt = terminated?.finishedAt as Date | string | undefined;
    if (finishedAt === undefined) continue;
    const time = new Date(finishedAt).toISOString();
    const report = phase === 'Succeeded' ? parseBackupReport(terminated?.message) : undefined;
    if (report) result.push({ time, ok: true, report });
    else
      result.push({
        time,
        ok: false,
        message:
          phase === 'Succeeded'
            ? 'the backup pod ended without a readable report of its file and size'
            : failureMessage(terminated?.message, terminated?.exitCode, terminated?.reason),
      });
  }
  return result;
}

/** The failed pod's own words, made printable and short, or its exit code and reason. */
function failureMessage(
  message: string | undefined,
  exitCode: number | undefined,
  reason: string | undefined,
) {
  // Control characters and quotes are dropped: the text lands in a condition, an event and logs.
  const text = (message ?? '').replace(/[^\x20-\x7e]/g, ' ').trim();
  if (text !== '') return text.length > FAILURE_MAX_CHARS ? `${text.slice(0, FAILURE_MAX_CHARS - 1)}…` : text;
  return `the backup pod failed (exit code ${String(exitCode ?? 'unknown')}${reason ? `, ${reason}` : ''})`;
}

const newest = <T extends { time: string }>(items: readonly T[]): T | undefined =>
  items.reduce<T | undefined>(
    (best, item) => (best === undefined || item.time > best.time ? item : best),
    undefined,
  );

/**
 * The next `status.backup`: the newest success seen (in the pods, or kept from the stored status once
 * the Jobs' history no longer holds its pod), and the newest failure while it is newer than that success.
 * Undefined when backups are not wanted.
 */
export function nextBackupStatus(
  stored: BackupStatus | undefined,
  finished: readonly FinishedBackup[],
  decision: BackupDecision,
): BackupStatus | undefined {
  if (!decision.wanted) return undefined;
  const success = newest(finished.filter((b) => b.ok));
  const failure = newest(finished.filter((b) => !b.ok));
  const status: BackupStatus = {};
  if (success && (stored?.lastSuccessTime === undefined || success.time >= stored.lastSuccessTime)) {
    status.lastSuccessTime = success.time;
    status.lastFile = success.report.file;
    status.lastSizeBytes = success.report.bytes;
  } else if (stored?.lastSuccessTime !== undefined) {
    status.lastSuccessTime = stored.lastSuccessTime;
    if (stored.lastFile !== undefined) status.lastFile = stored.lastFile;
    if (stored.lastSizeBytes !== undefined) status.lastSizeBytes = stored.lastSizeBytes;
  }
  const lastFailure =
    failure ??
    (stored?.lastFailureTime !== undefined
      ? { time: stored.lastFailureTime, message: stored.lastFailureMessage ?? '' }
      : undefined);
  if (lastFailure && (status.lastSuccessTime === undefined || lastFailure.time > status.lastSuccessTime)) {
    status.lastFailureTime = lastFailure.time;
    status.lastFailureMessage = lastFailure.message;
  }
  if (decision.maxAgeSeconds !== undefined) status.maxAgeSeconds = decision.maxAgeSeconds;
  else if (stored?.maxAgeSeconds !== undefined) status.maxAgeSeconds = stored.maxAgeSeconds;
  return status;
}

/** The Backup condition; undefined when backups are not wanted (the condition is then removed). */
export function backupCondition(
  decision: BackupDecision,
  status: BackupStatus | undefined,
): { type: 'Backup'; status: ConditionStatus; reason: string; message: string } | undefined {
  if (!decision.wanted) return undefined;
  if (decision.error !== undefined) {
    const message = `${decision.error}; the backup CronJob is left as it was until the schedule is fixed`;
    return { type: 'Backup', status: 'False', reason: Reason.BackupScheduleInvalid, message };
  }
  if (status?.lastFailureTime !== undefined) {
    const message = `the newest backup failed at ${status.lastFailureTime}: ${status.lastFailureMessage ?? ''}`;
    return { type: 'Backup', status: 'False', reason: Reason.BackupFailed, message };
  }
  if (status?.lastSuccessTime !== undefined) {
    const message = `the newest backup ${status.lastFile ?? ''} (${String(status.lastSizeBytes ?? 0)} bytes) finished at ${status.lastSuccessTime}`;
    return { type: 'Backup', status: 'True', reason: Reason.BackupSucceeded, message };
  }
  const message = `no backup has finished yet (schedule "${decision.schedule ?? ''}", UTC)`;
  return { type: 'Backup', status: 'Unknown', reason: Reason.NoBackupYet, message };
}
