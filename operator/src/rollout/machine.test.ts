import { describe, expect, it } from '@jest/globals';
import { API_PORT } from '../crd/defaults.js';
import { ANNOTATION_ABORT, ANNOTATION_RETRY } from '../crd/types.js';
import {
  IMAGES,
  REV1,
  REV2,
  REV3,
  Sim,
  T0,
  complete,
  deadlineExceeded,
  deployment,
  pod,
  readyPods,
  rolling,
} from '../../../test/support/rollout-fixtures.js';

/** A HelloWorld whose REV1 is stable and whose spec now asks for REV2, mid-rollout. */
async function rollingOutRev2(sim = new Sim()): Promise<Sim> {
  await sim.reachStable();
  sim.changeSpec(REV2);
  sim.deployment = rolling(REV2);
  sim.pods = [...readyPods(REV1), pod('hello-new-0', REV2, { ready: false })];
  await sim.step();
  return sim;
}

describe('first rollout', () => {
  it('goes Pending → Progressing → Verifying → Available and makes the revision stable', async () => {
    const sim = new Sim();
    sim.status = { phase: 'Pending' };
    sim.deployment = rolling(REV1);
    sim.pods = [pod('hello-0', REV1, { ready: false })];
    let decision = await sim.step();
    expect(sim.status.phase).toBe('Progressing');
    expect(sim.status.currentRevision).toBe(REV1);
    expect(sim.status.rolloutStartedAt).toBe(T0.toISOString());
    expect(sim.condition('Progressing')).toMatchObject({ status: 'True', reason: 'RolloutInProgress' });
    expect(decision.events.map((e) => e.reason)).toEqual(['RolloutStarted']);
    expect(decision.requeueAfterMs).toBe(5000);

    sim.advance(20);
    sim.settle(REV1);
    decision = await sim.step();
    expect(sim.status.phase).toBe('Verifying');
    expect(decision.events.map((e) => e.reason)).toEqual(['RolloutComplete', 'SmokeTestPassed']);
    expect(sim.verifier.smokeCalls).toEqual([
      [
        { namespace: 'ns', name: `hello-${REV1}-0`, port: API_PORT },
        { namespace: 'ns', name: `hello-${REV1}-1`, port: API_PORT },
      ],
    ]);
    expect(sim.status.verification).toMatchObject({ revision: REV1, smokePassed: true, measurements: 0 });
    expect(sim.status.verification?.lastSample).toBeDefined();
    expect(decision.requeueAfterMs).toBe(10_000);

    for (let i = 1; i <= 5; i++) {
      sim.advance(10);
      decision = await sim.step();
      expect(sim.status.phase).toBe('Verifying');
      expect(sim.status.verification?.measurements).toBe(i);
      expect(decision.events).toEqual([]);
    }
    sim.advance(10);
    decision = await sim.step();
    expect(sim.status.phase).toBe('Available');
    expect(sim.status.stableRevision).toBe(REV1);
    expect(sim.status.stableImage).toBe('hello:1');
    expect(sim.condition('Available').status).toBe('True');
    expect(sim.condition('Progressing')).toMatchObject({ status: 'False', reason: 'RolloutSucceeded' });
    expect(sim.condition('Degraded').status).toBe('False');
    expect(decision.events.map((e) => e.reason)).toEqual(['RolloutSucceeded']);
    expect(decision.events[0]?.message).toContain('analysis passed: 6 measurement(s) over 60s');
    expect(decision.requeueAfterMs).toBeUndefined();
    expect(sim.verifier.smokeCalls).toHaveLength(1);
  });

  it('goes straight to Available when verification is disabled, still following rollout health', async () => {
    const sim = new Sim({ rollout: { verification: { enabled: false } } });
    sim.deployment = rolling(REV1);
    await sim.step();
    expect(sim.status.phase).toBe('Progressing');
    sim.settle(REV1);
    const decision = await sim.step();
    expect(sim.status.phase).toBe('Available');
    expect(sim.status.stableRevision).toBe(REV1);
    expect(decision.events.find((e) => e.reason === 'RolloutSucceeded')?.message).toContain(
      'verification is disabled',
    );
    expect(sim.verifier.smokeCalls).toEqual([]);
    expect(sim.verifier.sampleCalls).toEqual([]);
  });

  it('fails without rolling back when there is no stable revision, and stays failed', async () => {
    const sim = new Sim();
    sim.deployment = rolling(REV1);
    sim.pods = [pod('hello-0', REV1, { waiting: { reason: 'ImagePullBackOff', message: 'not found' } })];
    const decision = await sim.step();
    expect(sim.status.phase).toBe('Failed');
    expect(sim.status.failedRevision).toBe(REV1);
    expect(decision.rollback).toBeUndefined();
    expect(decision.templateChanged).toBeUndefined();
    expect(sim.status.lastRollback).toBeUndefined();
    expect(sim.condition('Degraded')).toMatchObject({ status: 'True', reason: 'ImagePullFailed' });
    expect(sim.condition('Degraded').message).toContain('no stable revision to roll back to');
    expect(decision.events.map((e) => `${e.type}/${e.reason}`)).toEqual([
      'Normal/RolloutStarted',
      'Warning/ImagePullFailed',
    ]);
    expect(sim.applied()).toBe(REV1);

    sim.advance(600);
    sim.settle(REV1);
    const again = await sim.step();
    expect(sim.status.phase).toBe('Failed');
    expect(again.events).toEqual([]);
    expect(again.requeueAfterMs).toBeUndefined();
    expect(sim.verifier.smokeCalls).toEqual([]);
  });
});

