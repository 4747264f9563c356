import { describe, expect, it } from '@jest/globals';
import type { HelloWorldSpec } from '../crd/types.js';
import { ANNOTATION_ABORT, ANNOTATION_PAUSE, ANNOTATION_PROMOTE } from '../crd/types.js';
import {
  REV1,
  REV2,
  REV3,
  Sim,
  canaryPod,
  complete,
  readyPods,
  rolling,
} from '../../../test/support/rollout-fixtures.js';

const STEPS: NonNullable<HelloWorldSpec['rollout']>['steps'] = [
  { canary: { replicas: 1 } },
  { verify: {} },
  { canary: { replicas: '100%' } },
  { pause: { duration: '2m' } },
  { verify: {} },
];

function canarySpec(steps = STEPS): Partial<HelloWorldSpec> {
  return {
    replicas: 2,
    rollout: {
      strategy: 'Canary',
      steps,
      verification: { analysis: { windowSeconds: 20, intervalSeconds: 10 } },
    },
  };
}

/** REV1 stable (it rolled out like a Rolling one: the first revision has nothing to compare with). */
async function stableCanarySim(steps = STEPS): Promise<Sim> {
  const sim = new Sim(canarySpec(steps));
  sim.settle(REV1);
  await sim.step();
  for (let i = 0; i < 4 && sim.status.phase !== 'Available'; i++) {
    sim.advance(10);
    await sim.step();
  }
  expect(sim.status.phase).toBe('Available');
  return sim;
}

/** The world the canary Deployment makes: `n` ready canary pods of `revision` beside the stable ones. */
function withCanaryPods(sim: Sim, revision: string, n: number, state = {}): void {
  sim.pods = [
    ...readyPods(REV1),
    ...Array.from({ length: n }, (_, i) => canaryPod(`hello-canary-${revision}-${i}`, revision, state)),
  ];
}

/** Steps the machine, 10 s apart, until the step index moves or the rollout ends (bounded). */
async function untilStepMoves(sim: Sim): Promise<void> {
  const from = sim.status.canary?.stepIndex;
  for (let i = 0; i < 20; i++) {
    sim.advance(10);
    await sim.step();
    if (sim.status.canary?.stepIndex !== from) return;
  }
  throw new Error(`step ${String(from)} did not move: ${sim.status.canary?.message ?? sim.status.phase}`);
}

const reasons = (sim: Sim): string[] => sim.events.map((e) => e.reason);

