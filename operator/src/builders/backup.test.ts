import type {
  V1CronJob,
  V1NetworkPolicy,
  V1PersistentVolumeClaim,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { resolveSpec } from '../crd/defaults.js';
import type { HelloWorld, HelloWorldSpec } from '../crd/types.js';
import { claimConflict, judgeBackupClaim, prerequisites } from '../controller/ownership.js';
import { restoreFromBackup } from './backup.js';
import { desiredState } from './index.js';

const hw = (redis: HelloWorldSpec['redis']): HelloWorld => ({
  apiVersion: 'hello.dev/v1alpha1',
  kind: 'HelloWorld',
  metadata: { name: 'demo', namespace: 'team-a', uid: 'uid-1', generation: 1 },
  spec: { image: 'hello/api:1.0.0', redis },
});

function build(redis: HelloWorldSpec['redis']) {
  const h = hw(redis);
  const state = desiredState(h, resolveSpec(h.spec), {
    redis: { password: 'pA55-word_0123456789abcdefABCDEF', checksum: 'c' },
    prometheusOperatorInstalled: false,
  });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a typed lookup for the tests
  const one = <T>(kind: string) => state.apply.find((o) => o.kind === kind) as T | undefined;
  return { state, one };
}

describe('backups of the managed Redis', () => {
  it('adds a CronJob the HelloWorld owns and a claim it does not, and lets the backup pods reach Redis', () => {
    const { state, one } = build({ backup: { schedule: '0 3 * * *' } });
    const cron = one<V1CronJob>('CronJob')!;
    expect(cron.metadata?.name).toBe('demo-redis-backup');
    expect(cron.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ uid: 'uid-1', controller: true }),
    ]);
    expect(cron.spec).toMatchObject({
      schedule: '0 3 * * *',
      timeZone: 'Etc/UTC',
      suspend: false,
      concurrencyPolicy: 'Forbid',
      jobTemplate: { spec: { backoffLimit: 2, activeDeadlineSeconds: 3600 } },
    });
    const pod = cron.spec.jobTemplate.spec!.template.spec!;
    expect(pod).toMatchObject({
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 999, fsGroup: 999 },
      volumes: [
        { name: 'backup', persistentVolumeClaim: { claimName: 'demo-redis-backup' } },
        { name: 'tmp', emptyDir: { sizeLimit: '16Mi' } },
      ],
    });
    const container = pod.containers[0]!;
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    // The password comes from the Secret, never as a value in the object.
    expect(container.env).toEqual([
      { name: 'REDIS_HOST', value: 'demo-redis' },
      { name: 'REDIS_PORT', value: '6379' },
      { name: 'RETAIN', value: '7' },
      { name: 'REDISCLI_AUTH', valueFrom: { secretKeyRef: { name: 'demo-redis-auth', key: 'password' } } },
    ]);
    expect(cron.spec.jobTemplate.spec!.template.metadata?.labels).toMatchObject({
      'app.kubernetes.io/component': 'redis-backup',
      'app.kubernetes.io/instance': 'demo',
      'app.kubernetes.io/managed-by': 'helloworld-operator',
    });

    const claim = one<V1PersistentVolumeClaim>('PersistentVolumeClaim')!;
    expect(claim.metadata).toEqual({
      name: 'demo-redis-backup',
      namespace: 'team-a',
      labels: expect.objectContaining({ 'app.kubernetes.io/component': 'redis-backup' }) as object,
    });
    expect(claim.spec?.resources?.requests).toEqual({ storage: '2Gi' });

    const policy = one<V1NetworkPolicy>('NetworkPolicy')!;
    expect(
      policy.spec?.ingress?.[0]?._from ?? (policy.spec?.ingress?.[0] as { from?: unknown }).from,
    ).toEqual([
      {
        podSelector: {
          matchLabels: expect.objectContaining({ 'app.kubernetes.io/component': 'api' }) as object,
        },
      },
      {
        podSelector: {
          matchLabels: expect.objectContaining({ 'app.kubernetes.io/component': 'redis-backup' }) as object,
        },
      },
    ]);
    expect(state.backup).toEqual({ wanted: true, schedule: '0 3 * * *', maxAgeSeconds: 86400 + 3600 });
    expect(state.absent.map((a) => a.kind)).not.toContain('CronJob');
  });

  it('without backups: no claim, the CronJob is deleted, only the API pods reach Redis', () => {
    const { state, one } = build(undefined);
    expect(one('PersistentVolumeClaim')).toBeUndefined();
    expect(state.absent).toContainEqual({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      name: 'demo-redis-backup',
    });
    const policy = one<V1NetworkPolicy>('NetworkPolicy')!;
    expect((policy.spec?.ingress?.[0] as { from?: unknown[] }).from).toHaveLength(1);
    expect(state.backup).toEqual({ wanted: false });
  });

  it('an invalid schedule: the CronJob is neither written nor deleted, and the reason is kept', () => {
    const { state, one } = build({ backup: { schedule: '0 0 30 2 *' } });
    expect(one('CronJob')).toBeUndefined();
    expect(state.absent.map((a) => a.kind)).not.toContain('CronJob');
    expect(state.backup.wanted).toBe(true);
    expect(state.backup.error).toMatch(/never runs/);
  });

  it('passes retain, suspend and the claim size through', () => {
    const { one } = build({
      backup: {
        schedule: '@hourly',
        retain: 3,
        suspend: true,
        storage: { size: '5Gi', storageClassName: 'fast' },
      },
    });
    expect(one<V1CronJob>('CronJob')!.spec.suspend).toBe(true);
    expect(
      one<V1CronJob>('CronJob')!.spec.jobTemplate.spec!.template.spec!.containers[0]!.env,
    ).toContainEqual({
      name: 'RETAIN',
      value: '3',
    });
    expect(one<V1PersistentVolumeClaim>('PersistentVolumeClaim')!.spec).toMatchObject({
      resources: { requests: { storage: '5Gi' } },
      storageClassName: 'fast',
    });
  });
});

