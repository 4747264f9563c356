import { judge, parseDuration, readObserved } from './verdict.ts';

/** A HelloWorld as `kubectl get -o json` returns it, at `generation`, with the given status. */
const helloWorld = (generation: number, status: Record<string, unknown>): unknown => ({
  apiVersion: 'hello.dev/v1alpha1',
  kind: 'HelloWorld',
  metadata: { name: 'hello', namespace: 'review', generation, uid: 'u-1' },
  spec: { image: 'registry.example.com/hello-api:2' },
  status,
});

const cond = (type: string, status: string, reason: string, message = '', observedGeneration = 2) => ({
  type,
  status,
  reason,
  message,
  observedGeneration,
  lastTransitionTime: '2026-01-01T00:00:00Z',
});

const available = (observedGeneration: number) => ({
  observedGeneration,
  phase: 'Available',
  currentRevision: 'aaaa',
  stableRevision: 'aaaa',
  conditions: [cond('Degraded', 'False', 'AsExpected'), cond('Reconciled', 'True', 'Reconciled')],
});

const rolledBack = (observedGeneration: number, message: string) => ({
  observedGeneration,
  phase: 'RolledBack',
  currentRevision: 'aaaa',
  stableRevision: 'aaaa',
  failedRevision: 'bbbb',
  lastRollback: {
    fromRevision: 'bbbb',
    toRevision: 'aaaa',
    fromImage: 'pullfail.invalid/api:2',
    toImage: 'api:1',
    reason: 'ImagePullFailed',
    message,
    time: '2026-01-01T00:00:00Z',
  },
  conditions: [
    cond('Degraded', 'True', 'ImagePullFailed', message),
    cond('Reconciled', 'True', 'Reconciled'),
  ],
});

describe('judge', () => {
  it('does not take the previous generation’s Available for the applied spec’s (the race right after an apply)', () => {
    const verdict = judge(readObserved(helloWorld(3, available(2))));
    expect(verdict).toEqual({
      kind: 'waiting',
      why: 'the operator has not observed generation 3 yet (status is of generation 2)',
    });
    expect(judge(readObserved(helloWorld(3, available(2))), 3).kind).toBe('waiting');
  });

  it('passes Available once the status is of the applied generation', () => {
    expect(judge(readObserved(helloWorld(2, available(2))), 2)).toEqual({ kind: 'available' });
  });

  it('fails RolledBack with status.lastRollback’s reason and message', () => {
    const message = 'container api of pod review/hello-1 cannot pull its image: ErrImagePull';
    expect(judge(readObserved(helloWorld(2, rolledBack(2, message))), 2)).toEqual({
      kind: 'failed',
      phase: 'RolledBack',
      reason: 'ImagePullFailed',
      message,
    });
  });

  it('fails Failed with the Degraded condition', () => {
    const status = {
      observedGeneration: 2,
      phase: 'Failed',
      conditions: [cond('Degraded', 'True', 'CrashLooping', 'container api restarted 3 times')],
    };
    expect(judge(readObserved(helloWorld(2, status)))).toEqual({
      kind: 'failed',
      phase: 'Failed',
      reason: 'CrashLooping',
      message: 'container api restarted 3 times',
    });
  });

  it('waits while the rollout is in flight', () => {
    const status = { ...available(2), phase: 'Verifying', currentRevision: 'bbbb' };
    expect(judge(readObserved(helloWorld(2, status)))).toEqual({ kind: 'waiting', why: 'phase Verifying' });
  });

  it('does not take the phase a blocked reconcile kept (Reconciled=False) for a verdict on the new spec', () => {
    // A reconcile blocked before the rollout records the new generation but keeps the old phase.
    const status = rolledBack(3, 'an earlier image failed');
    status.conditions = [
      cond('Degraded', 'True', 'RedisSecretInvalid', 'Secret hello-redis not found', 3),
      cond('Reconciled', 'False', 'RedisSecretInvalid', 'Secret hello-redis not found', 3),
    ];
    const verdict = judge(readObserved(helloWorld(3, status)), 3);
    expect(verdict).toEqual({
      kind: 'waiting',
      why: 'the operator cannot roll out generation 3: RedisSecretInvalid: Secret hello-redis not found',
    });
  });

  it('does not pass Available while Degraded is True', () => {
    const status = available(2);
    status.conditions = [cond('Degraded', 'True', 'ChildConflict', 'Service hello is not ours')];
    expect(judge(readObserved(helloWorld(2, status))).kind).toBe('waiting');
  });

  it('does not pass Available when the current revision is not the stable one', () => {
    const status = { ...available(2), currentRevision: 'bbbb' };
    expect(judge(readObserved(helloWorld(2, status))).kind).toBe('waiting');
  });

  it('fails when the spec moved past the applied generation before it was judged', () => {
    const verdict = judge(readObserved(helloWorld(5, available(5))), 4);
    expect(verdict).toMatchObject({ kind: 'failed', phase: 'Superseded', reason: 'SpecChangedAgain' });
  });

  it('reads a status of the wrong shape as absent instead of throwing', () => {
    const hostile = {
      metadata: { generation: '2' },
      status: { observedGeneration: 2, phase: 7, conditions: 'none', lastRollback: [1] },
    };
    const observed = readObserved(hostile);
    expect(observed).toMatchObject({ generation: undefined, phase: undefined, conditions: [] });
    expect(judge(observed).kind).toBe('waiting');
    for (const value of [null, 'x', 42, [], { status: null }, { status: { conditions: [null, 'x', 1] } }]) {
      expect(judge(readObserved(value)).kind).toBe('waiting');
    }
  });
});

describe('parseDuration', () => {
  it.each([
    ['90', 90_000],
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'ten', '10x', '-5s', '5 m', '1.5h'])('rejects "%s"', (text) => {
    expect(() => parseDuration(text)).toThrow(/not a duration/);
  });
});
