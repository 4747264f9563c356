// The operator as a real process against the real API server of the local cluster: children and their
// owner references, updates, zero writes in a steady state, drift repair, autoscaling, the scale
// subresource and garbage collection.
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  PolicyV1Api,
  type KubeConfig,
  type V1Deployment,
} from '@kubernetes/client-node';
import { isApiError, loadKubeConfig, waitFor } from '../support/cluster.js';
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
let apps: AppsV1Api;
let core: CoreV1Api;
let namespace: string;
let operator: OperatorProcess;
let cleanup: () => Promise<void>;

const writes = async (): Promise<number> =>
  metricValue(await operator.metrics(), 'helloworld_kube_writes_total');
const available =
  (generation?: number) =>
  (hw: { status?: { conditions?: { type: string; status: string }[]; observedGeneration?: number } }) =>
    hw.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') === true &&
    (generation === undefined || hw.status.observedGeneration === generation);

beforeAll(async () => {
  kc = loadKubeConfig();
  apps = kc.makeApiClient(AppsV1Api);
  core = kc.makeApiClient(CoreV1Api);
  ({ namespace, operator, cleanup } = await operatorInNamespace('operator'));
}, 180_000);

afterAll(() => cleanup(), 60_000);

describe('a new HelloWorld', () => {
  const name = 'create';
  beforeAll(async () => {
    applyHelloWorld(helloWorld(namespace, name, simulatedSpec()));
    await waitForHelloWorld(kc, namespace, name, available(), 'the HelloWorld to become Available', {
      operator,
    });
  }, 90_000);

  it('gets every child, each owned by the HelloWorld', async () => {
    const uid = kubectlGet('hw', name, namespace).metadata?.uid;
    const children = [
      ['deployment', name],
      ['service', name],
      ['pdb', name],
      ['statefulset', `${name}-redis`],
      ['service', `${name}-redis`],
      ['secret', `${name}-redis-auth`],
      ['networkpolicy', `${name}-redis`],
    ];
    for (const [kind, child] of children) {
      const obj = kubectlGet(kind!, child!, namespace);
      expect({ kind, child, owners: obj.metadata?.ownerReferences }).toEqual({
        kind,
        child,
        owners: [expect.objectContaining({ kind: 'HelloWorld', name, uid, controller: true })],
      });
      expect(obj.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('helloworld-operator');
    }
    await expect(
      kc.makeApiClient(AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ name, namespace }),
    ).rejects.toThrow();
  }, 30_000);

  it('reports a complete status', async () => {
    const hw = await waitForHelloWorld(kc, namespace, name, available(1), 'status for generation 1');
    expect(hw.status).toMatchObject({
      observedGeneration: 1,
      phase: 'Available',
      replicas: 2,
      readyReplicas: 2,
      updatedReplicas: 2,
      selector: `app.kubernetes.io/name=helloworld,app.kubernetes.io/instance=${name},app.kubernetes.io/component=api`,
    });
    expect(hw.status?.currentRevision).toBe(hw.status?.stableRevision);
    for (const type of ['Available', 'Progressing', 'Degraded']) {
      expect(conditionOf(hw, type)).toMatchObject({
        reason: expect.stringMatching(/^[A-Z][A-Za-z]+$/) as unknown,
      });
    }
    expect(conditionOf(hw, 'Degraded')?.status).toBe('False');
  });

  it('makes no write at all in a steady state', async () => {
    const before = await writes();
    await new Promise((resolve) => setTimeout(resolve, 60_000));
    expect(await writes()).toBe(before);
  }, 90_000);

  it('repairs a deleted or edited child', async () => {
    await core.deleteNamespacedService({ name, namespace });
    await waitFor(async () => (await core.readNamespacedService({ name, namespace })).metadata?.uid, {
      describe: 'the deleted Service to come back',
    });
    kubectl([
      'patch',
      'deployment',
      name,
      '-n',
      namespace,
      '--type',
      'merge',
      '-p',
      '{"spec":{"progressDeadlineSeconds":999}}',
    ]);
    await waitFor(
      async () =>
        (await apps.readNamespacedDeployment({ name, namespace })).spec?.progressDeadlineSeconds === 20,
      {
        describe: 'the edited Deployment field to be restored',
      },
    );
  }, 60_000);

  it('rolls a spec change out to the Deployment', async () => {
    applyHelloWorld(helloWorld(namespace, name, simulatedSpec({ image: 'hello/api:1.1.0' })));
    // Available stays True through a rollout (the old pods serve); the rollout is done when the new
    // revision has been promoted to stable.
    const hw = await waitForHelloWorld(
      kc,
      namespace,
      name,
      (h) =>
        available(2)(h) &&
        h.status?.phase === 'Available' &&
        h.status.stableRevision !== undefined &&
        h.status.stableRevision === h.status.currentRevision,
      'the new revision to be promoted',
      { operator },
    );
    const dep = await apps.readNamespacedDeployment({ name, namespace });
    expect(dep.spec?.template.spec?.containers[0]?.image).toBe('hello/api:1.1.0');
    expect(hw.status?.stableRevision).toBe(dep.spec?.template.metadata?.annotations?.['hello.dev/revision']);
  }, 90_000);

  it('applies a user variable that replaces one of its own (server-side apply takes each name once)', async () => {
    const url = 'redis://redis.elsewhere.example:6379/0';
    applyHelloWorld(
      helloWorld(
        namespace,
        name,
        simulatedSpec({ image: 'hello/api:1.1.0', env: [{ name: 'REDIS_URL', value: url }] }),
      ),
    );
    await waitForHelloWorld(
      kc,
      namespace,
      name,
      (h) => h.status?.observedGeneration === h.metadata.generation && h.status?.phase === 'Available',
      'the HelloWorld with REDIS_URL overridden to be reconciled',
      { operator },
    );
    const env = (await apps.readNamespacedDeployment({ name, namespace })).spec?.template.spec?.containers[0]
      ?.env;
    expect(env?.filter((e) => e.name === 'REDIS_URL')).toEqual([{ name: 'REDIS_URL', value: url }]);
  }, 90_000);

  it('scales through the scale subresource', async () => {
    kubectl(['scale', 'hw', name, '-n', namespace, '--replicas=3']);
    await waitFor(
      async () => (await apps.readNamespacedDeployment({ name, namespace })).spec?.replicas === 3,
      {
        describe: 'the Deployment to have 3 replicas',
      },
    );
    await waitForHelloWorld(
      kc,
      namespace,
      name,
      (hw) => hw.status?.readyReplicas === 3,
      'status.readyReplicas 3',
    );
  }, 60_000);
});

