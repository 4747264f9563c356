/**
 * Whether a HelloWorld's managed Redis is backed up, and on what schedule: a schedule the CronJob
 * controller would refuse is caught here, with the reason, before anything is written.
 */
import type { ResolvedSpec } from '../crd/defaults.js';
import { longestGapSeconds, parseSchedule } from './schedule.js';

/** Time one run may take (its deadline), allowed on top of the schedule's longest gap. */
export const BACKUP_RUN_ALLOWANCE_SECONDS = 3600;

export interface BackupDecision {
  /** spec.redis.backup is set on a managed Redis. */
  wanted: boolean;
  /** The schedule, once it parsed; undefined when not wanted or invalid. */
  schedule?: string;
  /** How old the newest backup may be: the schedule's longest gap plus one run's allowance. */
  maxAgeSeconds?: number;
  /** Why the schedule cannot be used. */
  error?: string;
}

export function backupDecision(spec: ResolvedSpec): BackupDecision {
  const backup = spec.redis.mode === 'Managed' ? spec.redis.backup : undefined;
  if (backup === undefined) return { wanted: false };
  const parsed = parseSchedule(backup.schedule);
  if (!parsed.ok) return { wanted: true, error: parsed.error };
  return {
    wanted: true,
    schedule: backup.schedule,
    maxAgeSeconds: longestGapSeconds(parsed.schedule) + BACKUP_RUN_ALLOWANCE_SECONDS,
  };
}
