// status.history as the state machine writes it: one entry where each rollout's outcome is decided.
import { describe, expect, it } from '@jest/globals';
import { ANNOTATION_ABORT, ANNOTATION_RETRY, type HistoryEntry } from '../crd/types.js';
import {
  REV1,
  REV2,
  REV3,
  Sim,
  T0,
  deadlineExceeded,
  pod,
  readyPods,
  rolling,
} from '../../../test/support/rollout-fixtures.js';
import { MAX_SUMMARY_CHARS } from './history.js';

const brief = (history: HistoryEntry[] | undefined): string[] =>
  (history ?? []).map((e) => `${e.revision} ${e.image} ${e.outcome} ${e.reason}`);

/** Spec now asks for `revision`; its rollout starts this step. Returns when it started. */
async function startRollout(sim: Sim, revision: string): Promise<string> {
  sim.changeSpec(revision);
  sim.deployment = rolling(revision);
  sim.pods = [...readyPods(REV1), pod(`hello-${revision}-new`, revision, { ready: false })];
  await sim.step();
  expect(sim.status.currentRevision).toBe(revision);
  return sim.now.toISOString();
}

/** Settles `revision` and verifies it to its end (six analysis intervals). */
async function verify(sim: Sim, revision: string): Promise<void> {
  sim.settle(revision);
  await sim.step();
  for (let i = 0; i < 6; i++) {
    sim.advance(10);
    await sim.step();
  }
}

/** New pods of `revision` crash past the threshold: the rollout fails as CrashLooping. */
async function crash(sim: Sim, revision: string): Promise<void> {
  sim.pods = [...readyPods(REV1), pod(`hello-${revision}-new`, revision, { restarts: 3 })];
  await sim.step();
}

