// The Canary strategy on the local cluster, with the operator as a real process (docs/rollouts.md,
// "Canary"): the new revision runs in NAME-canary beside the untouched stable Deployment, goes through
// its steps (a pause waiting for hello.dev/promote survives an operator restart), and the stable
// Deployment takes it at the end; a crash-looping canary is removed while the stable Deployment never
// changes; a name that is someone else's Deployment is not taken over. Verification is off on simulated
// nodes, so a verify step passes once its pods are ready (the checks themselves: e2e on real pods).
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import type { HelloWorld, HelloWorldSpec } from '../../operator/src/crd/types.js';
import { loadKubeConfig } from '../support/cluster.js';
import { waitFor } from '../support/wait.js';
import {
  applyHelloWorld,
  conditionOf,
  events,
  helloWorld,
  kubectl,
  operatorInNamespace,
  type OperatorProcess,
  simulatedSpec,
  startOperator,
  waitForHelloWorld,
} from '../support/operator.js';

let kc: KubeConfig;
let namespace: string;
let operator: OperatorProcess;
let cleanup: (current?: OperatorProcess) => Promise<void>;

const GOOD = 'hello/api:1.0.0';
const GOOD2 = 'hello/api:2.0.0';
const CRASHING = 'crashloop.invalid/api:3.0.0';
const STEPS = [
  { canary: { replicas: 1 } },
  { verify: {} },
  { pause: {} },
  { canary: { replicas: '100%' } },
  { pause: { duration: '2s' } },
];

function canarySpec(image: string): Partial<HelloWorldSpec> {
  const spec = simulatedSpec({ image, rollout: { progressDeadlineSeconds: 600 } });
  return { ...spec, rollout: { ...spec.rollout, strategy: 'Canary', steps: STEPS } };
}

const current = (hw: HelloWorld): boolean => hw.status?.observedGeneration === hw.metadata.generation;

async function deployment(name: string): Promise<V1Deployment | undefined> {
  return kc
    .makeApiClient(AppsV1Api)
    .readNamespacedDeployment({ name, namespace })
    .catch(() => undefined);
}

/** `image track ready` of each API pod of the HelloWorld that is not terminating. */
async function pods(name: string): Promise<string[]> {
  const selector = `app.kubernetes.io/instance=${name},app.kubernetes.io/component=api`;
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: selector });
  return list.items
    .filter((p) => p.metadata?.deletionTimestamp === undefined)
    .map((p) => {
      const ready = p.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown';
      return `${p.spec?.containers[0]?.image ?? ''} ${p.metadata?.labels?.['hello.dev/track'] ?? 'stable'} ${ready}`;
    })
    .sort();
}

/** The canary Deployment is deleted (the garbage collector then takes its pods). */
const canaryGone = (name: string): Promise<boolean> =>
  waitFor(async () => (await deployment(`${name}-canary`)) === undefined, {
    timeoutMs: 60_000,
    describe: `the Deployment ${name}-canary to be deleted`,
  });

/** The Deployment controller's rollout number: it moves only when a new ReplicaSet rolls. */
const rolloutRevision = (d: V1Deployment | undefined): string | undefined =>
  d?.metadata?.annotations?.['deployment.kubernetes.io/revision'];

async function podNames(name: string): Promise<string[]> {
  const selector = `app.kubernetes.io/instance=${name},app.kubernetes.io/component=api`;
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: selector });
  return list.items
    .filter((p) => p.metadata?.deletionTimestamp === undefined)
    .map((p) => p.metadata?.name ?? '')
    .sort();
}

const reasons = (name: string): string[] =>
  events(namespace, `involvedObject.name=${name},involvedObject.kind=HelloWorld`).map((e) => e.reason ?? '');

async function stableOn(name: string, image: string): Promise<HelloWorld> {
  applyHelloWorld(helloWorld(namespace, name, canarySpec(image)));
  return waitForHelloWorld(
    kc,
    namespace,
    name,
    (hw) => current(hw) && hw.status?.phase === 'Available' && hw.status.stableImage === image,
    `${name} to be Available on ${image}`,
    { operator },
  );
}

beforeAll(async () => {
  kc = loadKubeConfig();
  ({ namespace, operator, cleanup } = await operatorInNamespace('canary'));
}, 180_000);

afterAll(() => cleanup(operator), 60_000); // the one running now: the test restarts it