describe('failures of a new revision roll back to the stable one', () => {
  it('records the rollback, asks for the stable template, and follows the rollback to the end', async () => {
    const sim = await rollingOutRev2();
    sim.pods.push(
      pod('hello-new-1', REV2, { waiting: { reason: 'ErrImagePull', message: 'manifest unknown' } }),
    );
    sim.advance(7);
    const decision = await sim.step();
    expect(sim.status.phase).toBe('RolledBack');
    expect(decision.rollback).toEqual({ reason: 'ImagePullFailed' });
    expect(decision.templateChanged).toBe(true);
    expect(decision.requeueAfterMs).toBe(0);
    expect(sim.status.failedRevision).toBe(REV2);
    expect(sim.status.lastRollback).toEqual({
      fromRevision: REV2,
      toRevision: REV1,
      fromImage: 'hello:2',
      toImage: 'hello:1',
      reason: 'ImagePullFailed',
      message: 'pod hello-new-1 container api: ErrImagePull: manifest unknown',
      time: sim.now.toISOString(),
    });
    expect(sim.condition('Degraded')).toMatchObject({ status: 'True', reason: 'ImagePullFailed' });
    expect(sim.condition('Progressing')).toMatchObject({ status: 'True', reason: 'RollbackInProgress' });
    expect(decision.events).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'ImagePullFailed' }),
    ]);
    expect(decision.events[0]?.message).toContain('rolling back to stable revision');

    // The reconciler now applies the stable template; the Deployment moves back.
    expect(sim.applied()).toBe(REV1);
    sim.deployment = rolling(REV1);
    const moving = await sim.step();
    expect(sim.status.phase).toBe('RolledBack');
    expect(sim.status.currentRevision).toBe(REV1);
    expect(sim.condition('Progressing')).toMatchObject({ status: 'True', reason: 'RollbackInProgress' });
    expect(moving.events).toEqual([]);
    expect(moving.rollback).toBeUndefined();

    sim.settle(REV1);
    const done = await sim.step();
    expect(sim.status.phase).toBe('RolledBack');
    expect(sim.condition('Progressing')).toMatchObject({ status: 'False', reason: 'RolledBack' });
    expect(sim.condition('Available').status).toBe('True');
    expect(sim.condition('Degraded').status).toBe('True');
    expect(done.events.map((e) => e.reason)).toEqual(['RollbackComplete']);
  });

  it.each([
    ['the Deployment condition', (sim: Sim) => (sim.deployment = deadlineExceeded(REV2)), 10],
    ['the clock', (sim: Sim) => (sim.deployment = rolling(REV2)), 126],
  ])('fails with ProgressDeadlineExceeded by %s', async (_by, arrange, seconds) => {
    const sim = await rollingOutRev2();
    arrange(sim);
    sim.advance(seconds);
    const decision = await sim.step();
    expect(sim.status.phase).toBe('RolledBack');
    expect(decision.rollback).toEqual({ reason: 'ProgressDeadlineExceeded' });
    expect(sim.status.lastRollback?.reason).toBe('ProgressDeadlineExceeded');
  });

  it('waits out the deadline grace before failing on its own clock', async () => {
    const sim = await rollingOutRev2();
    sim.advance(124);
    const decision = await sim.step();
    expect(sim.status.phase).toBe('Progressing');
    expect(decision.requeueAfterMs).toBe(1000);
  });

  it('fails early as CrashLooping once a new container reaches the restart threshold', async () => {
    const sim = await rollingOutRev2();
    sim.pods = [
      ...readyPods(REV1),
      pod('hello-new-0', REV2, { restarts: 1, waiting: { reason: 'CrashLoopBackOff' } }),
    ];
    await sim.step();
    expect(sim.status.phase).toBe('Progressing');

    sim.pods = [
      ...readyPods(REV1),
      pod('hello-new-0', REV2, {
        restarts: 3,
        waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' },
        lastExit: { reason: 'Error', exitCode: 1 },
      }),
    ];
    const decision = await sim.step();
    expect(decision.rollback).toEqual({ reason: 'CrashLooping' });
    expect(sim.status.lastRollback?.message).toBe(
      'pod hello-new-0 container api restarted 3 times (threshold 3); last exit: Error (exit code 1); now CrashLoopBackOff: back-off 40s restarting failed container',
    );
  });

  it('fails as CrashLooping when new pods start crashing during verification', async () => {
    const sim = await rollingOutRev2();
    sim.settle(REV2);
    await sim.step();
    expect(sim.status.phase).toBe('Verifying');
    sim.pods = [pod('hello-new-0', REV2, { restarts: 4 }), pod('hello-new-1', REV2)];
    sim.advance(10);
    const decision = await sim.step();
    expect(decision.rollback).toEqual({ reason: 'CrashLooping' });
  });

  it('does not fail on a stale ProgressDeadlineExceeded the controller has not replaced yet', async () => {
    const sim = await rollingOutRev2();
    sim.deployment = deadlineExceeded(REV2, { generation: 2, observed: 1 });
    await sim.step();
    expect(sim.status.phase).toBe('Progressing');
  });
});

