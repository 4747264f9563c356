// Checks of the local test cluster itself (hack/cluster.sh, docs/local-cluster.md): the pinned
// server version, the simulated nodes, and the simulated pod behaviours of hack/cluster/kwok-stages.yaml.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  VersionApi,
  type KubeConfig,
  type V1ContainerStatus,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import {
  createTestNamespace,
  deleteTestNamespace,
  isApiError,
  isClusterReady,
  kubeconfigPath,
  loadKubeConfig,
  localKubeconfigPath,
  repoRoot,
  waitFor,
} from '../support/cluster.js';
import { pinnedKubernetesVersion } from '../support/pinned-kubernetes.js';
import { freePort } from '../support/ports.js';

function deployment(
  name: string,
  image: string,
  replicas: number,
  progressDeadlineSeconds?: number,
): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas,
      ...(progressDeadlineSeconds === undefined ? {} : { progressDeadlineSeconds }),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image }] },
      },
    },
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // An exited process its parent has not reaped yet (a zombie, state Z) runs no more.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${String(pid)}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** PIDs of processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) {
        pids.push(Number(entry));
      }
    } catch {
      // The process ended meanwhile.
    }
  }
  return pids;
}

function containerStatus(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.[0];
}

let kc: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;
let batch: BatchV1Api;
let namespace: string | undefined;

beforeAll(() => {
  kc = loadKubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  batch = kc.makeApiClient(BatchV1Api);
});

afterEach(async () => {
  if (namespace !== undefined) {
    await deleteTestNamespace(namespace, { kc });
    namespace = undefined;
  }
});

async function newNamespace(prefix: string): Promise<string> {
  namespace = await createTestNamespace(prefix, kc);
  return namespace;
}

async function podsOf(ns: string, app: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items;
}