describe('autoscaling', () => {
  const name = 'scaled';
  const hpaApi = () => kc.makeApiClient(AutoscalingV2Api);

  it('creates an HPA that owns the replica count, and removes it when switched off', async () => {
    applyHelloWorld(
      helloWorld(namespace, name, simulatedSpec({ autoscaling: { minReplicas: 2, maxReplicas: 4 } })),
    );
    const hpa = await waitFor(
      async () => hpaApi().readNamespacedHorizontalPodAutoscaler({ name, namespace }),
      {
        describe: 'the HPA to exist',
        timeoutMs: 60_000,
      },
    );
    expect(hpa.spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 4,
      scaleTargetRef: { kind: 'Deployment', name },
    });
    const dep: V1Deployment = await apps.readNamespacedDeployment({ name, namespace });
    const owned = JSON.stringify(
      dep.metadata?.managedFields
        ?.filter((f) => f.manager === 'helloworld-operator')
        .map((f) => f.fieldsV1 as unknown),
    );
    expect(owned).not.toContain('"f:replicas"');

    applyHelloWorld(helloWorld(namespace, name, simulatedSpec({ replicas: 2 })));
    await waitFor(
      async () => {
        try {
          await hpaApi().readNamespacedHorizontalPodAutoscaler({ name, namespace });
          return false;
        } catch (error) {
          return isApiError(error, 404);
        }
      },
      { describe: 'the HPA to be removed', timeoutMs: 60_000 },
    );
  }, 150_000);
});