describe('the Canary strategy', () => {
  it('runs the steps beside the stable pods, waits for promotion across a restart, then promotes', async () => {
    const name = 'web';
    await stableOn(name, GOOD); // the first revision rolls out as with Rolling
    const stableBefore = await deployment(name);
    const stablePods = await podNames(name);

    applyHelloWorld(helloWorld(namespace, name, canarySpec(GOOD2)));
    const paused = await waitForHelloWorld(
      kc,
      namespace,
      name,
      (hw) => current(hw) && hw.status?.phase === 'Paused' && hw.status.canary?.stepIndex === 2,
      'the canary to wait for promotion at step 3',
      { operator },
    );
    expect(paused.status?.canary).toMatchObject({
      replicas: 1,
      readyReplicas: 1,
      stableReplicas: 2,
      steps: 5,
    });
    expect(paused.status?.canary?.message).toBe(
      '3/5: pause until promoted: waiting for a new value of hello.dev/promote',
    );
    // The stable Deployment never changed; the canary Deployment is the HelloWorld's own.
    const stable = await deployment(name);
    expect(rolloutRevision(stable)).toBe(rolloutRevision(stableBefore));
    expect((await podNames(name)).filter((p) => !p.startsWith(`${name}-canary-`))).toEqual(stablePods);
    expect(stable?.spec?.template.spec?.containers[0]?.image).toBe(GOOD);
    const canary = await deployment(`${name}-canary`);
    expect(canary?.spec?.replicas).toBe(1);
    expect(canary?.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'HelloWorld',
      name,
      controller: true,
    });
    expect(canary?.spec?.selector.matchLabels).toMatchObject({
      'app.kubernetes.io/instance': name,
      'hello.dev/track': 'canary',
    });
    expect(await pods(name)).toEqual([`${GOOD} stable True`, `${GOOD} stable True`, `${GOOD2} canary True`]);
    const wide = kubectl(['get', 'hw', name, '-n', namespace, '-o', 'wide']);
    expect(wide).toMatch(/Paused/);
    expect(wide).toContain('3/5: pause until promoted');

    // A new operator process carries on at the same step.
    await operator.kill();
    operator = await startOperator({ env: { LEADER_ELECTION: 'false', WATCH_NAMESPACE: namespace } });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const afterRestart = await waitForHelloWorld(kc, namespace, name, current, 'the new operator', {
      operator,
    });
    expect(afterRestart.status?.canary?.stepIndex).toBe(2);
    expect(reasons(name).filter((r) => r === 'RolloutStarted')).toHaveLength(2); // GOOD, GOOD2

    kubectl(['annotate', 'hw', name, '-n', namespace, 'hello.dev/promote=first', '--overwrite']);
    const promoted = await waitForHelloWorld(
      kc,
      namespace,
      name,
      (hw) => current(hw) && hw.status?.phase === 'Available' && hw.status.stableImage === GOOD2,
      'the canary to go through its last steps and be promoted',
      { operator },
    );
    expect(promoted.status?.observedPromote).toBe('first');
    expect(promoted.status?.canary).toBeUndefined();
    expect(promoted.status?.history?.[0]).toMatchObject({ image: GOOD2, outcome: 'Promoted' });
    const stepEvents = events(namespace, `involvedObject.name=${name},reason=StepPromoted`);
    expect(stepEvents[0]?.message).toContain('ended by hello.dev/promote=first by kubectl-annotate');
    expect(reasons(name).filter((r) => r === 'CanaryStepPassed').length).toBeGreaterThanOrEqual(4);
    await canaryGone(name);
    expect((await deployment(name))?.spec?.template.spec?.containers[0]?.image).toBe(GOOD2);
  }, 240_000);

  it('removes a crash-looping canary at once; the stable Deployment never changed', async () => {
    const name = 'crashy';
    await stableOn(name, GOOD);
    const before = await deployment(name);
    const stablePods = await podNames(name);
    applyHelloWorld(helloWorld(namespace, name, canarySpec(CRASHING)));
    const rolledBack = await waitForHelloWorld(
      kc,
      namespace,
      name,
      (hw) => current(hw) && hw.status?.phase === 'RolledBack',
      'the crash-looping canary to be rolled back',
      { operator },
    );
    expect(rolledBack.status?.lastRollback).toMatchObject({
      reason: 'CrashLooping',
      fromImage: CRASHING,
      toImage: GOOD,
    });
    expect(rolledBack.status?.lastRollback?.message).toContain('at step 1/5: canary 1');
    expect(conditionOf(rolledBack, 'Degraded')).toMatchObject({ status: 'True', reason: 'CrashLooping' });
    await canaryGone(name);
    await waitFor(async () => (await pods(name)).every((p) => p.startsWith(GOOD)), {
      timeoutMs: 60_000,
      describe: 'only the stable pods to be left',
    });
    expect(rolloutRevision(await deployment(name))).toBe(rolloutRevision(before));
    expect(await podNames(name)).toEqual(stablePods);
  }, 180_000);

  it('aborts a canary by annotation, naming who aborted', async () => {
    const name = 'aborted';
    await stableOn(name, GOOD);
    applyHelloWorld(helloWorld(namespace, name, canarySpec(GOOD2)));
    await waitForHelloWorld(kc, namespace, name, (hw) => hw.status?.phase === 'Paused', 'the pause', {
      operator,
    });
    kubectl(['annotate', 'hw', name, '-n', namespace, 'hello.dev/abort=stop', '--overwrite']);
    const aborted = await waitForHelloWorld(
      kc,
      namespace,
      name,
      (hw) => hw.status?.phase === 'RolledBack',
      'the abort',
      { operator },
    );
    expect(aborted.status?.lastRollback?.reason).toBe('Aborted');
    expect(aborted.status?.lastRollback?.message).toContain('hello.dev/abort=stop by kubectl-annotate');
    expect(aborted.status?.history?.[0]).toMatchObject({ image: GOOD2, outcome: 'Aborted' });
    await canaryGone(name);
  }, 180_000);

  it('pauses a Rolling rollout and its Deployment under hello.dev/pause, and resumes', async () => {
    const name = 'rolling';
    const spec = (image: string) => simulatedSpec({ image, rollout: { progressDeadlineSeconds: 600 } });
    applyHelloWorld(helloWorld(namespace, name, spec(GOOD)));
    await waitForHelloWorld(
      kc,
      namespace,
      name,
      (hw) => current(hw) && hw.status?.phase === 'Available',
      'GOOD',
      {
        operator,
      },
    );
    kubectl(['annotate', 'hw', name, '-n', namespace, 'hello.dev/pause=true']);
    applyHelloWorld(helloWorld(namespace, name, spec(GOOD2)));
    const paused = await waitForHelloWorld(
      kc,
      namespace,
      name,
      (hw) => current(hw) && hw.status?.phase === 'Paused',
      'the rollout to stand still',
      { operator },
    );
    expect(conditionOf(paused, 'Progressing')?.reason).toBe('RolloutPaused');
    expect((await deployment(name))?.spec?.paused).toBe(true);
    kubectl(['annotate', 'hw', name, '-n', namespace, 'hello.dev/pause-']);
    await waitForHelloWorld(
      kc,
      namespace,
      name,
      (hw) => current(hw) && hw.status?.phase === 'Available' && hw.status.stableImage === GOOD2,
      'the rollout to resume and complete',
      { operator },
    );
    expect((await deployment(name))?.spec?.paused).toBeUndefined();
    expect(reasons(name)).toEqual(expect.arrayContaining(['RolloutPaused', 'RolloutResumed']));
  }, 180_000);

  it("does not take over another HelloWorld's Deployment that has the canary's name", async () => {
    // HelloWorld "shop-canary" owns the Deployment "shop-canary"; HelloWorld "shop" wants it for its canary.
    await stableOn('shop-canary', GOOD);
    const theirs = await deployment('shop-canary');
    await stableOn('shop', GOOD);
    applyHelloWorld(helloWorld(namespace, 'shop', canarySpec(GOOD2)));
    const blocked = await waitForHelloWorld(
      kc,
      namespace,
      'shop',
      (hw) => current(hw) && conditionOf(hw, 'Reconciled')?.reason === 'ChildConflict',
      'the conflict to be reported',
      { operator },
    );
    expect(conditionOf(blocked, 'Reconciled')?.message).toContain('Deployment shop-canary');
    const after = await deployment('shop-canary');
    expect(after?.metadata?.resourceVersion).toBe(theirs?.metadata?.resourceVersion);
    expect(after?.metadata?.ownerReferences?.[0]?.name).toBe('shop-canary');
    expect((await deployment('shop'))?.spec?.template.spec?.containers[0]?.image).toBe(GOOD);
  }, 180_000);
});
