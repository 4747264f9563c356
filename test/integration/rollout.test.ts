// Rollouts on the local cluster, with the operator as a real process: bad images are rolled back (by the
// deadline, or early for crash loops and image pull failures), the previous image keeps running, an
// operator restarted mid-rollout still finishes the job, the retry annotation re-attempts, and a first
// deployment that fails ends Failed. Verification is off: no HTTP reaches simulated pods.
import { AppsV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { HelloWorld } from '../../operator/src/crd/types.js';
import { loadKubeConfig, waitFor } from '../support/cluster.js';
import {
  applyHelloWorld,
  conditionOf,
  helloWorld,
  kubectl,
  metricValue,
  operatorInNamespace,
  type OperatorProcess,
  simulatedSpec,
  startOperator,
  waitForHelloWorld,
  type OperatorInNamespace,
} from '../support/operator.js';

let kc: KubeConfig;
let apps: AppsV1Api;
let namespace: string;
let operator: OperatorProcess;
let cleanup: OperatorInNamespace['cleanup'];
const timings: string[] = [];

const GOOD = 'hello/api:1.0.0';
const phase = (expected: string) => (hw: HelloWorld) =>
  hw.status?.phase === expected && hw.status.observedGeneration === hw.metadata.generation;

async function deploymentImage(name: string): Promise<string | undefined> {
  const dep = await apps.readNamespacedDeployment({ name, namespace });
  return dep.spec?.template.spec?.containers[0]?.image;
}

/** The Deployment controller's revision number of the ReplicaSet that runs this image (0 if none). */
async function replicaSetRevision(name: string, image: string): Promise<number> {
  const sets = await apps.listNamespacedReplicaSet({ namespace });
  const set = sets.items.find(
    (rs) =>
      rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === name) === true &&
      rs.spec?.template?.spec?.containers[0]?.image === image,
  );
  return Number(set?.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
}

/** `kubectl get hw NAME` as the server's table prints it: each column's header mapped to its value. */
function printerColumns(name: string, output?: 'wide'): Record<string, string> {
  const table = kubectl(['get', 'hw', name, '-n', namespace, ...(output ? ['-o', output] : [])]);
  const [header, row] = table.trim().split('\n');
  const values = (row ?? '').trim().split(/\s+/);
  return Object.fromEntries(
    (header ?? '')
      .trim()
      .split(/\s+/)
      .map((column, i) => [column, values[i] ?? '']),
  );
}

/** Seconds from the bad spec being applied to the rollback recorded in status (1 s resolution). */
function secondsToRollback(hw: HelloWorld, appliedAtMs: number): number {
  return (new Date(hw.status?.lastRollback?.time ?? 0).getTime() - appliedAtMs) / 1000;
}

async function deployGood(name: string, deadlineSeconds: number): Promise<HelloWorld> {
  applyHelloWorld(
    helloWorld(
      namespace,
      name,
      simulatedSpec({ image: GOOD, rollout: { progressDeadlineSeconds: deadlineSeconds } }),
    ),
  );
  return waitForHelloWorld(kc, namespace, name, phase('Available'), `${name} to become Available`, {
    operator,
  });
}

beforeAll(async () => {
  kc = loadKubeConfig();
  apps = kc.makeApiClient(AppsV1Api);
  ({ namespace, operator, cleanup } = await operatorInNamespace('rollout'));
}, 180_000);

afterAll(async () => {
  if (timings.length > 0)
    console.log(`time from the bad spec being applied to the rollback:\n  ${timings.join('\n  ')}`);
  await cleanup(operator); // the one running now: a test restarts it
}, 60_000);

describe.each([
  // [image prefix, expected reason, progressDeadlineSeconds]: early failures get a deadline far beyond
  // the test's own timeout, so only early detection can make them pass.
  ['crashloop.invalid', 'CrashLooping', 600],
  ['pullfail.invalid', 'ImagePullFailed', 600],
  ['unready.invalid', 'ProgressDeadlineExceeded', 20],
])('an update to a %s image', (prefix, reason, deadline) => {
  const name = prefix.split('.')[0]!;
  const bad = `${prefix}/api:2.0.0`;

  it(`is rolled back with reason ${reason}, the previous image running`, async () => {
    const before = await deployGood(name, deadline);
    const appliedAt = Date.now();
    applyHelloWorld(
      helloWorld(
        namespace,
        name,
        simulatedSpec({ image: bad, rollout: { progressDeadlineSeconds: deadline } }),
      ),
    );
    const hw = await waitForHelloWorld(
      kc,
      namespace,
      name,
      phase('RolledBack'),
      `${name} to be rolled back`,
      {
        operator,
        timeoutMs: 90_000,
      },
    );
    expect(hw.status?.lastRollback).toMatchObject({
      reason,
      fromImage: bad,
      toImage: GOOD,
      toRevision: before.status?.stableRevision,
      message: expect.any(String) as unknown,
    });
    expect(conditionOf(hw, 'Degraded')).toMatchObject({ status: 'True', reason });
    expect(hw.spec.image).toBe(bad); // the spec is left as the user wrote it
    await waitFor(async () => (await deploymentImage(name)) === GOOD, {
      describe: `${name} to run ${GOOD} again`,
    });
    await waitForHelloWorld(
      kc,
      namespace,
      name,
      (h) => conditionOf(h, 'Progressing')?.status === 'False' && h.status?.readyReplicas === 2,
      `${name}'s rollback to complete`,
    );
    const events = kubectl([
      'get',
      'events',
      '-n',
      namespace,
      '--field-selector',
      `involvedObject.name=${name},type=Warning`,
    ]);
    expect(events).toContain(reason);
    // `kubectl get hw` shows both the image asked for and the one that runs, and why they differ.
    expect(printerColumns(name)).toMatchObject({
      NAME: name,
      IMAGE: bad,
      RUNNING: GOOD,
      PHASE: 'RolledBack',
      REASON: reason,
    });
    expect(printerColumns(name, 'wide')).toMatchObject({
      IMAGE: bad,
      RUNNING: GOOD,
      // While the stable pods come back, and once they are.
      PROGRESS: expect.stringMatching(/^(RollbackInProgress|RolledBack)$/) as unknown,
      REVISION: hw.status?.currentRevision,
      STABLE: before.status?.stableRevision,
      REPLICAS: '2',
    });
    expect(
      metricValue(await operator.metrics(), 'helloworld_rollbacks_total', { reason }),
    ).toBeGreaterThanOrEqual(1);
    expect(metricValue(await operator.metrics(), 'helloworld_rolled_back', { namespace, name, reason })).toBe(
      1,
    );
    timings.push(
      `${reason}: ${secondsToRollback(hw, appliedAt).toFixed(0)} s (deadline ${String(deadline)} s)`,
    );
  }, 150_000);
});

describe('the retry annotation', () => {
  it('re-attempts a failed revision, which fails again', async () => {
    const name = 'retry';
    await deployGood(name, 600);
    applyHelloWorld(
      helloWorld(
        namespace,
        name,
        simulatedSpec({ image: 'pullfail.invalid/api:3', rollout: { progressDeadlineSeconds: 600 } }),
      ),
    );
    const first = await waitForHelloWorld(kc, namespace, name, phase('RolledBack'), 'the first rollback', {
      operator,
    });
    // Nothing is retried on its own: the failed revision stays off while the spec is unchanged.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect(await deploymentImage(name)).toBe(GOOD);

    const revisionBefore = await replicaSetRevision(name, 'pullfail.invalid/api:3');
    kubectl(['annotate', 'hw', name, '-n', namespace, 'hello.dev/retry=1']);
    const second = await waitForHelloWorld(
      kc,
      namespace,
      name,
      (h) =>
        h.status?.phase === 'RolledBack' &&
        h.status.observedRetry === '1' &&
        h.status.lastRollback?.time !== first.status?.lastRollback?.time,
      'the retried revision to be rolled back again',
      { operator, timeoutMs: 90_000 },
    );
    expect(second.status?.lastRollback).toMatchObject({
      reason: 'ImagePullFailed',
      fromImage: 'pullfail.invalid/api:3',
    });
    // The failed image really ran again: the Deployment moved its ReplicaSet to a newer revision. (Polling the
    // Deployment's image instead races the rollback, which takes under a second for a pull failure.)
    expect(await replicaSetRevision(name, 'pullfail.invalid/api:3')).toBeGreaterThan(revisionBefore);
    const events = kubectl([
      'get',
      'events',
      '-n',
      namespace,
      '--field-selector',
      `involvedObject.name=${name}`,
    ]);
    expect(events).toContain('RetryRequested');
  }, 200_000);
});

describe('a first deployment that fails', () => {
  it('ends Failed with nothing to roll back to', async () => {
    const name = 'first';
    applyHelloWorld(
      helloWorld(
        namespace,
        name,
        simulatedSpec({ image: 'crashloop.invalid/api:1', rollout: { progressDeadlineSeconds: 600 } }),
      ),
    );
    const hw = await waitForHelloWorld(kc, namespace, name, phase('Failed'), 'the first deployment to fail', {
      operator,
      timeoutMs: 90_000,
    });
    expect(conditionOf(hw, 'Degraded')).toMatchObject({ status: 'True', reason: 'CrashLooping' });
    expect(hw.status?.stableRevision).toBeUndefined();
    expect(await deploymentImage(name)).toBe('crashloop.invalid/api:1');
  }, 120_000);
});

describe('an operator restarted in the middle of a rollout', () => {
  it('resumes and still rolls back', async () => {
    const name = 'restart';
    await deployGood(name, 20);
    applyHelloWorld(
      helloWorld(
        namespace,
        name,
        simulatedSpec({ image: 'unready.invalid/api:2', rollout: { progressDeadlineSeconds: 20 } }),
      ),
    );
    await waitForHelloWorld(kc, namespace, name, phase('Progressing'), 'the rollout to start', { operator });
    await operator.kill();
    operator = await startOperator({ env: { LEADER_ELECTION: 'false', WATCH_NAMESPACE: namespace } });
    const hw = await waitForHelloWorld(
      kc,
      namespace,
      name,
      phase('RolledBack'),
      'the rollback after the restart',
      {
        operator,
        timeoutMs: 90_000,
      },
    );
    expect(hw.status?.lastRollback?.reason).toBe('ProgressDeadlineExceeded');
    await waitFor(async () => (await deploymentImage(name)) === GOOD, {
      describe: `${name} to run ${GOOD} again`,
    });
  }, 200_000);
});
