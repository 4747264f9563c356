// spec.redis.backup and spec.redis.restoreFrom with the operator as a process on the local cluster
// (simulated nodes: the objects and their ownership; backups on real pods are in test/e2e/backup.test.ts).
// The CronJob is the HelloWorld's; the backup claim is deliberately not (it outlives the HelloWorld),
// yet someone else's claim of that name is never taken over; a restore accepts only a backup claim.
import type {
  KubeConfig,
  V1CronJob,
  V1NetworkPolicy,
  V1PersistentVolumeClaim,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { HelloWorld, HelloWorldSpec } from '../../operator/src/crd/types.js';
import { loadKubeConfig, waitFor } from '../support/cluster.js';
import {
  applyHelloWorld,
  conditionOf,
  helloWorld,
  kubectl,
  kubectlGet,
  metricValue,
  operatorInNamespace,
  type OperatorProcess,
  simulatedSpec,
  waitForHelloWorld,
} from '../support/operator.js';

let kc: KubeConfig;
let namespace: string;
let operator: OperatorProcess;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  kc = loadKubeConfig();
  ({ namespace, operator, cleanup } = await operatorInNamespace('backup'));
}, 240_000);

afterAll(() => cleanup(), 60_000);

const apply = (name: string, redis: HelloWorldSpec['redis']) => {
  applyHelloWorld(helloWorld(namespace, name, simulatedSpec({ redis })));
};
const waitForState = (name: string, check: (hw: HelloWorld) => boolean, describe: string) =>
  waitForHelloWorld(kc, namespace, name, check, describe, { operator, timeoutMs: 90_000 });
const exists = (kind: string, name: string): boolean =>
  kubectl(['get', kind, name, '-n', namespace, '--ignore-not-found', '-o', 'name']).trim() !== '';
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a typed read for the tests
const withFields = <T>(kind: string, name: string): T =>
  JSON.parse(kubectl(['get', kind, name, '-n', namespace, '-o', 'json', '--show-managed-fields'])) as T;
const degradedBy = (reason: string) => (hw: HelloWorld) => conditionOf(hw, 'Degraded')?.reason === reason;
const backupIs = (reason: string) => (hw: HelloWorld) => conditionOf(hw, 'Backup')?.reason === reason;
/** A claim of the user's own, as `kubectl apply` would make it. */
const userClaim = (name: string, labels: Record<string, string> = {}) => {
  const claim: V1PersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace, labels },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  };
  kubectl(['apply', '--server-side', '--field-manager', 'test-user', '-f', '-'], JSON.stringify(claim));
};

describe('backups', () => {
  const name = 'bk';

  it('makes a CronJob the HelloWorld owns, a claim it does not own, and reports that none ran yet', async () => {
    apply(name, { backup: { schedule: '0 3 * * 1-5', retain: 3 } });
    const hw = await waitForState(name, backupIs('NoBackupYet'), `${name} with backups, none run yet`);
    expect(conditionOf(hw, 'Backup')).toMatchObject({
      status: 'Unknown',
      message: 'no backup has finished yet (schedule "0 3 * * 1-5", UTC)',
    });
    // Friday 03:00 to Monday 03:00, plus an hour for the run.
    expect(hw.status?.backup).toEqual({ maxAgeSeconds: 3 * 86400 + 3600 });

    const cron = kubectlGet('cronjob', `${name}-redis-backup`, namespace) as V1CronJob;
    expect(cron.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'HelloWorld', name, uid: hw.metadata.uid, controller: true }),
    ]);
    expect(cron.spec).toMatchObject({
      schedule: '0 3 * * 1-5',
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
    });

    const claim = withFields<V1PersistentVolumeClaim>('pvc', `${name}-redis-backup`);
    expect(claim.metadata?.ownerReferences).toBeUndefined();
    expect(claim.metadata?.labels).toMatchObject({
      'app.kubernetes.io/instance': name,
      'app.kubernetes.io/component': 'redis-backup',
      'app.kubernetes.io/managed-by': 'helloworld-operator',
    });
    expect(
      (claim.metadata?.managedFields ?? []).map((f) => `${f.manager ?? ''} ${f.operation ?? ''}`),
    ).toContain('helloworld-operator Apply');
    const policy = kubectlGet('networkpolicy', `${name}-redis`, namespace) as V1NetworkPolicy;
    const from = (policy.spec?.ingress?.[0] as { from?: { podSelector?: { matchLabels?: object } }[] }).from;
    expect(from?.map((peer) => peer.podSelector?.matchLabels)).toEqual([
      expect.objectContaining({ 'app.kubernetes.io/component': 'api' }),
      expect.objectContaining({ 'app.kubernetes.io/component': 'redis-backup' }),
    ]);

    // Until the first backup, the "last success" of the stale-backup alert is the CronJob's creation.
    const metrics = await operator.metrics();
    const labels = { namespace, name };
    expect(metricValue(metrics, 'helloworld_redis_backup_max_age_seconds', labels)).toBe(3 * 86400 + 3600);
    expect(metricValue(metrics, 'helloworld_redis_backup_last_success_timestamp_seconds', labels)).toBe(
      Date.parse(String(cron.metadata?.creationTimestamp)) / 1000,
    );
    expect(metricValue(metrics, 'helloworld_redis_backup_failing', labels)).toBe(0);
  }, 120_000);

  it('takes the CronJob away with the backup, and keeps the claim and its backups', async () => {
    apply(name, {});
    await waitForState(
      name,
      (hw) => conditionOf(hw, 'Backup') === undefined && hw.status?.backup === undefined,
      `${name} without the Backup condition`,
    );
    await waitFor(() => !exists('cronjob', `${name}-redis-backup`), {
      describe: 'the backup CronJob deleted',
      timeoutMs: 30_000,
    });
    expect(exists('pvc', `${name}-redis-backup`)).toBe(true);
    expect(metricValue(await operator.metrics(), 'helloworld_redis_backup_max_age_seconds', { name })).toBe(
      0,
    );
  }, 120_000);

  it("never takes over someone else's claim under the backup claim's name, nor runs backups into it", async () => {
    const other = 'bk-taken';
    userClaim(`${other}-redis-backup`, { team: 'theirs' });
    apply(other, { backup: { schedule: '@daily' } });
    const hw = await waitForState(other, degradedBy('ChildConflict'), `${other} reporting the conflict`);
    expect(conditionOf(hw, 'Degraded')?.message).toContain(
      `PersistentVolumeClaim ${other}-redis-backup exists and is not this HelloWorld's backup claim: it does not carry this HelloWorld's backup labels`,
    );
    expect(conditionOf(hw, 'Degraded')?.message).toContain(
      `held back until they are resolved: CronJob/${other}-redis-backup`,
    );
    expect(exists('cronjob', `${other}-redis-backup`)).toBe(false);
    const claim = withFields<V1PersistentVolumeClaim>('pvc', `${other}-redis-backup`);
    // Its writers: the user, and the volume binding of the controller manager; never the operator.
    const writers = (claim.metadata?.managedFields ?? []).map((f) => f.manager);
    expect(writers).toContain('test-user');
    expect(writers).not.toContain('helloworld-operator');
    expect(claim.metadata?.labels).toEqual({ team: 'theirs' });
  }, 120_000);

  it('refuses a schedule that never runs with the reason, and writes no CronJob', async () => {
    const odd = 'bk-feb30';
    apply(odd, { backup: { schedule: '0 0 30 2 *' } });
    const hw = await waitForState(odd, backupIs('BackupScheduleInvalid'), `${odd} with an invalid schedule`);
    expect(conditionOf(hw, 'Backup')?.message).toMatch(/^schedule "0 0 30 2 \*": .*never runs/);
    expect(exists('cronjob', `${odd}-redis-backup`)).toBe(false);
  }, 120_000);
});

