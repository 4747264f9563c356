/**
 * Backups of the managed Redis (spec.redis.backup) and the restore of one into a new volume
 * (spec.redis.restoreFrom). A CronJob copies a consistent snapshot with `redis-cli --rdb` (the server
 * forks and streams an RDB, as to a new replica) into a claim that outlives the HelloWorld; a restore is
 * an init container of the Redis StatefulSet that turns a backup into the append-only file Redis reads.
 * See docs/backup.md.
 */
import type {
  V1Container,
  V1CronJob,
  V1PersistentVolumeClaim,
  V1PodSecurityContext,
  V1ResourceRequirements,
  V1Volume,
} from '@kubernetes/client-node';
import type { ResolvedBackup } from '../crd/defaults.js';
import { KINDS, typeMeta } from '../crd/kinds.js';
import { labels } from '../crd/labels.js';
import type { HelloWorld, RedisRestoreSpec } from '../crd/types.js';
import { RESTRICTED_CONTAINER, childMeta, redisName, redisSecretName } from './meta.js';

/** The CronJob and the claim share this name; a restore names the claim of a deleted HelloWorld. */
export const backupName = (hw: HelloWorld): string => `${hw.metadata.name}-redis-backup`;

/** Backup file names: their UTC time, so that sorting them by name sorts them by age. */
export const BACKUP_FILE_PATTERN = /^backup-[0-9]{8}T[0-9]{6}Z\.rdb$/;
const BACKUP_FILE_GREP = '^backup-[0-9]{8}T[0-9]{6}Z\\.rdb$';

export const REDIS_UID = 999; // the redis user of the official image

/** The pod-level security of Redis, its backups and its restore: the redis user, whose files they share. */
export const REDIS_POD_SECURITY: V1PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: REDIS_UID,
  runAsGroup: REDIS_UID,
  fsGroup: REDIS_UID,
  seccompProfile: { type: 'RuntimeDefault' },
};

/** How long one backup may run, and how often a failed one is tried again, before it counts as failed. */
const BACKUP_DEADLINE_SECONDS = 3600;
const BACKUP_RETRIES = 2;

/**
 * The backup pod's script. Writes to a hidden partial file first, so a backup that breaks off never shows
 * under a backup's name; checks the snapshot with redis-check-rdb (which exits 0 even on a broken file:
 * only its "looks OK" line counts); then deletes all but the newest RETAIN. Its last word, in the
 * termination message, is what the operator reads: one JSON line on success, the reason on failure.
 */
export const BACKUP_SCRIPT = `set -eu
umask 077
dir="\${BACKUP_DIR:-/backup}"; log="\${TERMINATION_LOG:-/dev/termination-log}"; tmp="\${TMPDIR:-/tmp}"
name="backup-$(date -u +%Y%m%dT%H%M%SZ).rdb"
part="$dir/.$name.partial"
fail() { printf '%s' "$1" | head -c 400 > "$log"; echo "$1" >&2; rm -f "$part"; exit 1; }
redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" --rdb "$part" > "$tmp/cli.out" 2>&1 || fail "redis-cli --rdb failed: $(tail -c 300 "$tmp/cli.out")"
redis-check-rdb "$part" > "$tmp/check.out" 2>&1 || true
grep -q 'RDB looks OK' "$tmp/check.out" || fail "the snapshot is not a valid RDB file: $(grep -m 1 -A 1 'RDB ERROR' "$tmp/check.out" | tail -c 300)"
mv "$part" "$dir/$name"
bytes=$(wc -c < "$dir/$name" | tr -d ' ')
ls -1 "$dir" | grep -E '${BACKUP_FILE_GREP}' | sort -r | tail -n +$((RETAIN + 1)) | while read -r old; do rm -f "$dir/$old"; done
printf '{"file":"%s","bytes":%s}' "$name" "$bytes" > "$log"
echo "backed up $name: $bytes bytes"
`;

/**
 * The restore init container's script. It acts only on a volume without an append-only file (a new one):
 * it never overwrites data. Redis with \`appendonly yes\` ignores an RDB on disk, so the backup is loaded
 * by a private redis-server (localhost, another port), which then writes it as the append-only file.
 */
export const RESTORE_SCRIPT = `set -eu
data="\${DATA_DIR:-/data}"; dir="\${BACKUP_DIR:-/backup}"; log="\${TERMINATION_LOG:-/dev/termination-log}"
port="\${RESTORE_PORT:-6380}"
if [ -f "$data/appendonlydir/appendonly.aof.manifest" ]; then echo "the volume holds data already: nothing restored"; exit 0; fi
fail() { printf '%s' "$1" | head -c 400 > "$log"; echo "$1" >&2; exit 1; }
file="\${RESTORE_FILE:-}"
if [ -z "$file" ]; then file=$(ls -1 "$dir" | grep -E '${BACKUP_FILE_GREP}' | sort | tail -n 1 || true); fi
[ -n "$file" ] && [ -f "$dir/$file" ] || fail "no backup \${file:-at all} in claim $RESTORE_CLAIM"
rm -rf "$data/appendonlydir"
cp "$dir/$file" "$data/dump.rdb"
redis-server --dir "$data" --dbfilename dump.rdb --appendonly no --save '' --bind 127.0.0.1 --port "$port" --loglevel warning &
pid=$!
cli() { redis-cli -p "$port" "$@"; }
tries=0
until cli ping 2>/dev/null | grep -q PONG; do
  kill -0 "$pid" 2>/dev/null || fail "redis-server could not load $file"
  tries=$((tries + 1)); [ "$tries" -lt 600 ] || fail "loading $file took over 10 minutes"; sleep 1
done
keys=$(cli dbsize)
cli config set appendonly yes > /dev/null
until [ -f "$data/appendonlydir/appendonly.aof.manifest" ] && cli info persistence | grep -q '^aof_rewrite_in_progress:0' && cli info persistence | grep -q '^aof_rewrite_scheduled:0'; do
  tries=$((tries + 1)); [ "$tries" -lt 1200 ] || fail "writing the append-only file took too long"; sleep 1
done
cli info persistence | grep -q '^aof_last_bgrewrite_status:ok' || fail "writing the append-only file failed"
cli shutdown nosave > /dev/null 2>&1 || true
wait "$pid" || true
rm -f "$data/dump.rdb"
echo "restored $file from claim $RESTORE_CLAIM: $keys keys"
`;