describe('a restore into a new Redis volume', () => {
  it('adds an init container that reads the named claim read only', () => {
    const { one } = build({
      restoreFrom: { claimName: 'old-redis-backup', file: 'backup-20261203T030000Z.rdb' },
    });
    const pod = one<V1StatefulSet>('StatefulSet')!.spec!.template.spec!;
    expect(pod.initContainers?.map((c) => c.name)).toEqual(['restore']);
    expect(pod.initContainers![0]!.env).toEqual([
      { name: 'RESTORE_CLAIM', value: 'old-redis-backup' },
      { name: 'RESTORE_FILE', value: 'backup-20261203T030000Z.rdb' },
    ]);
    expect(pod.initContainers![0]!.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(pod.volumes).toContainEqual({
      name: 'restore',
      persistentVolumeClaim: { claimName: 'old-redis-backup', readOnly: true },
    });
  });

  it('has no init container without restoreFrom', () => {
    const { one } = build(undefined);
    expect(one<V1StatefulSet>('StatefulSet')!.spec!.template.spec!.initContainers).toBeUndefined();
  });

  it.each(['../../etc/passwd', 'backup-1.rdb; rm -rf /data', 'backup-20261203T030000Z.rdb\n', '$(id)'])(
    'refuses the file name %j, which the schema refuses too',
    (file) => {
      const redis = { image: 'redis:7', resources: {} };
      expect(() => restoreFromBackup(redis, { claimName: 'old-redis-backup', file })).toThrow(
        /is not a backup file name/,
      );
    },
  );
});

describe('whose backup claim it is', () => {
  const h = hw(undefined);
  const claim = (labels: Record<string, string>, controller?: string): V1PersistentVolumeClaim => ({
    metadata: {
      name: 'demo-redis-backup',
      labels,
      ...(controller && {
        ownerReferences: [{ apiVersion: 'v1', kind: 'Thing', name: 'x', uid: controller, controller: true }],
      }),
    },
  });
  const ours = {
    'app.kubernetes.io/name': 'helloworld',
    'app.kubernetes.io/instance': 'demo',
    'app.kubernetes.io/component': 'redis-backup',
  };

  it("is the HelloWorld's own with its backup labels and no controller, even without an owner reference", () => {
    expect(judgeBackupClaim(h, claim(ours))).toMatchObject({ state: 'ours' });
    expect(judgeBackupClaim(h, undefined)).toEqual({ state: 'absent' });
  });

  it("is someone else's without those labels, or with a controller", () => {
    expect(judgeBackupClaim(h, claim({ app: 'theirs' }))).toEqual({
      state: 'foreign',
      conflict:
        "PersistentVolumeClaim demo-redis-backup exists and is not this HelloWorld's backup claim: it does not carry this HelloWorld's backup labels",
    });
    // Another instance's backup claim (instance label) is not this one's either.
    expect(judgeBackupClaim(h, claim({ ...ours, 'app.kubernetes.io/instance': 'other' })).state).toBe(
      'foreign',
    );
    expect(claimConflict(h, claim(ours, 'uid-x'), 'redis-backup')).toMatch(/it is controlled by Thing x/);
  });

  it("holds the CronJob back until the claim and the Secret are the HelloWorld's", () => {
    expect(prerequisites(h, true)('CronJob/demo-redis-backup')).toEqual([
      'PersistentVolumeClaim/demo-redis-backup',
      'Secret/demo-redis-auth',
    ]);
  });
});
