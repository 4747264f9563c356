// reconcile() called directly, as kubebuilder's envtest suites call Reconcile: the real API server of the
// local cluster, the real client for writes and the real informers for reads, and no operator process,
// work queue or leader election. Each call gets caches freshly listed from the API server, so what a
// reconcile sees is what the cluster holds at that moment. Verification is off: no HTTP reaches
// simulated pods; the rollout is judged on the Deployment and the pods that kwok reports.
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { createLogger } from '#common/logger.js';
import { OPERATOR_NAME } from '../../operator/src/crd/labels.js';
import type { HelloWorld } from '../../operator/src/crd/types.js';
import { CLIENT_OPTIONS } from '../../operator/src/controller/client-options.js';
import { CacheReader, createOperatorInformers } from '../../operator/src/controller/cache-reader.js';
import { reconcile, type ReconcileResult } from '../../operator/src/controller/reconcile.js';
import { StatusWrites } from '../../operator/src/controller/status-writes.js';
import { REVISION_ANNOTATION } from '../../operator/src/rollout/revision.js';
import { EventRecorder, type EventSink } from '../../operator/src/runtime/events.js';
import { InformerFactory } from '../../operator/src/runtime/informer-factory.js';
import { KubeClient } from '../../operator/src/runtime/kube.js';
import { HttpKubeRest } from '../../operator/src/runtime/rest.js';
import type { Verifier } from '../../operator/src/verification/types.js';
import { createTestNamespace, deleteTestNamespace, loadKubeConfig, waitFor } from '../support/cluster.js';
import {
  applyHelloWorld,
  conditionOf,
  getHelloWorld,
  helloWorld,
  installCrd,
  kubectl,
  simulatedSpec,
} from '../support/operator.js';

const GOOD = 'hello/api:1.0.0';
const NEXT = 'hello/api:1.1.0';
/** kwok leaves the pods of this image waiting in ImagePullBackOff (hack/cluster/kwok-stages.yaml). */
const PULL_FAILS = 'pullfail.invalid/api:9';

const logger = createLogger('reconcile-test', 'silent');
let kc: KubeConfig;
let apps: AppsV1Api;
let core: CoreV1Api;
let namespace: string;
let client: KubeClient;
let recorder: EventRecorder;
/** What the operator keeps between reconciles: the status writes its cache may not show yet. */
const statusWrites = new StatusWrites();
const writeLog: string[] = [];
const events: { name: string; type: string; reason: string }[] = [];
const rollbacks: string[] = [];

/** Verification is off in every spec here: a call means the rollout asked for what it must not. */
const noVerification: Verifier = {
  smoke: () => Promise.reject(new Error('verification is off: smoke must not be called')),
  sample: () => Promise.reject(new Error('verification is off: sample must not be called')),
};

/** The real recorder, noting what was recorded for the assertions. */
const eventSink: EventSink = {
  record: (subject, type, reason, message) => {
    events.push({ name: subject.metadata?.name ?? '', type, reason });
    return recorder.record(subject, type, reason, message);
  },
};

interface Reconciled {
  result: ReconcileResult;
  /** Every write the reconcile made, as verb/kind: child applies and deletes, and status writes. */
  writes: string[];
  hw: HelloWorld;
}

/** One reconcile of `name`, on caches listed from the API server just before it. */
async function reconcileOnce(name: string): Promise<Reconciled> {
  const factory = InformerFactory.fromConnection(kc, logger, undefined, [namespace]);
  const informers = createOperatorInformers(factory);
  factory.start();
  try {
    await factory.waitForSync();
    const before = writeLog.length;
    const result = await reconcile(
      {
        reader: new CacheReader(informers, client),
        writer: client,
        statusWrites,
        events: eventSink,
        verifier: noVerification,
        prometheusOperatorInstalled: () => false,
        now: () => new Date(),
        onRollback: (reason) => rollbacks.push(reason),
      },
      { namespace, name },
      logger,
    );
    return { result, writes: writeLog.slice(before), hw: await getHelloWorld(kc, namespace, name) };
  } finally {
    await factory.stop();
  }
}

function deploymentImage(deployment: V1Deployment): string | undefined {
  return deployment.spec?.template.spec?.containers[0]?.image;
}

const readDeployment = (name: string): Promise<V1Deployment> =>
  apps.readNamespacedDeployment({ name, namespace });

/** Waits until the Deployment controller reports the rollout of the Deployment's current template done. */
async function waitForRolledOut(name: string): Promise<V1Deployment> {
  return waitFor(
    async () => {
      const dep = await readDeployment(name);
      const want = dep.spec?.replicas ?? 1;
      const s = dep.status ?? {};
      const done =
        (s.observedGeneration ?? 0) >= (dep.metadata?.generation ?? 1) &&
        s.updatedReplicas === want &&
        s.availableReplicas === want &&
        s.replicas === want;
      return done && dep;
    },
    { describe: `Deployment ${name} to finish its rollout`, timeoutMs: 60_000, intervalMs: 250 },
  );
}