/**
 * The claim the backups go to. Deliberately without an owner reference: backups must outlive the
 * HelloWorld (the point of them is a restore after it, or its volume, is gone). The operator recognises
 * it by its labels (controller/ownership.ts) and creates it once; it never updates or deletes it.
 */
export function buildBackupClaim(hw: HelloWorld, backup: ResolvedBackup): V1PersistentVolumeClaim {
  return {
    ...typeMeta(KINDS.PersistentVolumeClaim),
    metadata: { name: backupName(hw), namespace: hw.metadata.namespace, labels: labels(hw, 'redis-backup') },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: backup.storage.size } },
      ...(backup.storage.storageClassName !== undefined && {
        storageClassName: backup.storage.storageClassName,
      }),
    },
  };
}

export function buildBackupCronJob(
  hw: HelloWorld,
  redis: { image: string; resources: V1ResourceRequirements },
  backup: ResolvedBackup,
): V1CronJob {
  return {
    ...typeMeta(KINDS.CronJob),
    metadata: childMeta(hw, backupName(hw), 'redis-backup'),
    spec: {
      schedule: backup.schedule,
      // The schedule's longest gap (the stale-backup alert) is computed in UTC too.
      timeZone: 'Etc/UTC',
      suspend: backup.suspend,
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels: labels(hw, 'redis-backup') },
        spec: {
          backoffLimit: BACKUP_RETRIES,
          activeDeadlineSeconds: BACKUP_DEADLINE_SECONDS,
          template: {
            metadata: { labels: labels(hw, 'redis-backup') },
            spec: {
              restartPolicy: 'Never',
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              securityContext: REDIS_POD_SECURITY,
              containers: [
                {
                  name: 'backup',
                  image: redis.image,
                  imagePullPolicy: 'IfNotPresent',
                  command: ['sh', '-c', BACKUP_SCRIPT],
                  env: [
                    { name: 'REDIS_HOST', value: redisName(hw) },
                    { name: 'REDIS_PORT', value: '6379' },
                    { name: 'RETAIN', value: String(backup.retain) },
                    redisAuthEnv(hw),
                  ],
                  resources: redis.resources,
                  terminationMessagePolicy: 'File',
                  securityContext: RESTRICTED_CONTAINER,
                  volumeMounts: [
                    { name: 'backup', mountPath: '/backup' },
                    { name: 'tmp', mountPath: '/tmp' },
                  ],
                },
              ],
              volumes: [
                { name: 'backup', persistentVolumeClaim: { claimName: backupName(hw) } },
                { name: 'tmp', emptyDir: { sizeLimit: '16Mi' } },
              ],
            },
          },
        },
      },
    },
  };
}

/** The password from the managed Redis Secret; redis-cli reads it from REDISCLI_AUTH, never argv. */
export function redisAuthEnv(hw: HelloWorld): { name: string; valueFrom: object } {
  return {
    name: 'REDISCLI_AUTH',
    valueFrom: { secretKeyRef: { name: redisSecretName(hw), key: 'password' } },
  };
}

/** The restore init container and the backup claim's volume (read only) for the Redis StatefulSet. */
export function restoreFromBackup(
  redis: { image: string; resources: V1ResourceRequirements },
  restore: RedisRestoreSpec,
): { initContainer: V1Container; volume: V1Volume } {
  // The schema allows only backup file names; checked again because the file is used in a shell.
  if (restore.file !== undefined && !BACKUP_FILE_PATTERN.test(restore.file)) {
    throw new Error(`redis.restoreFrom.file ${JSON.stringify(restore.file)} is not a backup file name`);
  }
  return {
    initContainer: {
      name: 'restore',
      image: redis.image,
      imagePullPolicy: 'IfNotPresent',
      command: ['sh', '-c', RESTORE_SCRIPT],
      env: [
        { name: 'RESTORE_CLAIM', value: restore.claimName },
        ...(restore.file !== undefined ? [{ name: 'RESTORE_FILE', value: restore.file }] : []),
      ],
      resources: redis.resources,
      terminationMessagePolicy: 'File',
      securityContext: RESTRICTED_CONTAINER,
      volumeMounts: [
        { name: 'data', mountPath: '/data' },
        { name: 'restore', mountPath: '/backup', readOnly: true },
        { name: 'tmp', mountPath: '/tmp' },
      ],
    },
    volume: { name: 'restore', persistentVolumeClaim: { claimName: restore.claimName, readOnly: true } },
  };
}