describe('restarts and stalls', () => {
  it('keeps counting the deadline from the persisted start after an operator restart', async () => {
    const before = await rollingOutRev2();
    before.advance(100);
    await before.step();
    const after = new Sim();
    Object.assign(after, {
      status: structuredClone(before.status),
      now: before.now,
      specRevision: REV2,
      spec: before.spec,
      generation: before.generation,
      deployment: before.deployment,
      pods: before.pods,
    });
    const resumed = await after.step();
    expect(resumed.events).toEqual([]);
    expect(after.status.rolloutStartedAt).toBe(before.status.rolloutStartedAt);
    after.advance(30);
    expect((await after.step()).rollback).toEqual({ reason: 'ProgressDeadlineExceeded' });
  });

  it('reports a rollback that does not complete, once', async () => {
    const sim = await rollingOutRev2();
    sim.deployment = deadlineExceeded(REV2);
    await sim.step();
    sim.deployment = rolling(REV1);
    await sim.step();
    sim.advance(200);
    const stalled = await sim.step();
    expect(sim.condition('Progressing')).toMatchObject({ status: 'False', reason: 'RollbackStalled' });
    expect(stalled.events.map((e) => `${e.type}/${e.reason}`)).toEqual(['Warning/RollbackStalled']);
    expect((await sim.step()).events).toEqual([]);
    sim.settle(REV1);
    await sim.step();
    expect(sim.condition('Progressing').reason).toBe('RolledBack');
  });

  it('says so when the stable template could not be applied', async () => {
    const sim = await rollingOutRev2();
    sim.deployment = deadlineExceeded(REV2);
    await sim.step();
    sim.forceApplied = REV2;
    const decision = await sim.step();
    expect(sim.status.phase).toBe('Failed');
    expect(decision.events.map((e) => e.reason)).toEqual(['RollbackStalled']);
    expect(sim.condition('Progressing').message).toContain('could not be applied');
  });
});

