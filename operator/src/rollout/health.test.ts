import { describe, expect, it } from '@jest/globals';
import { resolveSpec } from '../crd/defaults.js';
import { DEADLINE_GRACE_SECONDS, assessRolloutHealth, findPodFailure, msUntilDeadline } from './health.js';
import {
  REV1,
  REV2,
  T0,
  complete,
  deadlineExceeded,
  deployment,
  pod,
  rolling,
} from '../../../test/support/rollout-fixtures.js';

const spec = resolveSpec({ image: 'hello:2' });
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const assess = (input: Partial<Parameters<typeof assessRolloutHealth>[0]>) =>
  assessRolloutHealth({
    deployment: undefined,
    pods: [],
    revision: REV2,
    spec,
    startedAt: T0,
    now: at(1),
    ...input,
  });

describe('assessRolloutHealth', () => {
  it('is Complete when every replica is updated and available and no old replica is left', () => {
    expect(assess({ deployment: complete(REV2) })).toEqual({
      state: 'Complete',
      message: `revision ${REV2} rolled out: 2 of 2 updated, 2 available, 0 old replicas left`,
    });
  });

  it.each([
    ['old replicas are left', deployment(REV2, { updated: 2, available: 2, total: 3 })],
    ['an updated replica is not available', deployment(REV2, { updated: 2, available: 1 })],
    ['the controller has not observed the spec', deployment(REV2, { generation: 3, observed: 2 })],
    ['the Deployment runs another revision', complete(REV1)],
  ])('is Progressing while %s', (_why, d) => {
    expect(assess({ deployment: d }).state).toBe('Progressing');
  });

  it('is Progressing while the Deployment does not exist yet', () => {
    expect(assess({})).toEqual({
      state: 'Progressing',
      message: `rolling out revision ${REV2}: the Deployment does not exist yet`,
    });
  });

  it('fails on the Deployment’s own ProgressDeadlineExceeded with its message', () => {
    const health = assess({ deployment: deadlineExceeded(REV2) });
    expect(health).toMatchObject({ state: 'Failed', reason: 'ProgressDeadlineExceeded' });
    expect(health.message).toContain('ReplicaSet "hello-7d9f" has timed out progressing.');
  });

  it('fails on its own clock after progressDeadlineSeconds plus the grace', () => {
    const limit = spec.rollout.progressDeadlineSeconds + DEADLINE_GRACE_SECONDS;
    expect(assess({ deployment: rolling(REV2), now: at(limit) }).state).toBe('Progressing');
    expect(assess({ deployment: rolling(REV2), now: at(limit + 1) })).toMatchObject({
      state: 'Failed',
      reason: 'ProgressDeadlineExceeded',
      message: `revision ${REV2} did not complete within progressDeadlineSeconds=120 (1 of 2 updated, 2 available, 2 old replicas left)`,
    });
    expect(msUntilDeadline(spec, T0, at(100))).toBe((limit - 100) * 1000);
    expect(msUntilDeadline(spec, T0, at(1000))).toBe(0);
  });

  it('reports pod failures before completion or deadline', () => {
    const pods = [
      pod('p', REV2, { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } }),
    ];
    expect(assess({ deployment: rolling(REV2), pods })).toMatchObject({
      state: 'Failed',
      reason: 'ImagePullFailed',
    });
  });
});

describe('findPodFailure', () => {
  it.each(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull'])(
    'fails %s at once as ImagePullFailed',
    (reason) => {
      const pods = [pod('hello-x', REV2, { waiting: { reason, message: 'kubelet says no' } })];
      expect(findPodFailure(pods, REV2, 3)).toEqual({
        state: 'Failed',
        reason: 'ImagePullFailed',
        message: `pod hello-x container api: ${reason}: kubelet says no`,
      });
    },
  );

  it('tolerates restarts below the threshold, even in CrashLoopBackOff', () => {
    const pods = [pod('hello-x', REV2, { restarts: 2, waiting: { reason: 'CrashLoopBackOff' } })];
    expect(findPodFailure(pods, REV2, 3)).toBeUndefined();
  });

  it('fails as CrashLooping at the threshold, running or not', () => {
    const pods = [pod('hello-x', REV2, { restarts: 3, lastExit: { reason: 'OOMKilled', exitCode: 137 } })];
    expect(findPodFailure(pods, REV2, 3)).toEqual({
      state: 'Failed',
      reason: 'CrashLooping',
      message:
        'pod hello-x container api restarted 3 times (threshold 3); last exit: OOMKilled (exit code 137)',
    });
  });

  it('looks only at pods of the revision, and not at terminating ones', () => {
    const broken = { restarts: 9, waiting: { reason: 'ImagePullBackOff' } };
    const pods = [pod('hello-old', REV1, broken), pod('hello-going', REV2, { ...broken, terminating: true })];
    expect(findPodFailure(pods, REV2, 3)).toBeUndefined();
  });

  it('checks init containers too', () => {
    const p = pod('hello-x', REV2, { initWaiting: { reason: 'ErrImagePull' } });
    expect(findPodFailure([p], REV2, 3)?.message).toBe(
      'pod hello-x container init: ErrImagePull: cannot pull busybox:nope',
    );
  });
});