describe('a single replica', () => {
  it('gets a disruption budget that never blocks a drain', async () => {
    const name = 'single';
    applyHelloWorld(helloWorld(namespace, name, simulatedSpec({ replicas: 1 })));
    const pdb = await waitFor(
      async () => kc.makeApiClient(PolicyV1Api).readNamespacedPodDisruptionBudget({ name, namespace }),
      {
        describe: 'the PDB to exist',
        timeoutMs: 60_000,
      },
    );
    expect(pdb.spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
  }, 90_000);
});

describe('deleting a HelloWorld', () => {
  it('garbage-collects its children', async () => {
    const name = 'deleted';
    applyHelloWorld(helloWorld(namespace, name, simulatedSpec()));
    await waitForHelloWorld(kc, namespace, name, available(), 'the HelloWorld to become Available', {
      operator,
    });
    kubectl(['delete', 'hw', name, '-n', namespace, '--wait=true']);
    await waitFor(
      async () => {
        try {
          await apps.readNamespacedDeployment({ name, namespace });
          return false;
        } catch (error) {
          return isApiError(error, 404);
        }
      },
      { describe: 'the Deployment to be garbage-collected', timeoutMs: 60_000 },
    );
  }, 150_000);
});

describe('a child the API server refuses', () => {
  const name = 'refused';
  const quota = 'no-disruption-budgets';

  afterAll(() => {
    kubectl(['-n', namespace, 'delete', 'resourcequota', quota, '--ignore-not-found']);
  });

  it('shows Reconciled=False with the error and a Warning event, then recovers by itself', async () => {
    // A quota of zero PodDisruptionBudgets makes the API server refuse the operator's PDB apply.
    kubectl(
      ['apply', '--server-side', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: { name: quota, namespace },
        spec: { hard: { 'count/poddisruptionbudgets.policy': '0' } },
      }),
    );
    applyHelloWorld(helloWorld(namespace, name, simulatedSpec()));
    const failed = await waitForHelloWorld(
      kc,
      namespace,
      name,
      (hw) => conditionOf(hw, 'Reconciled')?.status === 'False',
      'the Reconciled condition to turn False',
      { operator, timeoutMs: 60_000 },
    );
    const condition = failed.status?.conditions?.find((c) => c.type === 'Reconciled');
    expect(condition?.reason).toBe('ReconcileFailed');
    expect(condition?.message).toMatch(/poddisruptionbudgets.*forbidden|forbidden.*quota/i);
    const events = kubectl([
      '-n',
      namespace,
      'get',
      'events',
      '--field-selector',
      `involvedObject.name=${name},reason=ReconcileFailed,type=Warning`,
      '-o',
      'jsonpath={.items[*].message}',
    ]);
    expect(events).toMatch(/quota/i);

    kubectl(['-n', namespace, 'delete', 'resourcequota', quota]);
    // The work queue's backoff brings the reconcile back; nothing else changes in the meantime.
    const recovered = await waitForHelloWorld(
      kc,
      namespace,
      name,
      (hw) => conditionOf(hw, 'Reconciled')?.status === 'True' && available()(hw),
      'the Reconciled condition to turn True again',
      { operator, timeoutMs: 120_000 },
    );
    expect(conditionOf(recovered, 'Reconciled')?.reason).toBe('Reconciled');
    expect(kubectlGet('pdb', name, namespace).metadata?.name).toBe(name);
  }, 200_000);
});

describe('with the Prometheus Operator installed', () => {
  const name = 'monitored';
  let installedHere = false;

  beforeAll(() => {
    installedHere = !kubectl(['get', 'crd', '-o', 'name']).includes('servicemonitors.monitoring.coreos.com');
    if (installedHere)
      kubectl(['apply', '--server-side', '-f', 'test/fixtures/prometheus-operator-crds.yaml']);
  });

  afterAll(() => {
    if (installedHere)
      kubectl(['delete', '-f', 'test/fixtures/prometheus-operator-crds.yaml', '--wait=false']);
  });

  it('gets an owned ServiceMonitor and PrometheusRule, found without a restart', async () => {
    applyHelloWorld(helloWorld(namespace, name, simulatedSpec()));
    // The operator looks for the CRDs once a minute.
    const hw = await waitForHelloWorld(
      kc,
      namespace,
      name,
      (h) => conditionOf(h, 'Monitoring')?.status === 'True',
      'the Monitoring condition to turn True',
      { operator, timeoutMs: 100_000 },
    );
    expect(conditionOf(hw, 'Monitoring')?.reason).toBe('MonitoringEnabled');
    for (const kind of ['servicemonitor', 'prometheusrule']) {
      const obj = kubectlGet(kind, name, namespace);
      expect(obj.metadata?.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'HelloWorld', name, controller: true }),
      ]);
    }
  }, 120_000);
});