describe('the deadline, judged on a live read of the Deployment', () => {
  // The informer cache can lag behind the API server under load: a Deployment that completed within its
  // deadline may still look incomplete in the cache when the clock runs out.
  it('does not fail a rollout that the cache shows incomplete but that completed', async () => {
    const sim = await rollingOutRev2();
    sim.liveDeployment = complete(REV2);
    sim.advance(126);
    const decision = await sim.step();
    expect(sim.liveReads).toBe(1);
    expect(decision.rollback).toBeUndefined();
    expect(sim.status.failedRevision).toBeUndefined();
    expect(sim.status.phase).toBe('Verifying');
    // The cached pods lag too: the smoke tests wait for a ready pod of the revision.
    expect(decision.events.map((e) => e.reason)).toEqual(['RolloutComplete']);
    expect(sim.status.verification).toMatchObject({ revision: REV2, startedAt: sim.now.toISOString() });
    expect(sim.status.verification?.smokePassed).toBeUndefined();
  });

  it('does not fail on a cached ProgressDeadlineExceeded that the live Deployment has left behind', async () => {
    const sim = await rollingOutRev2();
    sim.deployment = deadlineExceeded(REV2);
    sim.liveDeployment = complete(REV2);
    const decision = await sim.step();
    expect(sim.liveReads).toBe(1);
    expect(decision.rollback).toBeUndefined();
    expect(sim.status.phase).toBe('Verifying');
  });

  it('fails when the live read agrees, describing the live Deployment', async () => {
    const sim = await rollingOutRev2();
    sim.liveDeployment = deployment(REV2, { updated: 2, available: 1, total: 2 });
    sim.advance(126);
    const decision = await sim.step();
    expect(sim.liveReads).toBe(1);
    expect(decision.rollback).toEqual({ reason: 'ProgressDeadlineExceeded' });
    expect(sim.status.lastRollback?.message).toBe(
      `revision ${REV2} did not complete within progressDeadlineSeconds=120 (2 of 2 updated, 1 available, 0 old replicas left)`,
    );
    expect(decision.events.filter((e) => e.type === 'Warning')).toHaveLength(1);
  });

  it('reads nothing live before the deadline, nor for pod failures', async () => {
    const sim = await rollingOutRev2();
    sim.advance(124);
    await sim.step();
    expect(sim.status.phase).toBe('Progressing');
    sim.pods.push(pod('hello-new-1', REV2, { waiting: { reason: 'ErrImagePull' } }));
    expect((await sim.step()).rollback).toEqual({ reason: 'ImagePullFailed' });
    expect(sim.liveReads).toBe(0);
  });

  it('hands back a provisional decision that fails nothing until the live read is made', async () => {
    const sim = await rollingOutRev2();
    const before = structuredClone(sim.status);
    sim.answerLiveReads = false;
    sim.advance(126);
    const decision = await sim.step();
    expect(decision.needsLiveDeployment).toBe(true);
    expect(decision.rollback).toBeUndefined();
    expect(decision.templateChanged).toBeUndefined();
    expect(decision.events).toEqual([]);
    expect(sim.status).toMatchObject({
      phase: 'Progressing',
      currentRevision: REV2,
      rolloutStartedAt: before.rolloutStartedAt,
    });
    expect(sim.status.failedRevision).toBeUndefined();
    expect(sim.condition('Progressing').message).toContain('confirming with a live read of the Deployment');
    expect(sim.applied()).toBe(REV2);
  });

  it('does not call a completed rollback stalled', async () => {
    const sim = await rollingOutRev2();
    sim.deployment = deadlineExceeded(REV2);
    await sim.step();
    expect(sim.applied()).toBe(REV1);
    sim.deployment = rolling(REV1);
    sim.liveDeployment = complete(REV1);
    sim.advance(200);
    const decision = await sim.step();
    expect(sim.condition('Progressing')).toMatchObject({ status: 'False', reason: 'RolledBack' });
    expect(decision.events.map((e) => e.reason)).toEqual(['RollbackComplete']);
  });

  it('does not fail a return to the stable revision that completed', async () => {
    const sim = await rollingOutRev2();
    sim.changeSpec(REV1);
    sim.deployment = rolling(REV1);
    await sim.step();
    sim.liveDeployment = complete(REV1);
    sim.advance(200);
    await sim.step();
    expect(sim.status.phase).toBe('Available');
    expect(sim.condition('Degraded').status).toBe('False');
  });
});

