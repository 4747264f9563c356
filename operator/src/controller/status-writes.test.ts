import type { Condition, HelloWorld, HelloWorldStatus } from '../crd/types.js';
import {
  PROGRESS_WRITE_INTERVAL_MS,
  PROGRESS_WRITES_PER_SECOND,
  StatusWrites,
  progressWriteInterval,
  statusChanges,
  statusWriteDelay,
} from './status-writes.js';

const helloWorld = (resourceVersion: string, status: HelloWorldStatus = {}): HelloWorld => ({
  apiVersion: 'hello.dev/v1alpha1',
  kind: 'HelloWorld',
  metadata: { name: 'web', namespace: 'team', resourceVersion, generation: 2 },
  spec: { image: 'hello/api:2' },
  status,
});

const progressing = (message: string): Condition => ({
  type: 'Progressing',
  status: 'True',
  observedGeneration: 2,
  lastTransitionTime: '2026-01-01T00:00:00Z',
  reason: 'RolloutInProgress',
  message,
});

describe('status writes the informer has not delivered yet', () => {
  it('stand in for the cached HelloWorld until the cache moves past the version they were based on', () => {
    const writes = new StatusWrites();
    const cached = helloWorld('10', { phase: 'Available' });
    const written = helloWorld('11', { phase: 'Progressing' });
    writes.recorded(cached, { ...written, metadata: { ...written.metadata, managedFields: [{}] } }, 0);

    const seen = writes.current('team', 'web', cached);
    expect(seen?.metadata.resourceVersion).toBe('11');
    expect(seen?.status?.phase).toBe('Progressing');
    expect(seen?.metadata.managedFields).toBeUndefined();

    // The informer delivers the write: the cache is current again and the record goes.
    expect(writes.current('team', 'web', written)).toBe(written);
    expect(writes.size()).toBe(0);
    expect(writes.current('team', 'web', cached)).toBe(cached);
  });

  it('chain: a write based on an earlier undelivered write keeps every older version stale', () => {
    const writes = new StatusWrites();
    const cached = helloWorld('10', { phase: 'Available' });
    const first = helloWorld('11', { phase: 'Progressing' });
    const second = helloWorld('12', { phase: 'Available' });
    writes.recorded(cached, first, 0);
    writes.recorded(writes.current('team', 'web', cached) as HelloWorld, second, 0);

    expect(writes.current('team', 'web', cached)?.metadata.resourceVersion).toBe('12');
    // The first write arrives before the second: still older than what was written last.
    expect(writes.current('team', 'web', first)?.metadata.resourceVersion).toBe('12');
    expect(writes.current('team', 'web', second)).toBe(second);
  });

  it('yield to a change by someone else, and to a deleted HelloWorld', () => {
    const writes = new StatusWrites();
    const cached = helloWorld('10');
    writes.recorded(cached, helloWorld('11', { phase: 'Progressing' }), 0);
    const edited = helloWorld('13', { phase: 'Failed' });
    expect(writes.current('team', 'web', edited)).toBe(edited);

    writes.recorded(cached, helloWorld('11'), 5000);
    expect(writes.lastWriteAt('team', 'web')).toBe(5000);
    expect(writes.current('team', 'web', undefined)).toBeUndefined();
    expect(writes.size()).toBe(0);
    expect(writes.lastWriteAt('team', 'web')).toBeUndefined();
  });

  it('count the rollouts that move, by the last status computed for each HelloWorld', () => {
    const writes = new StatusWrites();
    const moving: HelloWorldStatus = { conditions: [progressing('0 of 1 updated')] };
    const done: HelloWorldStatus = { conditions: [{ ...progressing('rolled out'), status: 'False' }] };
    writes.rollingOut('team', 'web', moving);
    writes.rollingOut('team', 'web', moving);
    writes.rollingOut('team', 'api', moving);
    writes.rollingOut('other', 'web', done);
    expect(writes.rolloutsMoving()).toBe(2);

    writes.rollingOut('team', 'api', done);
    expect(writes.rolloutsMoving()).toBe(1);
    // A deleted HelloWorld no longer counts.
    writes.current('team', 'web', undefined);
    expect(writes.rolloutsMoving()).toBe(0);
  });

  it('are not kept for objects without a resourceVersion', () => {
    const writes = new StatusWrites();
    const cached = helloWorld('10');
    delete cached.metadata.resourceVersion;
    writes.recorded(cached, helloWorld('11'), 0);
    expect(writes.size()).toBe(0);
  });
});

