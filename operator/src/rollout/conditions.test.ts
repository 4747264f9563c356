import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { REV1, T0, deployment } from '../../../test/support/rollout-fixtures.js';
import { Reason, availability, getCondition, isConditionTrue, setCondition } from './conditions.js';

const later = new Date(T0.getTime() + 60_000);

describe('setCondition', () => {
  const first = setCondition(
    undefined,
    { type: 'Progressing', status: 'True', reason: 'RolloutInProgress', message: 'a' },
    1,
    T0,
  );

  it('adds a condition with the transition time and generation', () => {
    expect(first).toEqual([
      {
        type: 'Progressing',
        status: 'True',
        reason: 'RolloutInProgress',
        message: 'a',
        observedGeneration: 1,
        lastTransitionTime: T0.toISOString(),
      },
    ]);
  });

  it('keeps lastTransitionTime when only reason or message change', () => {
    const next = setCondition(
      first,
      { type: 'Progressing', status: 'True', reason: 'Verifying', message: 'b' },
      2,
      later,
    );
    expect(next[0]).toMatchObject({ reason: 'Verifying', message: 'b', observedGeneration: 2 });
    expect(next[0]?.lastTransitionTime).toBe(T0.toISOString());
  });

  it('moves lastTransitionTime when the status changes, keeping the others in place', () => {
    const both = setCondition(
      first,
      { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' },
      1,
      T0,
    );
    const next = setCondition(
      both,
      { type: 'Progressing', status: 'False', reason: 'RolloutSucceeded', message: '' },
      1,
      later,
    );
    expect(next.map((c) => c.type)).toEqual(['Progressing', 'Degraded']);
    expect(getCondition(next, 'Progressing')?.lastTransitionTime).toBe(later.toISOString());
    expect(isConditionTrue(next, 'Progressing')).toBe(false);
    expect(first[0]?.status).toBe('True');
  });
});

describe('availability', () => {
  it('is True when the Deployment is Available with at least one replica', () => {
    expect(availability(deployment(REV1))).toMatchObject({
      status: 'True',
      reason: 'MinimumReplicasAvailable',
    });
  });
  it('is False without replicas, without the Deployment condition, or without a Deployment', () => {
    expect(availability(deployment(REV1, { available: 0 })).status).toBe('False');
    expect(availability(deployment(REV1, { conditions: [] })).status).toBe('False');
    expect(availability(undefined)).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
  });
});

describe('Reason', () => {
  // Reasons are what users filter events and conditions by (docs/rollouts.md, docs/runbooks.md): a
  // declared reason nothing writes misleads the reader of this module.
  const src = dirname(dirname(fileURLToPath(import.meta.url)));
  const sources = (readdirSync(src, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .map((file) => readFileSync(join(src, file), 'utf8'))
    .join('\n');

  it.each(Object.keys(Reason))('%s is written through its constant somewhere in the operator', (key) => {
    expect(sources).toMatch(new RegExp(`\\b(Failure|Blocked|Monitoring)?Reason\\.${key}\\b`));
  });
});