describe('status.history', () => {
  it('records a promotion once, with the rollout’s start and the verdict’s time', async () => {
    const sim = new Sim();
    await sim.reachStable();
    expect(sim.status.history).toHaveLength(1);
    expect(sim.status.history?.[0]).toMatchObject({
      revision: REV1,
      image: 'hello:1',
      startTime: T0.toISOString(),
      endTime: sim.now.toISOString(),
      outcome: 'Promoted',
      reason: 'RolloutSucceeded',
    });
    expect(sim.status.history?.[0]?.summary).toContain('analysis passed: 6 measurement(s) over 60s');
    const recorded = sim.status.history;
    for (let i = 0; i < 5; i++) {
      sim.advance(60);
      await sim.step();
    }
    expect(sim.status.history).toEqual(recorded);
  });

  it('keeps good, rolled back and good again, newest first, and nothing for following the rollback', async () => {
    const sim = new Sim();
    await sim.reachStable();
    sim.advance(60);
    const rev2Start = await startRollout(sim, REV2);
    sim.advance(7);
    await crash(sim, REV2);
    const rev2End = sim.now.toISOString();
    sim.settle(sim.applied());
    await sim.step();
    expect(sim.condition('Progressing').reason).toBe('RolledBack');
    sim.advance(60);
    await startRollout(sim, REV3);
    await verify(sim, REV3);

    expect(brief(sim.status.history)).toEqual([
      `${REV3} hello:3 Promoted RolloutSucceeded`,
      `${REV2} hello:2 RolledBack CrashLooping`,
      `${REV1} hello:1 Promoted RolloutSucceeded`,
    ]);
    expect(sim.status.history?.[1]).toMatchObject({ startTime: rev2Start, endTime: rev2End });
    expect(sim.status.history?.[1]?.summary).toContain('restarted 3 times (threshold 3)');
  });

  it('is recorded once when the same decision is made again on the same status (a lost write)', async () => {
    const sim = new Sim();
    await sim.reachStable();
    await startRollout(sim, REV2);
    const before = sim.status;
    await crash(sim, REV2);
    const decided = sim.status.history;
    sim.status = JSON.parse(JSON.stringify({ ...before, history: decided })) as typeof before;
    await crash(sim, REV2);
    expect(sim.status.history).toEqual(decided);
    expect(brief(sim.status.history)).toHaveLength(2);
  });

  it('records a retried revision as a rollout of its own', async () => {
    const sim = new Sim();
    await sim.reachStable();
    await startRollout(sim, REV2);
    sim.deployment = deadlineExceeded(REV2);
    await sim.step();
    sim.settle(sim.applied());
    await sim.step();
    sim.advance(30);
    sim.annotations[ANNOTATION_RETRY] = 'again';
    sim.deployment = rolling(REV2);
    await sim.step();
    await verify(sim, REV2);
    expect(brief(sim.status.history)).toEqual([
      `${REV2} hello:2 Promoted RolloutSucceeded`,
      `${REV2} hello:2 RolledBack ProgressDeadlineExceeded`,
      `${REV1} hello:1 Promoted RolloutSucceeded`,
    ]);
  });

  it('says Aborted for an abort, rolled back or not', async () => {
    const rolledBack = new Sim();
    await rolledBack.reachStable();
    await startRollout(rolledBack, REV2);
    rolledBack.annotations[ANNOTATION_ABORT] = '1';
    await rolledBack.step();
    expect(rolledBack.status.phase).toBe('RolledBack');
    expect(brief(rolledBack.status.history)[0]).toBe(`${REV2} hello:2 Aborted Aborted`);
    expect(rolledBack.status.history?.[0]?.summary).toContain('aborted by annotation hello.dev/abort=1');

    const first = new Sim();
    first.deployment = rolling(REV1);
    await first.step();
    first.annotations[ANNOTATION_ABORT] = 'now';
    await first.step();
    expect(first.status.phase).toBe('Failed');
    expect(brief(first.status.history)).toEqual([`${REV1} hello:1 Aborted Aborted`]);
  });

  it('says Failed when nothing is undone', async () => {
    const sim = new Sim({ rollout: { autoRollback: false } });
    await sim.reachStable();
    await startRollout(sim, REV2);
    sim.settle(REV2);
    sim.verifier.smokeScript.push({ passed: false, message: 'read-date-of-birth on hello-new-0: got 500' });
    await sim.step();
    await sim.step();
    expect(sim.status.phase).toBe('Failed');
    expect(brief(sim.status.history)).toEqual([
      `${REV2} hello:2 Failed SmokeTestFailed`,
      `${REV1} hello:1 Promoted RolloutSucceeded`,
    ]);
  });

  it('keeps historyLimit entries, and drops the oldest when the limit is lowered', async () => {
    const sim = new Sim({ rollout: { historyLimit: 2 } });
    await sim.reachStable();
    await startRollout(sim, REV2);
    await crash(sim, REV2);
    sim.settle(sim.applied());
    await sim.step();
    await startRollout(sim, REV3);
    await verify(sim, REV3);
    expect(brief(sim.status.history)).toEqual([
      `${REV3} hello:3 Promoted RolloutSucceeded`,
      `${REV2} hello:2 RolledBack CrashLooping`,
    ]);

    sim.spec = { ...sim.spec, rollout: { ...sim.spec.rollout, historyLimit: 1 } };
    const decision = await sim.step();
    expect(brief(sim.status.history)).toEqual([`${REV3} hello:3 Promoted RolloutSucceeded`]);
    expect(decision.events).toEqual([]);
  });

  it('summarizes what a pod said as one printable, bounded line', async () => {
    const sim = new Sim();
    await sim.reachStable();
    await startRollout(sim, REV2);
    sim.settle(REV2);
    sim.verifier.smokeScript.push({
      passed: false,
      message: `got "\u001b[2J\r\nOK\u202e${'z'.repeat(5000)}"`,
    });
    await sim.step();
    const summary = sim.status.history?.[0]?.summary ?? '';
    expect(sim.status.history?.[0]?.outcome).toBe('RolledBack');
    expect(Array.from(summary).length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS + 1);
    expect(summary).toMatch(/^[\x20-\x7e]*…$/);
    expect(summary).toContain('got " [2J OK zzz');
  });
});