describe('statusChanges', () => {
  it('is empty for equal statuses, ignoring undefined members and the order of conditions', () => {
    const a: HelloWorldStatus = {
      phase: 'Progressing',
      failedRevision: undefined,
      conditions: [progressing('x'), { ...progressing('y'), type: 'Available' }],
    };
    const b: HelloWorldStatus = {
      phase: 'Progressing',
      conditions: [{ ...progressing('y'), type: 'Available' }, progressing('x')],
    };
    expect(statusChanges(a, b)).toEqual([]);
  });

  it('names top-level fields and condition fields that differ', () => {
    const stored: HelloWorldStatus = {
      phase: 'Progressing',
      replicas: 1,
      conditions: [progressing('0 of 1')],
    };
    const next: HelloWorldStatus = {
      phase: 'Progressing',
      replicas: 2,
      observedGeneration: 2,
      conditions: [progressing('1 of 1'), { ...progressing('a'), type: 'Degraded', status: 'False' }],
    };
    expect(statusChanges(stored, next)).toEqual([
      'replicas',
      'observedGeneration',
      'conditions[Progressing].message',
      'conditions[Degraded]',
    ]);
  });
});

describe('statusWriteDelay', () => {
  const moving: HelloWorldStatus = { phase: 'Progressing', conditions: [progressing('1 of 2 updated')] };
  const done: HelloWorldStatus = {
    phase: 'Available',
    conditions: [{ ...progressing('rolled out'), status: 'False', reason: 'RolloutSucceeded' }],
  };
  const at = 1_000_000;

  it('holds back progress alone while a rollout moves, until the interval since the last write passed', () => {
    const changes = [
      'readyReplicas',
      'replicas',
      'conditions[Progressing].message',
      'conditions[Available].message',
    ];
    expect(statusWriteDelay({ changes, next: moving, lastWriteAt: at, now: at + 4000 })).toBe(
      PROGRESS_WRITE_INTERVAL_MS - 4000,
    );
    expect(
      statusWriteDelay({
        changes,
        next: moving,
        lastWriteAt: at,
        now: at + PROGRESS_WRITE_INTERVAL_MS,
      }),
    ).toBe(0);
    // No write known since the operator started: write now.
    expect(statusWriteDelay({ changes, next: moving, lastWriteAt: undefined, now: at })).toBe(0);
  });

  it.each([
    ['a phase change', ['phase', 'replicas']],
    ['a new generation', ['observedGeneration', 'conditions[Progressing].observedGeneration']],
    ['a condition changing reason', ['conditions[Progressing].reason', 'conditions[Progressing].message']],
    [
      'a condition changing status',
      ['conditions[Available].status', 'conditions[Available].lastTransitionTime'],
    ],
    ['a new revision', ['currentRevision', 'rolloutStartedAt']],
    ['verification progress', ['verification']],
    ['nothing', []],
  ])('writes %s at once', (_what, changes) => {
    expect(statusWriteDelay({ changes, next: moving, lastWriteAt: at, now: at + 1 })).toBe(0);
  });

  it('spaces progress writes further apart when so many roll out that all of them would pass the rate', () => {
    expect(progressWriteInterval(0)).toBe(PROGRESS_WRITE_INTERVAL_MS);
    expect(progressWriteInterval(1)).toBe(PROGRESS_WRITE_INTERVAL_MS);
    const atInterval = (PROGRESS_WRITE_INTERVAL_MS / 1000) * PROGRESS_WRITES_PER_SECOND;
    expect(progressWriteInterval(atInterval)).toBe(PROGRESS_WRITE_INTERVAL_MS);
    // Past that, N rollouts at one write each per interval make PROGRESS_WRITES_PER_SECOND together.
    for (const n of [atInterval + 1, 100, 300, 1000]) {
      const interval = progressWriteInterval(n);
      expect(interval).toBeGreaterThan(PROGRESS_WRITE_INTERVAL_MS);
      expect((n * 1000) / interval).toBeCloseTo(PROGRESS_WRITES_PER_SECOND, 5);
    }
    const changes = ['readyReplicas'];
    expect(
      statusWriteDelay({
        changes,
        next: moving,
        lastWriteAt: at,
        now: at + PROGRESS_WRITE_INTERVAL_MS,
        intervalMs: progressWriteInterval(300),
      }),
    ).toBe(progressWriteInterval(300) - PROGRESS_WRITE_INTERVAL_MS);
  });

  it('writes progress at once when no rollout moves (a scale-up of an Available HelloWorld)', () => {
    const changes = ['readyReplicas', 'conditions[Available].message'];
    expect(statusWriteDelay({ changes, next: done, lastWriteAt: at, now: at + 1 })).toBe(0);
  });
});