describe('canary steps', () => {
  it('goes through every step beside the untouched stable pods, then the stable Deployment takes the revision', async () => {
    const sim = await stableCanarySim();
    sim.events.length = 0;
    sim.changeSpec(REV2);
    // Step 1: one canary pod; the stable Deployment stays on REV1.
    expect(sim.applied()).toBe(REV1);
    expect(sim.plan()).toEqual({ holdStable: true, canaryReplicas: 1 });
    withCanaryPods(sim, REV2, 0);
    await sim.step();
    expect(sim.status).toMatchObject({ phase: 'Progressing', currentRevision: REV2, stableRevision: REV1 });
    expect(sim.status.canary).toMatchObject({ revision: REV2, stepIndex: 0, steps: 5, replicas: 1 });
    expect(sim.status.canary?.message).toBe('1/5: canary 1: 0 of 1 canary pods ready');
    expect(reasons(sim)).toEqual(['RolloutStarted']);

    withCanaryPods(sim, REV2, 1);
    await untilStepMoves(sim);
    expect(sim.status.canary?.stepIndex).toBe(1);
    expect(reasons(sim)).toContain('CanaryStepPassed');

    // Step 2: verify runs the smoke checks on the canary pod alone, and samples the stable pods over the
    // same intervals to compare with.
    sim.verifier.smokeCalls.length = 0;
    sim.verifier.sampleCalls.length = 0;
    await untilStepMoves(sim);
    expect(sim.verifier.smokeCalls[0]?.map((p) => p.name)).toEqual([`hello-canary-${REV2}-0`]);
    const sampled = new Set(sim.verifier.sampleCalls.map((pods) => pods.map((p) => p.name).join(',')));
    expect(sampled).toEqual(new Set([`hello-canary-${REV2}-0`, `hello-${REV1}-0,hello-${REV1}-1`]));
    expect(sim.status.canary?.stepIndex).toBe(2);

    // Step 3: 100% of the stable Deployment's 2 replicas, on top of them.
    expect(sim.plan()).toEqual({ holdStable: true, canaryReplicas: 2 });
    withCanaryPods(sim, REV2, 2);
    await untilStepMoves(sim);

    // Step 4: a 2 minute pause, then step 5: verify again.
    await sim.step();
    expect(sim.status.phase).toBe('Paused');
    expect(sim.last?.requeueAfterMs).toBeGreaterThan(100_000);
    sim.advance(120);
    await sim.step();
    expect(sim.status.canary?.stepIndex).toBe(4);
    await untilStepMoves(sim);

    // Every step passed: the stable Deployment takes REV2, the canary pods serve until it is done.
    expect(sim.status.canary?.stepIndex).toBe(5);
    expect(sim.applied()).toBe(REV2);
    expect(sim.plan()).toEqual({ holdStable: false, canaryReplicas: 2 });
    sim.deployment = rolling(REV2);
    await sim.step();
    expect(sim.status.phase).toBe('Progressing');
    expect(sim.condition('Progressing').reason).toBe('CanaryPromoting');
    sim.deployment = complete(REV2);
    sim.advance(5);
    await sim.step();
    expect(sim.status).toMatchObject({ phase: 'Available', stableRevision: REV2, stableImage: 'hello:2' });
    expect(sim.status.canary).toBeUndefined();
    expect(sim.plan()).toEqual({ holdStable: false });
    expect(sim.status.history?.[0]).toMatchObject({ revision: REV2, outcome: 'Promoted' });
    expect(reasons(sim).filter((r) => r === 'CanaryStepPassed')).toHaveLength(5);
    expect(reasons(sim).at(-1)).toBe('RolloutSucceeded');
  });

  it('rolls back at the first verify step by removing the canary: the stable Deployment never moved', async () => {
    const sim = await stableCanarySim();
    sim.changeSpec(REV2);
    withCanaryPods(sim, REV2, 1);
    await sim.step(); // the canary pod is ready: on to step 2
    sim.verifier.smokeScript.push({ passed: false, message: 'GET /healthz on pod x: got 500' });
    sim.advance(10);
    await sim.step();
    expect(sim.status).toMatchObject({ phase: 'RolledBack', failedRevision: REV2, currentRevision: REV1 });
    expect(sim.status.lastRollback).toMatchObject({
      fromRevision: REV2,
      toRevision: REV1,
      fromImage: 'hello:2',
      reason: 'SmokeTestFailed',
    });
    expect(sim.status.lastRollback?.message).toContain('at step 2/5: verify');
    expect(sim.status.lastRollback?.message).toContain(
      'the 1 canary pods are removed, the 2 stable pods kept serving',
    );
    expect(sim.status.canary).toBeUndefined();
    expect(sim.plan()).toEqual({ holdStable: false }); // no canary Deployment any more
    expect(sim.applied()).toBe(REV1);
    expect(sim.status.history?.[0]).toMatchObject({ revision: REV2, outcome: 'RolledBack' });
    // The canary pods go; the rollback of a Deployment that never moved completes at once.
    sim.pods = readyPods(REV1);
    await sim.step();
    expect(sim.condition('Progressing').reason).toBe('RolledBack');
  });

  it('fails a crash-looping canary without waiting for its deadline', async () => {
    const sim = await stableCanarySim();
    sim.changeSpec(REV2);
    withCanaryPods(sim, REV2, 1, { ready: false, restarts: 3, waiting: { reason: 'CrashLoopBackOff' } });
    await sim.step();
    expect(sim.status.phase).toBe('RolledBack');
    expect(sim.status.lastRollback?.reason).toBe('CrashLooping');
  });

  it('fails a canary whose pods never get ready within the progress deadline, counted from its step', async () => {
    const sim = await stableCanarySim();
    sim.changeSpec(REV2);
    withCanaryPods(sim, REV2, 1, { ready: false });
    await sim.step();
    sim.advance(120);
    await sim.step();
    expect(sim.status.phase).toBe('Progressing');
    sim.advance(6);
    await sim.step();
    expect(sim.status.lastRollback).toMatchObject({ reason: 'ProgressDeadlineExceeded' });
    expect(sim.status.lastRollback?.message).toContain('0 of 1 canary pods ready');
  });

  it('carries on at the same step after a restart: everything it needs is in status', async () => {
    const sim = await stableCanarySim();
    sim.changeSpec(REV2);
    withCanaryPods(sim, REV2, 1);
    await sim.step(); // the canary pod is ready: on to step 2
    const restarted = new Sim(canarySpec());
    Object.assign(restarted, {
      status: JSON.parse(JSON.stringify(sim.status)) as typeof sim.status,
      now: sim.now,
      spec: sim.spec,
      specRevision: sim.specRevision,
      deployment: sim.deployment,
      pods: sim.pods,
    });
    restarted.advance(10);
    await restarted.step();
    expect(restarted.status.canary).toMatchObject({ revision: REV2, stepIndex: 1 });
    expect(reasons(restarted)).not.toContain('RolloutStarted');
  });

  it('starts over at step 1 when the spec changes mid-canary', async () => {
    const sim = await stableCanarySim();
    sim.changeSpec(REV2);
    withCanaryPods(sim, REV2, 1);
    await sim.step(); // the canary pod is ready: on to step 2
    sim.changeSpec(REV3);
    expect(sim.plan()).toEqual({ holdStable: true, canaryReplicas: 1 });
    withCanaryPods(sim, REV3, 0);
    await sim.step();
    expect(sim.status.canary).toMatchObject({ revision: REV3, stepIndex: 0 });
    expect(sim.last?.events[0]?.message).toContain(`supersedes revision ${REV2}`);
  });

  it('rolls the first revision out as the Rolling strategy does: there is no stable pod to compare with', async () => {
    const sim = new Sim(canarySpec());
    expect(sim.plan()).toEqual({ holdStable: false });
    sim.settle(REV1);
    await sim.step();
    expect(sim.status.phase).toBe('Verifying');
    expect(sim.status.canary).toBeUndefined();
  });
});

