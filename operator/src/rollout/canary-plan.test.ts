import { describe, expect, it } from '@jest/globals';
import { resolveSpec } from '../crd/defaults.js';
import type { HelloWorldStatus } from '../crd/types.js';
import { canaryReplicasAt, describeStep, planCanary, resolveReplicas } from './canary-plan.js';

const spec = resolveSpec({
  image: 'hello:2',
  rollout: {
    strategy: 'Canary',
    steps: [{ canary: { replicas: 1 } }, { verify: {} }, { canary: { replicas: '25%' } }, { pause: {} }],
  },
});
const stable: HelloWorldStatus = { stableRevision: 'r1', phase: 'Available' };

describe('the canary plan', () => {
  it.each<[number | string, number, number]>([
    [1, 10, 1],
    [3, 2, 3],
    ['25%', 10, 3],
    ['100%', 10, 10],
    ['1%', 10, 1],
    ['50%', 0, 1],
  ])('%s of %i stable replicas is %i canary pods', (replicas, stableReplicas, expected) => {
    expect(resolveReplicas(replicas, stableReplicas)).toBe(expected);
  });

  it('keeps the last canary step count through verify and pause steps', () => {
    expect([0, 1, 2, 3, 4].map((i) => canaryReplicasAt(spec.rollout.steps, i, 10))).toEqual([1, 1, 3, 3, 3]);
  });

  it('holds the stable template while steps remain, and hands it over after the last', () => {
    const input = { spec, specRevision: 'r2', rollingBack: false, stableReplicas: 10 };
    expect(planCanary({ ...input, status: stable })).toEqual({ holdStable: true, canaryReplicas: 1 });
    const canary = (stepIndex: number): HelloWorldStatus => ({
      ...stable,
      canary: {
        revision: 'r2',
        stepIndex,
        steps: 4,
        stepStartedAt: '',
        replicas: 0,
        readyReplicas: 0,
        stableReplicas: 0,
      },
    });
    expect(planCanary({ ...input, status: canary(3) })).toEqual({ holdStable: true, canaryReplicas: 3 });
    expect(planCanary({ ...input, status: canary(4) })).toEqual({ holdStable: false, canaryReplicas: 3 });
    // A canary of another revision: this one starts at step 1.
    expect(planCanary({ ...input, specRevision: 'r3', status: canary(3) })).toEqual({
      holdStable: true,
      canaryReplicas: 1,
    });
  });

  it('has no canary for the first revision, the stable one, a failed one, or the Rolling strategy', () => {
    const input = { spec, specRevision: 'r2', rollingBack: false, stableReplicas: 10 };
    expect(planCanary({ ...input, status: {} })).toEqual({ holdStable: false });
    expect(planCanary({ ...input, specRevision: 'r1', status: stable })).toEqual({ holdStable: false });
    expect(planCanary({ ...input, rollingBack: true, status: stable })).toEqual({ holdStable: false });
    const rolling = resolveSpec({ image: 'hello:2' });
    expect(planCanary({ ...input, spec: rolling, status: stable })).toEqual({ holdStable: false });
  });

  it('names steps for status and kubectl', () => {
    const steps = spec.rollout.steps;
    expect([0, 1, 2, 3, 4].map((i) => describeStep(steps, i))).toEqual([
      '1/4: canary 1',
      '2/4: verify',
      '3/4: canary 25%',
      '4/4: pause until promoted',
      '4/4: promoting',
    ]);
  });
});