describe('restoreFrom', () => {
  it('refuses a claim that is not a backup claim, and creates no Redis with it', async () => {
    const name = 'rs-plain';
    userClaim('plain-data');
    apply(name, { restoreFrom: { claimName: 'plain-data' } });
    const hw = await waitForState(name, degradedBy('RestoreClaimInvalid'), `${name} refusing the claim`);
    expect(conditionOf(hw, 'Degraded')?.message).toBe(
      'PersistentVolumeClaim plain-data (spec.redis.restoreFrom.claimName) is not a HelloWorld backup claim (it lacks the labels app.kubernetes.io/name=helloworld, app.kubernetes.io/component=redis-backup, app.kubernetes.io/managed-by=helloworld-operator): only a claim the operator made for backups can be restored from; Redis and the API pods are not changed until it is, or restoreFrom is removed',
    );
    expect(exists('statefulset', `${name}-redis`)).toBe(false);
  }, 120_000);

  it('reports a claim that does not exist', async () => {
    const name = 'rs-missing';
    apply(name, { restoreFrom: { claimName: 'no-such-claim' } });
    const hw = await waitForState(name, degradedBy('RestoreClaimInvalid'), `${name} reporting the claim`);
    expect(conditionOf(hw, 'Degraded')?.message).toMatch(
      /^PersistentVolumeClaim no-such-claim .* does not exist in namespace/,
    );
  }, 120_000);

  it('restores from the backup claim of an earlier HelloWorld through an init container', async () => {
    const name = 'rs-good';
    // The claim the first test's HelloWorld made, kept after its backups were switched off.
    apply(name, { restoreFrom: { claimName: 'bk-redis-backup' } });
    await waitForState(
      name,
      (hw) => conditionOf(hw, 'Reconciled')?.status === 'True' && exists('statefulset', `${name}-redis`),
      `${name} converged`,
    );
    const sts = kubectlGet('statefulset', `${name}-redis`, namespace) as V1StatefulSet;
    expect(sts.spec?.template.spec?.initContainers?.map((c) => c.name)).toEqual(['restore']);
    expect(sts.spec?.template.spec?.volumes).toContainEqual({
      name: 'restore',
      persistentVolumeClaim: { claimName: 'bk-redis-backup', readOnly: true },
    });
  }, 120_000);
});

describe('deleting the HelloWorld', () => {
  it('leaves the backup claim behind', async () => {
    const name = 'bk-gone';
    apply(name, { backup: { schedule: '@weekly' } });
    await waitForState(name, backupIs('NoBackupYet'), `${name} with backups`);
    kubectl(['delete', 'helloworld', name, '-n', namespace, '--wait=true']);
    await waitFor(() => !exists('cronjob', `${name}-redis-backup`), {
      describe: 'the CronJob collected with its HelloWorld',
      timeoutMs: 60_000,
    });
    expect(exists('pvc', `${name}-redis-backup`)).toBe(true);
  }, 120_000);
});
