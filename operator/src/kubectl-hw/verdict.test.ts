import { describe, expect, it } from '@jest/globals';
import { EXIT, judgeWait } from './verdict.js';
import { readView } from './view.js';

const condition = (type: string, status: string, reason = 'R', message = 'm') => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2026-12-01T00:00:00Z',
});

/** A HelloWorld at generation 3 whose status says `status`. */
const at = (status: Record<string, unknown>, generation = 3) =>
  readView({
    metadata: { name: 'hello', namespace: 'ns', generation },
    spec: { image: 'hello/api:2' },
    status: { observedGeneration: 3, currentRevision: 'r2', stableRevision: 'r2', ...status },
  });

describe('judgeWait', () => {
  it('passes Available of the current generation with exit 0', () => {
    expect(judgeWait(at({ phase: 'Available' }))).toMatchObject({ kind: 'done', code: EXIT.ok });
  });

  it('never trusts a phase written for an older generation', () => {
    const verdict = judgeWait(at({ phase: 'Available' }, 4));
    expect(verdict).toEqual({
      kind: 'waiting',
      why: 'the operator has not observed generation 4 yet (status is of generation 3)',
    });
    expect(judgeWait(readView({ metadata: { generation: 1 }, status: { phase: 'Available' } })).kind).toBe(
      'waiting',
    );
    expect(judgeWait(readView({ status: { phase: 'Available', observedGeneration: 1 } })).kind).toBe(
      'waiting',
    );
  });

  it('gives RolledBack and Failed their own exit codes, with the reason', () => {
    const rolledBack = judgeWait(
      at({
        phase: 'RolledBack',
        lastRollback: { reason: 'AnalysisFailed', message: 'canary 5xx 30% vs stable 0%' },
      }),
    );
    expect(rolledBack).toEqual({
      kind: 'done',
      code: EXIT.rolledBack,
      phase: 'RolledBack',
      why: 'AnalysisFailed: canary 5xx 30% vs stable 0%',
    });
    const failed = judgeWait(
      at({
        phase: 'Failed',
        conditions: [condition('Degraded', 'True', 'CrashLooping', 'restarted 5 times')],
      }),
    );
    expect(failed).toMatchObject({ code: EXIT.failed, why: 'CrashLooping: restarted 5 times' });
    expect(judgeWait(at({ phase: 'Failed' }))).toMatchObject({
      code: EXIT.failed,
      why: 'no reason recorded',
    });
    expect(new Set(Object.values(EXIT)).size).toBe(Object.values(EXIT).length);
  });

  it('keeps waiting while a rollout is in flight, blocked, or Available without being done', () => {
    for (const phase of ['Pending', 'Progressing', 'Verifying', 'Paused', undefined, 'Whatever']) {
      expect(judgeWait(at({ phase })).kind).toBe('waiting');
    }
    const blocked = at({
      phase: 'Available',
      conditions: [condition('Reconciled', 'False', 'ReconcileFailed')],
    });
    expect(judgeWait(blocked)).toMatchObject({
      kind: 'waiting',
      why: 'reconcile blocked: ReconcileFailed: m',
    });
    const degraded = at({ phase: 'Available', conditions: [condition('Degraded', 'True', 'Aborted')] });
    expect(judgeWait(degraded)).toMatchObject({ kind: 'waiting' });
    expect(judgeWait(at({ phase: 'Available', currentRevision: 'r3' })).kind).toBe('waiting');
  });

  it('treats a status of the wrong types as absent, not as a verdict', () => {
    const hostile = readView({
      metadata: { generation: '3' },
      status: { observedGeneration: '3', phase: ['Available'] },
    });
    expect(judgeWait(hostile).kind).toBe('waiting');
    expect(judgeWait(at({ phase: 'Available', observedGeneration: 3.5 })).kind).toBe('waiting');
  });
});