describe('after a rollback', () => {
  async function rolledBack(): Promise<Sim> {
    const sim = await rollingOutRev2();
    sim.deployment = deadlineExceeded(REV2);
    await sim.step();
    sim.settle(sim.applied());
    await sim.step();
    expect(sim.condition('Progressing').reason).toBe('RolledBack');
    return sim;
  }

  it('never verifies the stable revision again and emits nothing more (no loop)', async () => {
    const sim = await rolledBack();
    const smokeCalls = sim.verifier.smokeCalls.length;
    const sampleCalls = sim.verifier.sampleCalls.length;
    for (let i = 0; i < 10; i++) {
      sim.advance(60);
      const decision = await sim.step();
      expect(decision.events).toEqual([]);
      expect(decision.rollback).toBeUndefined();
      expect(sim.applied()).toBe(REV1);
    }
    expect(sim.status.phase).toBe('RolledBack');
    expect(sim.verifier.smokeCalls).toHaveLength(smokeCalls);
    expect(sim.verifier.sampleCalls).toHaveLength(sampleCalls);
  });

  it('clears Degraded when the user reverts the spec to the stable revision', async () => {
    const sim = await rolledBack();
    sim.changeSpec(REV1);
    const decision = await sim.step();
    expect(sim.status.phase).toBe('Available');
    expect(sim.status.failedRevision).toBeUndefined();
    expect(sim.condition('Degraded')).toMatchObject({ status: 'False', reason: 'StableRevisionRestored' });
    expect(decision.events.map((e) => e.reason)).toEqual(['StableRevisionRestored']);
    expect(sim.status.lastRollback?.fromRevision).toBe(REV2);
  });

  it('rolls out a new spec revision, and Degraded stays until it succeeds', async () => {
    const sim = await rolledBack();
    sim.changeSpec(REV3);
    expect(sim.applied()).toBe(REV3);
    sim.deployment = rolling(REV3);
    const started = await sim.step();
    expect(sim.status.phase).toBe('Progressing');
    expect(sim.status.failedRevision).toBeUndefined();
    expect(started.events.map((e) => e.reason)).toEqual(['RolloutStarted']);
    expect(sim.condition('Degraded').status).toBe('True');
    sim.settle(REV3);
    await sim.step();
    for (let i = 0; i < 6; i++) {
      sim.advance(10);
      await sim.step();
    }
    expect(sim.status.phase).toBe('Available');
    expect(sim.status.stableRevision).toBe(REV3);
    expect(sim.status.stableImage).toBe(IMAGES[REV3]);
    expect(sim.condition('Degraded').status).toBe('False');
  });

  it('retries the failed revision when hello.dev/retry gets a new value, once', async () => {
    const sim = await rolledBack();
    sim.annotations[ANNOTATION_RETRY] = 'first';
    expect(sim.applied()).toBe(REV2);
    sim.deployment = rolling(REV2);
    const decision = await sim.step();
    expect(sim.status.observedRetry).toBe('first');
    expect(sim.status.failedRevision).toBeUndefined();
    expect(sim.status.phase).toBe('Progressing');
    expect(sim.status.currentRevision).toBe(REV2);
    expect(decision.events.map((e) => e.reason)).toEqual(['RetryRequested', 'RolloutStarted']);

    // It fails again: back to stable, and the same retry value does not try a third time.
    sim.deployment = deadlineExceeded(REV2);
    const failed = await sim.step();
    expect(failed.rollback).toEqual({ reason: 'ProgressDeadlineExceeded' });
    expect(sim.applied()).toBe(REV1);
  });
});