/** A HelloWorld of `image`, reconciled until its first revision is Available. */
async function available(name: string, image = GOOD): Promise<HelloWorld> {
  applyHelloWorld(helloWorld(namespace, name, spec(image)));
  await reconcileOnce(name);
  await waitForRolledOut(name);
  const { hw } = await reconcileOnce(name);
  expect(hw.status?.phase).toBe('Available');
  return hw;
}

/** Deadlines far beyond the test's: only the rollout's own verdicts count. */
const spec = (image: string) => simulatedSpec({ image, rollout: { progressDeadlineSeconds: 600 } });

/** A hand edit of one field of the Service `name`, as `kubectl patch --type json` makes it. */
const editService = (name: string, path: string, value: number): void => {
  kubectl([
    'patch',
    'service',
    name,
    '-n',
    namespace,
    '--type',
    'json',
    '-p',
    JSON.stringify([{ op: 'replace', path, value }]),
  ]);
};

const reasonsOf = (name: string): string[] => events.filter((e) => e.name === name).map((e) => e.reason);

beforeAll(async () => {
  kc = loadKubeConfig();
  apps = kc.makeApiClient(AppsV1Api);
  core = kc.makeApiClient(CoreV1Api);
  client = KubeClient.fromKubeConfig(kc, {
    ...CLIENT_OPTIONS,
    onWrite: (verb, kind) => writeLog.push(`${verb}/${kind}`),
  });
  recorder = new EventRecorder({ rest: new HttpKubeRest(kc), logger, component: OPERATOR_NAME });
  installCrd();
  namespace = await createTestNamespace('reconcile');
}, 120_000);

afterAll(async () => {
  await deleteTestNamespace(namespace);
}, 60_000);