describe('gates', () => {
  const waitForPromotion = [{ canary: { replicas: 1 } }, { pause: {} }];

  it('waits at pause: {} until hello.dev/promote gets a new value, and says who promoted', async () => {
    const sim = await stableCanarySim(waitForPromotion);
    sim.changeSpec(REV2);
    withCanaryPods(sim, REV2, 1);
    await sim.step(); // the canary pod is ready: on to step 2
    for (let i = 0; i < 3; i++) {
      sim.advance(3600);
      await sim.step();
    }
    expect(sim.status.phase).toBe('Paused');
    expect(sim.status.canary?.message).toBe(
      '2/2: pause until promoted: waiting for a new value of hello.dev/promote',
    );
    expect(sim.last?.requeueAfterMs).toBeUndefined(); // the annotation's watch event wakes it
    sim.annotations[ANNOTATION_PROMOTE] = '2026-03-01T13:00:00Z';
    sim.gateActors = { [ANNOTATION_PROMOTE]: ' by kubectl-hw' };
    await sim.step();
    expect(sim.status.observedPromote).toBe('2026-03-01T13:00:00Z');
    expect(sim.last?.events).toEqual([
      {
        type: 'Normal',
        reason: 'StepPromoted',
        message:
          'step 2/2: pause until promoted ended by hello.dev/promote=2026-03-01T13:00:00Z by kubectl-hw',
      },
    ]);
    expect(sim.status.canary?.stepIndex).toBe(2);
    // The same value again does nothing more.
    sim.deployment = complete(REV2);
    await sim.step();
    expect(sim.status.phase).toBe('Available');
    expect(reasons(sim).filter((r) => r === 'StepPromoted')).toHaveLength(1);
  });

  it.each([
    ['Rollback', 'RolledBack'],
    ['Promote', 'Progressing'],
  ] as const)('acts on onTimeout: %s when nobody promotes in time', async (onTimeout, phase) => {
    const sim = await stableCanarySim([
      { canary: { replicas: 1 } },
      { pause: { timeout: '10m', onTimeout } },
    ]);
    sim.changeSpec(REV2);
    withCanaryPods(sim, REV2, 1);
    await sim.step(); // the canary pod is ready: on to step 2
    sim.advance(590);
    await sim.step();
    expect(sim.status.phase).toBe('Paused');
    expect(sim.last?.requeueAfterMs).toBe(10_000);
    sim.advance(10);
    await sim.step();
    expect(sim.status.phase).toBe(phase);
    if (onTimeout === 'Rollback') expect(sim.status.lastRollback?.reason).toBe('PauseTimedOut');
    else expect(sim.status.canary?.stepIndex).toBe(2);
  });

  it('holds a canary under hello.dev/pause, excluding the time paused from its clocks', async () => {
    const sim = await stableCanarySim();
    sim.changeSpec(REV2);
    withCanaryPods(sim, REV2, 1, { ready: false });
    await sim.step();
    sim.advance(60);
    sim.annotations[ANNOTATION_PAUSE] = 'true';
    sim.gateActors = { [ANNOTATION_PAUSE]: ' by kubectl-annotate' };
    await sim.step();
    expect(sim.status.phase).toBe('Paused');
    expect(sim.condition('Progressing').message).toContain('by kubectl-annotate');
    sim.advance(600); // far past the deadline, but paused
    await sim.step();
    expect(sim.status.phase).toBe('Paused');
    sim.annotations = {};
    await sim.step();
    expect(reasons(sim)).toContain('RolloutResumed');
    expect(sim.status.phase).toBe('Progressing'); // 60 s of its 125 s used, not 660
    sim.advance(66);
    await sim.step();
    expect(sim.status.lastRollback?.reason).toBe('ProgressDeadlineExceeded');
  });

  it('pauses a Rolling rollout too, and hello.dev/pause="false" does not pause', async () => {
    const sim = new Sim();
    await sim.reachStable();
    sim.changeSpec(REV2);
    sim.deployment = rolling(REV2);
    sim.annotations[ANNOTATION_PAUSE] = 'false';
    await sim.step();
    expect(sim.status.phase).toBe('Progressing');
    sim.annotations[ANNOTATION_PAUSE] = '2026-03-01T12:00:00Z';
    await sim.step();
    expect(sim.status.phase).toBe('Paused');
  });

  it('aborts a canary at any step, naming who aborted', async () => {
    const sim = await stableCanarySim();
    sim.changeSpec(REV2);
    withCanaryPods(sim, REV2, 1);
    await sim.step(); // the canary pod is ready: on to step 2
    sim.annotations[ANNOTATION_ABORT] = '1';
    sim.gateActors = { [ANNOTATION_ABORT]: ' by kubectl-hw' };
    await sim.step();
    expect(sim.status).toMatchObject({ phase: 'RolledBack', failedRevision: REV2 });
    expect(sim.status.lastRollback?.message).toContain('hello.dev/abort=1 by kubectl-hw');
    expect(sim.status.history?.[0]).toMatchObject({ outcome: 'Aborted' });
    expect(sim.plan()).toEqual({ holdStable: false });
  });

  it('skips what is left of a Rolling verification on hello.dev/promote', async () => {
    const sim = new Sim();
    await sim.reachStable();
    sim.changeSpec(REV2);
    sim.settle(REV2);
    await sim.step();
    expect(sim.status.phase).toBe('Verifying');
    sim.annotations[ANNOTATION_PROMOTE] = 'now';
    await sim.step();
    expect(sim.status).toMatchObject({ phase: 'Available', stableRevision: REV2 });
    expect(sim.last?.events[0]?.message).toContain('verification skipped by hello.dev/promote=now');
  });
});