describe('local cluster', () => {
  test('reports the pinned Kubernetes version', async () => {
    const pinned = pinnedKubernetesVersion(repoRoot);
    const info = await kc.makeApiClient(VersionApi).getCode();
    expect(info.gitVersion).toBe(pinned);
    expect(`v${info.major}.${info.minor}`).toBe(pinned.split('.').slice(0, 2).join('.'));

    const kubectl = spawnSync('kubectl', ['--kubeconfig', kubeconfigPath(), 'version', '-o', 'json'], {
      encoding: 'utf8',
    });
    // The test helpers call kubectl: the globalSetup puts one first on PATH that is supported
    // against this release, one minor version older or newer at most (hack/ensure-kubectl.sh).
    if (kubectl.error !== undefined) {
      throw new Error(
        `kubectl could not be run (${kubectl.error.message}): the tests need it on PATH, within one ` +
          'minor version of the cluster (hack/ensure-kubectl.sh provides one)',
      );
    }
    expect(kubectl.status).toBe(0);
    const parsed = JSON.parse(kubectl.stdout) as {
      clientVersion?: { gitVersion?: string };
      serverVersion?: { gitVersion?: string };
    };
    expect(parsed.serverVersion?.gitVersion).toBe(pinned);
    const minor = (version?: string): number => Number(/^v1\.(\d+)\./.exec(version ?? '')?.[1]);
    const client = parsed.clientVersion?.gitVersion;
    expect({ client, skew: Math.abs(minor(client) - minor(pinned)) <= 1 }).toEqual({ client, skew: true });
  });

  test('has three Ready simulated nodes, one in each zone', async () => {
    const nodes = await waitFor(
      async () => {
        const items = (await core.listNode({ labelSelector: 'type=kwok' })).items;
        const ready = items.filter((n) =>
          n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === 3 ? ready : false;
      },
      { describe: 'three Ready kwok nodes', timeoutMs: 30_000 },
    );
    const zones = nodes.map((n) => n.metadata?.labels?.['topology.kubernetes.io/zone']).sort();
    expect(zones).toEqual(['zone-a', 'zone-b', 'zone-c']);
    expect(nodes.map((n) => n.metadata?.name).sort()).toEqual(['kwok-node-1', 'kwok-node-2', 'kwok-node-3']);
  });

  test('a Deployment of 3 replicas becomes 3/3 Ready with pod IPs', async () => {
    const ns = await newNamespace('cluster-ready');
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: deployment('web', 'registry.invalid/web:1', 3),
    });
    await waitFor(
      async () => {
        const d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
        return d.status?.readyReplicas === 3 && d.status.availableReplicas === 3;
      },
      { describe: `deployment ${ns}/web to have 3 ready replicas`, timeoutMs: 60_000 },
    );
    const pods = await podsOf(ns, 'web');
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      expect(pod.status?.phase).toBe('Running');
      expect(pod.spec?.nodeName).toMatch(/^kwok-node-[123]$/);
      expect(pod.status?.podIP).toMatch(/^10\.244\./);
    }
  }, 90_000);

  test('unready.invalid/ pods run but never become Ready; the rollout reports ProgressDeadlineExceeded', async () => {
    const ns = await newNamespace('cluster-unready');
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: deployment('stuck', 'unready.invalid/x:1', 3, 10),
    });
    const d = await waitFor(
      async () => {
        const current = await apps.readNamespacedDeployment({ name: 'stuck', namespace: ns });
        const progressing = current.status?.conditions?.find((c) => c.type === 'Progressing');
        return progressing?.reason === 'ProgressDeadlineExceeded' ? current : false;
      },
      {
        describe: `deployment ${ns}/stuck to report ProgressDeadlineExceeded`,
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    );
    expect(d.status?.readyReplicas ?? 0).toBe(0);
    const pods = await podsOf(ns, 'stuck');
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      expect(pod.status?.phase).toBe('Running');
      expect(pod.status?.podIP).toBeDefined();
      expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
      expect(containerStatus(pod)?.state?.running).toBeDefined();
    }
  }, 90_000);

  test('crashloop.invalid/ pods show CrashLoopBackOff with a growing restart count', async () => {
    const ns = await newNamespace('cluster-crashloop');
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'crasher', labels: { app: 'crasher' } },
        spec: { containers: [{ name: 'app', image: 'crashloop.invalid/x:1' }] },
      },
    });
    const first = await waitFor(
      async () => {
        const s = containerStatus(await core.readNamespacedPod({ name: 'crasher', namespace: ns }));
        return s?.state?.waiting?.reason === 'CrashLoopBackOff' ? s.restartCount : false;
      },
      { describe: `pod ${ns}/crasher to be in CrashLoopBackOff`, timeoutMs: 30_000 },
    );
    await waitFor(
      async () => {
        const pod = await core.readNamespacedPod({ name: 'crasher', namespace: ns });
        const s = containerStatus(pod);
        return s?.state?.waiting?.reason === 'CrashLoopBackOff' && s.restartCount > first && !s.ready;
      },
      {
        describe: `the restart count of pod ${ns}/crasher to grow past ${first}`,
        timeoutMs: 30_000,
        intervalMs: 500,
      },
    );
  }, 90_000);

  test('pullfail.invalid/ pods stay Pending in ImagePullBackOff', async () => {
    const ns = await newNamespace('cluster-pullfail');
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'puller' },
        spec: { containers: [{ name: 'app', image: 'pullfail.invalid/x:1' }] },
      },
    });
    const pod = await waitFor(
      async () => {
        const p = await core.readNamespacedPod({ name: 'puller', namespace: ns });
        return containerStatus(p)?.state?.waiting?.reason === 'ImagePullBackOff' ? p : false;
      },
      { describe: `pod ${ns}/puller to be in ImagePullBackOff`, timeoutMs: 30_000 },
    );
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.spec?.nodeName).toMatch(/^kwok-node-/);
  }, 60_000);

  test('Job pods succeed unless their image starts with fail.invalid/', async () => {
    const ns = await newNamespace('cluster-jobs');
    const job = (name: string, image: string) => ({
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'task', image }] } },
      },
    });
    await batch.createNamespacedJob({ namespace: ns, body: job('good', 'registry.invalid/task:1') });
    await batch.createNamespacedJob({ namespace: ns, body: job('bad', 'fail.invalid/task:1') });
    const finished = async (name: string) =>
      waitFor(
        async () => {
          const j = await batch.readNamespacedJob({ name, namespace: ns });
          return j.status?.conditions?.find(
            (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
          )?.type;
        },
        { describe: `job ${ns}/${name} to finish`, timeoutMs: 60_000, intervalMs: 500 },
      );
    expect(await finished('good')).toBe('Complete');
    expect(await finished('bad')).toBe('Failed');
  }, 90_000);

  test('a StatefulSet gets its claims bound by the default StorageClass and becomes Ready', async () => {
    const ns = await newNamespace('cluster-sts');
    await apps.createNamespacedStatefulSet({
      namespace: ns,
      body: {
        metadata: { name: 'db' },
        spec: {
          replicas: 2,
          serviceName: 'db',
          selector: { matchLabels: { app: 'db' } },
          persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' },
          template: {
            metadata: { labels: { app: 'db' } },
            spec: { containers: [{ name: 'db', image: 'registry.invalid/db:1' }] },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: 'data' },
              spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
            },
          ],
        },
      },
    });
    await waitFor(
      async () =>
        (await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns })).status?.readyReplicas === 2,
      { describe: `statefulset ${ns}/db to have 2 ready replicas`, timeoutMs: 60_000 },
    );
    const claims = (await core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items;
    expect(claims.map((c) => [c.metadata?.name, c.spec?.storageClassName, c.status?.phase]).sort()).toEqual([
      ['data-db-0', 'standard', 'Bound'],
      ['data-db-1', 'standard', 'Bound'],
    ]);
    const volumes = claims.map((c) => c.spec?.volumeName ?? '');

    await apps.deleteNamespacedStatefulSet({ name: 'db', namespace: ns });
    await waitFor(
      async () => {
        const remaining = (await core.listPersistentVolume()).items.filter((pv) =>
          volumes.includes(pv.metadata?.name ?? ''),
        );
        return remaining.length === 0;
      },
      {
        describe: `the volumes of ${ns}/db to be deleted with their claims`,
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    );
  }, 150_000);

  test('deleting a Deployment garbage-collects its ReplicaSets and pods', async () => {
    const ns = await newNamespace('cluster-gc');
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: deployment('doomed', 'registry.invalid/web:1', 3),
    });
    await waitFor(
      async () =>
        (await apps.readNamespacedDeployment({ name: 'doomed', namespace: ns })).status?.readyReplicas === 3,
      { describe: `deployment ${ns}/doomed to have 3 ready replicas`, timeoutMs: 60_000 },
    );
    expect((await apps.listNamespacedReplicaSet({ namespace: ns })).items).toHaveLength(1);

    await apps.deleteNamespacedDeployment({ name: 'doomed', namespace: ns });
    await waitFor(
      async () => {
        const replicaSets = (await apps.listNamespacedReplicaSet({ namespace: ns })).items.length;
        const pods = (await core.listNamespacedPod({ namespace: ns })).items.length;
        return replicaSets === 0 && pods === 0;
      },
      { describe: `the ReplicaSets and pods of ${ns}/doomed to be garbage-collected`, timeoutMs: 60_000 },
    );
    const gone = await apps.readNamespacedDeployment({ name: 'doomed', namespace: ns }).then(
      () => false,
      (error: unknown) => isApiError(error, 404),
    );
    expect(gone).toBe(true);

    // The namespace controller empties and removes the namespace.
    namespace = undefined;
    await deleteTestNamespace(ns, { kc, wait: true });
  }, 120_000);

  // A second cluster, on other ports and with its own state directory, so that the shared one
  // stays up. Skipped when the tests run against a cluster given by KUBECONFIG_TEST.
  const localOnly = kubeconfigPath() === localKubeconfigPath ? test : test.skip;
  localOnly(
    'cluster.sh up is idempotent and down leaves no process behind',
    async () => {
      const stateDir = `${mkdtempSync(`${tmpdir()}/helloworld-cluster-`)}/state`;
      const env: NodeJS.ProcessEnv = { ...process.env, CLUSTER_STATE_DIR: stateDir };
      for (const name of ['ETCD', 'ETCD_PEER', 'APISERVER', 'KCM', 'SCHEDULER', 'KWOK']) {
        env[`CLUSTER_${name}_PORT`] = String(await freePort());
      }
      const script = `${repoRoot}hack/cluster.sh`;
      const run = (command: string) =>
        spawnSync(script, [command], { env, encoding: 'utf8', timeout: 150_000 });
      try {
        const up = run('up');
        if (up.status !== 0) {
          throw new Error(`hack/cluster.sh up exited with ${String(up.status ?? up.signal)}:\n${up.stderr}`);
        }
        expect(await isClusterReady(loadKubeConfig(`${stateDir}/kubeconfig`))).toBe(true);

        const started = Date.now();
        const again = run('up');
        expect(again.status).toBe(0);
        expect(again.stderr).toContain('already up');
        expect(Date.now() - started).toBeLessThan(5000);

        const pids = readdirSync(`${stateDir}/pids`).map((f) =>
          Number(readFileSync(`${stateDir}/pids/${f}`, 'utf8')),
        );
        expect(pids).toHaveLength(5);
        expect(pids.every(processAlive)).toBe(true);

        const down = run('down');
        expect(down.status).toBe(0);
        expect(pids.filter(processAlive)).toEqual([]);
        expect(processesMentioning(stateDir)).toEqual([]);
        expect(existsSync(stateDir)).toBe(false);
      } finally {
        if (existsSync(stateDir)) {
          run('down');
        }
      }
    },
    180_000,
  );
});