describe('reconcile, called directly against the API server', () => {
  it('creates every child of a new HelloWorld, owned by it, and starts its first rollout', async () => {
    const name = 'created';
    applyHelloWorld(helloWorld(namespace, name, spec(GOOD)));
    const { hw, result, writes } = await reconcileOnce(name);
    expect(writes.sort()).toEqual([
      'apply/Deployment',
      'apply/NetworkPolicy',
      'apply/PodDisruptionBudget',
      'apply/Secret',
      'apply/Service',
      'apply/Service',
      'apply/StatefulSet',
      'status/HelloWorld',
    ]);

    const owner = { kind: 'HelloWorld', name, uid: hw.metadata.uid, controller: true };
    const children = [
      ['deployment', name],
      ['service', name],
      ['poddisruptionbudget', name],
      ['service', `${name}-redis`],
      ['statefulset', `${name}-redis`],
      ['secret', `${name}-redis-auth`],
      ['networkpolicy', `${name}-redis`],
    ];
    for (const [kind, child] of children) {
      const obj = JSON.parse(kubectl(['get', kind!, child!, '-n', namespace, '-o', 'json'])) as {
        metadata: { ownerReferences?: unknown[] };
      };
      expect({ kind, child, owners: obj.metadata.ownerReferences }).toEqual({
        kind,
        child,
        owners: [expect.objectContaining(owner)],
      });
    }
    const deployment = await readDeployment(name);
    expect(deploymentImage(deployment)).toBe(GOOD);
    const revision = deployment.spec?.template.metadata?.annotations?.[REVISION_ANNOTATION];
    expect(revision).toMatch(/^[0-9a-f]{10}$/);

    expect(hw.status).toMatchObject({
      phase: 'Progressing',
      currentRevision: revision,
      observedGeneration: 1,
    });
    expect(hw.status?.stableRevision).toBeUndefined();
    expect(conditionOf(hw, 'Reconciled')).toMatchObject({ status: 'True', reason: 'Reconciled' });
    expect(conditionOf(hw, 'Progressing')).toMatchObject({ status: 'True', reason: 'RolloutInProgress' });
    expect(conditionOf(hw, 'Monitoring')).toMatchObject({ status: 'False' });
    expect(reasonsOf(name)).toEqual(['RolloutStarted']);
    // A moving rollout is looked at again without waiting for an event.
    expect(result.requeueAfterMs).toBeGreaterThan(0);
    expect(result.requeueAfterMs).toBeLessThanOrEqual(5_000);
  }, 90_000);

  it('rolls a new image out and makes it the stable revision once the Deployment is done', async () => {
    const name = 'rolled';
    const first = await available(name);
    expect(first.status).toMatchObject({ stableImage: GOOD });

    applyHelloWorld(helloWorld(namespace, name, spec(NEXT)));
    const started = await reconcileOnce(name);
    const deployment = await readDeployment(name);
    expect(deploymentImage(deployment)).toBe(NEXT);
    const revision = deployment.spec?.template.metadata?.annotations?.[REVISION_ANNOTATION];
    expect(revision).not.toBe(first.status?.stableRevision);
    expect(started.hw.status).toMatchObject({
      phase: 'Progressing',
      currentRevision: revision,
      stableRevision: first.status?.stableRevision,
      observedGeneration: 2,
    });

    await waitForRolledOut(name);
    const { hw } = await reconcileOnce(name);
    expect(hw.status).toMatchObject({
      phase: 'Available',
      currentRevision: revision,
      stableRevision: revision,
      stableImage: NEXT,
      readyReplicas: 2,
    });
    expect(conditionOf(hw, 'Progressing')).toMatchObject({ status: 'False', reason: 'RolloutSucceeded' });
    expect(reasonsOf(name)).toEqual([
      'RolloutStarted',
      'RolloutSucceeded',
      'RolloutStarted',
      'RolloutSucceeded',
    ]);
  }, 120_000);

  it('puts edited and deleted children back, then writes nothing while nothing changes', async () => {
    const name = 'drifted';
    await available(name);
    const settled = await reconcileOnce(name);
    expect(settled.writes).toEqual([]);

    editService(name, '/spec/ports/0/targetPort', 9999);
    kubectl(['delete', 'poddisruptionbudget', name, '-n', namespace, '--wait=true']);

    const repaired = await reconcileOnce(name);
    expect(repaired.writes.sort()).toEqual(['apply/PodDisruptionBudget', 'apply/Service']);
    const service = await core.readNamespacedService({ name, namespace });
    expect(service.spec?.ports?.[0]?.targetPort).toBe('http');
    expect(kubectl(['get', 'poddisruptionbudget', name, '-n', namespace, '-o', 'name']).trim()).toBe(
      `poddisruptionbudget.policy/${name}`,
    );

    const again = await reconcileOnce(name);
    expect(again.writes).toEqual([]);
    expect(again.hw.metadata.resourceVersion).toBe(repaired.hw.metadata.resourceVersion);
  }, 120_000);

  it('puts back a Service port someone renumbered, which apply alone cannot', async () => {
    const name = 'renumbered';
    await available(name);
    editService(name, '/spec/ports/0/port', 8081);
    const repaired = await reconcileOnce(name);
    expect(repaired.writes.sort()).toEqual(['apply/Service', 'patch/Service']);
    const service = await core.readNamespacedService({ name, namespace });
    expect(service.spec?.ports?.map((p) => `${p.name ?? ''}:${String(p.port)}`)).toEqual(['http:80']);
    expect((await reconcileOnce(name)).writes).toEqual([]);
  }, 120_000);

  it('rolls back to the stable revision when the new one cannot pull its image', async () => {
    const name = 'rollback';
    const stable = await available(name);

    applyHelloWorld(helloWorld(namespace, name, spec(PULL_FAILS)));
    const started = await reconcileOnce(name);
    expect(started.hw.status?.phase).toBe('Progressing');
    const failing = started.hw.status?.currentRevision;
    expect(deploymentImage(await readDeployment(name))).toBe(PULL_FAILS);

    await waitFor(
      async () => {
        const pods = await core.listNamespacedPod({
          namespace,
          labelSelector: `app.kubernetes.io/instance=${name}`,
        });
        return pods.items.some(
          (p) =>
            p.metadata?.annotations?.[REVISION_ANNOTATION] === failing &&
            p.status?.containerStatuses?.some((c) => /ImagePull/.test(c.state?.waiting?.reason ?? '')),
        );
      },
      { describe: `a pod of revision ${failing ?? ''} waiting to pull its image`, timeoutMs: 60_000 },
    );
    const failed = await reconcileOnce(name);
    expect(failed.hw.status).toMatchObject({
      phase: 'RolledBack',
      currentRevision: stable.status?.stableRevision,
      stableRevision: stable.status?.stableRevision,
      failedRevision: failing,
      lastRollback: {
        reason: 'ImagePullFailed',
        fromRevision: failing,
        toRevision: stable.status?.stableRevision,
        fromImage: PULL_FAILS,
        toImage: GOOD,
      },
    });
    expect(conditionOf(failed.hw, 'Degraded')).toMatchObject({ status: 'True', reason: 'ImagePullFailed' });
    expect(failed.result).toEqual({ requeueAfterMs: 0 }); // apply the stable template at once
    expect(rollbacks).toContain('ImagePullFailed');

    // The requeue applies the stable revision's template from the ReplicaSet history; the spec is untouched.
    const back = await reconcileOnce(name);
    const deployment = await readDeployment(name);
    expect(deploymentImage(deployment)).toBe(GOOD);
    expect(deployment.spec?.template.metadata?.annotations?.[REVISION_ANNOTATION]).toBe(
      stable.status?.stableRevision,
    );
    expect(back.hw.spec.image).toBe(PULL_FAILS);
    expect(back.hw.status?.phase).toBe('RolledBack');

    await waitForRolledOut(name);
    const { hw } = await reconcileOnce(name);
    expect(hw.status?.phase).toBe('RolledBack');
    expect(conditionOf(hw, 'Progressing')).toMatchObject({ status: 'False', reason: 'RolledBack' });
    expect(reasonsOf(name)).toEqual([
      'RolloutStarted',
      'RolloutSucceeded',
      'RolloutStarted',
      'ImagePullFailed',
      'RollbackComplete',
    ]);
    expect(deploymentImage(await readDeployment(name))).toBe(GOOD);
  }, 150_000);
});
