import type { V1Pod } from '@kubernetes/client-node';
import { backupCondition, finishedBackups, nextBackupStatus, parseBackupReport } from './status.js';
import type { BackupDecision } from './decision.js';

const FILE = 'backup-20261203T030000Z.rdb';

describe('the report of a backup pod', () => {
  it('is one JSON object with a backup file name and a byte count', () => {
    expect(parseBackupReport(`{"file":"${FILE}","bytes":1234}`)).toEqual({ file: FILE, bytes: 1234 });
  });

  it.each([
    ['nothing', undefined],
    ['empty', ''],
    ['not JSON', 'backed up'],
    ['an array', `["${FILE}",1]`],
    ['null', 'null'],
    ['a path for a file', '{"file":"../../etc/passwd","bytes":1}'],
    ['a file with a line break', `{"file":"${FILE}\\n","bytes":1}`],
    ['a negative size', `{"file":"${FILE}","bytes":-1}`],
    ['a fractional size', `{"file":"${FILE}","bytes":1.5}`],
    ['a size beyond exact integers', `{"file":"${FILE}","bytes":1e300}`],
    ['a size as text', `{"file":"${FILE}","bytes":"12"}`],
    ['an extra field', `{"file":"${FILE}","bytes":1,"status":"ok"}`],
    ['a huge message', `{"file":"${FILE}","bytes":1,"x":"${'a'.repeat(4000)}"}`],
    ['a prototype key', `{"file":"${FILE}","bytes":1,"__proto__":{"polluted":true}}`],
  ])('is refused when it is %s', (_what, message) => {
    expect(parseBackupReport(message)).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

/** A pod of the backup CronJob's Job `job` that ended. */
function pod(
  job: string,
  phase: 'Succeeded' | 'Failed' | 'Running',
  finishedAt: string,
  message?: string,
  exitCode = phase === 'Succeeded' ? 0 : 1,
): V1Pod {
  return {
    metadata: {
      name: `${job}-x`,
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job, uid: 'u', controller: true }],
    },
    status: {
      phase,
      containerStatuses: [
        {
          name: 'backup',
          image: 'redis',
          imageID: '',
          ready: false,
          restartCount: 0,
          state:
            phase === 'Running'
              ? { running: {} }
              : {
                  terminated: {
                    exitCode,
                    finishedAt: new Date(finishedAt),
                    ...(message !== undefined && { message }),
                  },
                },
        },
      ],
    },
  };
}

const report = (file: string, bytes: number) => JSON.stringify({ file, bytes });

describe('the backups that ended', () => {
  it('reads successes and failures of pods that Jobs control, whatever the Job is called', () => {
    const stray = report('backup-20991231T000000Z.rdb', 1);
    const bare = pod('x', 'Succeeded', '2026-12-06T03:00:05Z', stray);
    delete bare.metadata!.ownerReferences;
    const replicaSets = pod('x', 'Succeeded', '2026-12-06T03:00:05Z', stray);
    replicaSets.metadata!.ownerReferences![0]!.kind = 'ReplicaSet';
    const pods = [
      pod('demo-redis-backup-1', 'Succeeded', '2026-12-03T03:00:05Z', report(FILE, 10)),
      pod(
        'demo-redis-backup-2',
        'Failed',
        '2026-12-04T03:00:05Z',
        'redis-cli --rdb failed: \u001b[31mNOAUTH\u0007',
      ),
      pod('demo-redis-backup-3', 'Running', '2026-12-05T03:00:05Z'),
      // Not a Job's pod: a bare pod labelled like a backup pod, or another controller's.
      bare,
      replicaSets,
      // Made by hand from the CronJob (kubectl create job --from=cronjob/…), under the user's name for it.
      pod('before-upgrade', 'Succeeded', '2026-12-05T04:00:05Z', report('backup-20261205T040000Z.rdb', 12)),
    ];
    expect(finishedBackups(pods)).toEqual([
      { time: '2026-12-03T03:00:05.000Z', ok: true, report: { file: FILE, bytes: 10 } },
      // Control characters are not carried into conditions and events.
      { time: '2026-12-04T03:00:05.000Z', ok: false, message: 'redis-cli --rdb failed:  [31mNOAUTH' },
      {
        time: '2026-12-05T04:00:05.000Z',
        ok: true,
        report: { file: 'backup-20261205T040000Z.rdb', bytes: 12 },
      },
    ]);
  });

  it('counts a success without a readable report as a failure, and says so', () => {
    const [only] = finishedBackups([
      pod('demo-redis-backup-1', 'Succeeded', '2026-12-03T03:00:05Z', '{"file":"/etc/shadow","bytes":1}'),
    ]);
    expect(only).toEqual({
      time: '2026-12-03T03:00:05.000Z',
      ok: false,
      message: 'the backup pod ended without a readable report of its file and size',
    });
  });

  it('says the exit code of a failure without a message, and shortens a long one', () => {
    const [silent, long] = finishedBackups([
      pod('demo-redis-backup-1', 'Failed', '2026-12-03T03:00:05Z', undefined, 137),
      pod('demo-redis-backup-2', 'Failed', '2026-12-03T04:00:05Z', 'x'.repeat(5000)),
    ]);
    expect(silent).toMatchObject({ ok: false, message: 'the backup pod failed (exit code 137)' });
    expect(long).toMatchObject({ ok: false });
    expect((long as { message: string }).message).toHaveLength(512);
  });
});

describe('status.backup', () => {
  const wanted: BackupDecision = { wanted: true, schedule: '0 3 * * *', maxAgeSeconds: 90000 };
  const success = (time: string, file = FILE, bytes = 10) => ({
    time,
    ok: true as const,
    report: { file, bytes },
  });
  const failure = (time: string, message = 'boom') => ({ time, ok: false as const, message });

  it('is absent when backups are not wanted', () => {
    expect(nextBackupStatus({ lastSuccessTime: 't' }, [], { wanted: false })).toBeUndefined();
  });

  it('keeps the newest success, even once its pod is gone, and a failure only while it is newer', () => {
    const first = nextBackupStatus(undefined, [success('2026-12-03T03:00:05.000Z')], wanted);
    expect(first).toEqual({
      lastSuccessTime: '2026-12-03T03:00:05.000Z',
      lastFile: FILE,
      lastSizeBytes: 10,
      maxAgeSeconds: 90000,
    });
    // The Job history no longer holds that pod; a newer run failed.
    const failed = nextBackupStatus(first, [failure('2026-12-04T03:00:05.000Z')], wanted);
    expect(failed).toEqual({
      ...first,
      lastFailureTime: '2026-12-04T03:00:05.000Z',
      lastFailureMessage: 'boom',
    });
    // Its pod is gone too: the failure stays until a success is newer.
    expect(nextBackupStatus(failed, [], wanted)).toEqual(failed);
    const file = 'backup-20261205T030000Z.rdb';
    expect(nextBackupStatus(failed, [success('2026-12-05T03:00:05.000Z', file, 20)], wanted)).toEqual({
      lastSuccessTime: '2026-12-05T03:00:05.000Z',
      lastFile: file,
      lastSizeBytes: 20,
      maxAgeSeconds: 90000,
    });
    // An older success still in the history does not replace a newer one in status.
    expect(
      nextBackupStatus(first, [success('2026-12-01T03:00:05.000Z', 'backup-20261201T030000Z.rdb')], wanted),
    ).toEqual(first);
  });

  it('gives the Backup condition for each case', () => {
    expect(backupCondition({ wanted: false }, undefined)).toBeUndefined();
    expect(backupCondition({ wanted: true, error: 'schedule "x": bad' }, undefined)).toEqual({
      type: 'Backup',
      status: 'False',
      reason: 'BackupScheduleInvalid',
      message: 'schedule "x": bad; the backup CronJob is left as it was until the schedule is fixed',
    });
    expect(backupCondition(wanted, { maxAgeSeconds: 1 })).toMatchObject({
      status: 'Unknown',
      reason: 'NoBackupYet',
    });
    expect(
      backupCondition(wanted, { lastSuccessTime: 'a', lastFailureTime: 'b', lastFailureMessage: 'boom' }),
    ).toEqual({
      type: 'Backup',
      status: 'False',
      reason: 'BackupFailed',
      message: 'the newest backup failed at b: boom',
    });
    expect(backupCondition(wanted, { lastSuccessTime: 'a', lastFile: FILE, lastSizeBytes: 10 })).toEqual({
      type: 'Backup',
      status: 'True',
      reason: 'BackupSucceeded',
      message: `the newest backup ${FILE} (10 bytes) finished at a`,
    });
  });
});
