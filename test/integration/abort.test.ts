// The hello.dev/abort annotation on the local cluster, with the operator as a real process
// (docs/rollouts.md, "Retry and abort"): a new value while a rollout is in flight fails it at once with
// reason Aborted, rolled back to the stable revision, or Failed with nothing undone when there is none;
// a value set while nothing rolls out is recorded and ignored (AbortIgnored), so it cannot abort the next
// rollout. The bad revisions are unready.invalid/ images, whose simulated pods never become ready: the
// rollout stays in flight until it is aborted.
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { HelloWorld } from '../../operator/src/crd/types.js';
import { loadKubeConfig, waitFor } from '../support/cluster.js';
import {
  applyHelloWorld,
  conditionOf,
  events,
  helloWorld,
  kubectl,
  operatorInNamespace,
  type OperatorProcess,
  simulatedSpec,
  waitForHelloWorld,
} from '../support/operator.js';

let kc: KubeConfig;
let namespace: string;
let operator: OperatorProcess;
let cleanup: () => Promise<void>;

const GOOD = 'hello/api:1.0.0';
const phase = (expected: string) => (hw: HelloWorld) =>
  hw.status?.phase === expected && hw.status.observedGeneration === hw.metadata.generation;

/** Applies `image` with a deadline far beyond the test's and waits for the phase it ends in. */
async function deploy(name: string, image: string, expected: string): Promise<HelloWorld> {
  applyHelloWorld(
    helloWorld(namespace, name, simulatedSpec({ image, rollout: { progressDeadlineSeconds: 600 } })),
  );
  return waitForHelloWorld(kc, namespace, name, phase(expected), `${name} to be ${expected} on ${image}`, {
    operator,
  });
}

async function deploymentImage(name: string): Promise<string | undefined> {
  const dep = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace });
  return dep.spec?.template.spec?.containers[0]?.image;
}

beforeAll(async () => {
  kc = loadKubeConfig();
  ({ namespace, operator, cleanup } = await operatorInNamespace('abort'));
}, 180_000);

afterAll(() => cleanup(), 60_000);

/** The reasons of the events of one HelloWorld, of the given type. */
const eventReasons = (name: string, type: 'Normal' | 'Warning'): string[] =>
  events(namespace, `involvedObject.name=${name},type=${type}`).map((e) => e.reason ?? '');

/** `image ready` of each API pod of the HelloWorld that is not terminating. */
async function podImages(name: string): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const selector = `app.kubernetes.io/instance=${name},app.kubernetes.io/component=api`;
  const pods = await core.listNamespacedPod({ namespace, labelSelector: selector });
  return pods.items
    .filter((p) => p.metadata?.deletionTimestamp === undefined)
    .map((p) => {
      const ready = p.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown';
      return `${p.spec?.containers[0]?.image ?? ''} ${ready}`;
    })
    .sort()
    .join(', ');
}

/** A revision whose pods never become ready: its rollout stays in flight. */
const startStuckRollout = (name: string, image: string): Promise<HelloWorld> =>
  deploy(name, image, 'Progressing');

describe('the abort annotation', () => {
  it('fails the rollout in flight with reason Aborted and rolls back to stable; a later value is ignored', async () => {
    const name = 'abort';
    const before = await deploy(name, GOOD, 'Available');
    const bad = 'unready.invalid/api:2';
    const rolling = await startStuckRollout(name, bad);
    kubectl(['annotate', 'hw', name, '-n', namespace, 'hello.dev/abort=first']);
    const hw = await waitForHelloWorld(kc, namespace, name, phase('RolledBack'), 'the abort to roll back', {
      operator,
    });
    // Who set the annotation comes from managedFields: kubectl annotate's field manager.
    const message = 'aborted by annotation hello.dev/abort=first by kubectl-annotate while Progressing';
    expect(hw.status).toMatchObject({
      observedAbort: 'first',
      failedRevision: rolling.status?.currentRevision,
      currentRevision: before.status?.stableRevision,
      stableRevision: before.status?.stableRevision,
      lastRollback: { reason: 'Aborted', message, fromImage: bad, toImage: GOOD },
    });
    expect(conditionOf(hw, 'Degraded')).toMatchObject({ status: 'True', reason: 'Aborted' });
    expect(eventReasons(name, 'Warning')).toContain('Aborted');
    // Back to the stable pods: the rollback completes, and only ready pods of the good image are left.
    await waitForHelloWorld(
      kc,
      namespace,
      name,
      (h) => conditionOf(h, 'Progressing')?.reason === 'RolledBack' && h.status?.readyReplicas === 2,
      `${name}'s rollback to complete`,
      { operator },
    );
    const stablePods = `${GOOD} True, ${GOOD} True`;
    await waitFor(
      async () => {
        const pods = await podImages(name);
        if (pods !== stablePods) throw new Error(`pods: ${pods}`);
        return true;
      },
      { describe: `only the two ready pods of ${GOOD}`, timeoutMs: 60_000 },
    );
    expect(await deploymentImage(name)).toBe(GOOD);

    // A new value while nothing rolls out is recorded and ignored, and cannot abort the next rollout.
    kubectl(['annotate', 'hw', name, '-n', namespace, 'hello.dev/abort=second', '--overwrite']);
    const ignored = await waitForHelloWorld(
      kc,
      namespace,
      name,
      (h) => h.status?.observedAbort === 'second',
      'the second abort value to be recorded',
      { operator },
    );
    expect(ignored.status?.phase).toBe('RolledBack');
    expect(ignored.status?.lastRollback).toEqual(hw.status?.lastRollback);
    expect(eventReasons(name, 'Normal')).toContain('AbortIgnored');
    const next = 'hello/api:3.0.0';
    const promoted = await deploy(name, next, 'Available');
    expect(promoted.status).toMatchObject({ stableImage: next, observedAbort: 'second' });
    expect(promoted.status?.lastRollback).toEqual(hw.status?.lastRollback);
    expect(await deploymentImage(name)).toBe(next);
  }, 240_000);

  it('ends a first deployment Failed with nothing undone', async () => {
    const name = 'abort-first';
    const bad = 'unready.invalid/api:1';
    await startStuckRollout(name, bad);
    kubectl(['annotate', 'hw', name, '-n', namespace, 'hello.dev/abort=now']);
    const hw = await waitForHelloWorld(
      kc,
      namespace,
      name,
      phase('Failed'),
      'the abort to fail the rollout',
      {
        operator,
      },
    );
    expect(hw.status?.observedAbort).toBe('now');
    expect(hw.status?.stableRevision).toBeUndefined();
    expect(conditionOf(hw, 'Degraded')).toMatchObject({ status: 'True', reason: 'Aborted' });
    expect(hw.status?.conditions?.find((c) => c.type === 'Degraded')?.message).toContain(
      'no stable revision to roll back to',
    );
    expect(eventReasons(name, 'Warning')).toContain('Aborted');
    expect(await deploymentImage(name)).toBe(bad);
  }, 120_000);
});