describe('autoRollback off', () => {
  it('stops at Failed with the failed revision left in place', async () => {
    const sim = await rollingOutRev2(new Sim({ rollout: { autoRollback: false } }));
    sim.settle(REV2);
    sim.verifier.smokeScript.push({ passed: false, message: 'read-date-of-birth on hello-new-0: got 500' });
    const decision = await sim.step();
    expect(sim.status.phase).toBe('Failed');
    expect(decision.rollback).toBeUndefined();
    expect(decision.templateChanged).toBeUndefined();
    expect(sim.status.lastRollback).toBeUndefined();
    expect(sim.status.stableRevision).toBe(REV1);
    expect(sim.condition('Degraded')).toMatchObject({ status: 'True', reason: 'SmokeTestFailed' });
    expect(sim.condition('Degraded').message).toContain('autoRollback is off');
    expect(sim.applied()).toBe(REV2);
    const again = await sim.step();
    expect(again.events).toEqual([]);
    expect(sim.status.phase).toBe('Failed');
  });
});

describe('abort', () => {
  it('rolls back at once while verifying', async () => {
    const sim = await rollingOutRev2();
    sim.settle(REV2);
    await sim.step();
    expect(sim.status.phase).toBe('Verifying');
    sim.annotations[ANNOTATION_ABORT] = 'stop';
    const decision = await sim.step();
    expect(decision.rollback).toEqual({ reason: 'Aborted' });
    expect(sim.applied()).toBe(REV1);
  });

  it('rolls back at once while progressing, and acts on each value once', async () => {
    const sim = await rollingOutRev2();
    sim.annotations[ANNOTATION_ABORT] = '1';
    const decision = await sim.step();
    expect(decision.rollback).toEqual({ reason: 'Aborted' });
    expect(sim.status.observedAbort).toBe('1');
    expect(sim.status.lastRollback?.message).toContain('aborted by annotation hello.dev/abort=1');
    expect(sim.condition('Degraded').reason).toBe('Aborted');
    sim.settle(sim.applied());
    const next = await sim.step();
    expect(next.rollback).toBeUndefined();
    expect(sim.status.phase).toBe('RolledBack');
  });

  it('fails without rollback when there is no stable revision', async () => {
    const sim = new Sim();
    sim.deployment = rolling(REV1);
    await sim.step();
    sim.annotations[ANNOTATION_ABORT] = 'now';
    const decision = await sim.step();
    expect(sim.status.phase).toBe('Failed');
    expect(decision.rollback).toBeUndefined();
    expect(sim.condition('Degraded').reason).toBe('Aborted');
  });

  it('is recorded and ignored when nothing is rolling out', async () => {
    const sim = new Sim();
    await sim.reachStable();
    sim.annotations[ANNOTATION_ABORT] = 'x';
    const decision = await sim.step();
    expect(sim.status.phase).toBe('Available');
    expect(sim.status.observedAbort).toBe('x');
    expect(decision.events.map((e) => e.reason)).toEqual(['AbortIgnored']);
    expect((await sim.step()).events).toEqual([]);
  });
});

describe('transitions only', () => {
  it('emits no duplicate events when called again on the same world', async () => {
    const sim = new Sim();
    const worlds: (() => void)[] = [
      () => {
        sim.deployment = rolling(REV1);
      },
      () => {
        sim.settle(REV1);
      },
      () => {
        sim.advance(60);
      },
    ];
    for (const arrange of worlds) {
      arrange();
      await sim.step();
      const again = await sim.step();
      expect(again.events).toEqual([]);
    }
  });

  it('keeps lastTransitionTime while a condition keeps its status', async () => {
    const sim = new Sim();
    sim.deployment = rolling(REV1);
    await sim.step();
    const since = sim.condition('Progressing').lastTransitionTime;
    sim.advance(30);
    sim.settle(REV1);
    await sim.step();
    expect(sim.condition('Progressing')).toMatchObject({ status: 'True', reason: 'Verifying' });
    expect(sim.condition('Progressing').lastTransitionTime).toBe(since);
    sim.advance(60);
    await sim.step();
    expect(sim.condition('Progressing').status).toBe('False');
    expect(sim.condition('Progressing').lastTransitionTime).toBe(sim.now.toISOString());
  });

  it('supersedes a rollout in flight when the spec changes again', async () => {
    const sim = await rollingOutRev2();
    sim.changeSpec(REV3);
    sim.advance(5);
    sim.deployment = rolling(REV3);
    const decision = await sim.step();
    expect(sim.status.currentRevision).toBe(REV3);
    expect(sim.status.rolloutStartedAt).toBe(sim.now.toISOString());
    expect(decision.events[0]?.message).toContain(`supersedes revision ${REV2}`);
  });
});
