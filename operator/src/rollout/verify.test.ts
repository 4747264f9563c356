import { describe, expect, it } from '@jest/globals';
import type { HelloWorldSpec } from '../crd/types.js';
import { VerificationPending } from '../verification/background.js';
import {
  REV1,
  REV2,
  Sim,
  pod,
  readyPods,
  rolling,
  sample,
  scriptedMeasure,
} from '../../../test/support/rollout-fixtures.js';
import { MAX_MESSAGE_CHARS, PENDING_POLL_MS } from './verify.js';

/** REV1 stable, REV2 rolled out and entering verification (smoke done, analysis baseline taken). */
async function verifyingRev2(
  spec: Partial<HelloWorldSpec> = {},
  script: ('Pass' | 'Fail' | 'NoData')[] = [],
) {
  const sim = new Sim(spec);
  await sim.reachStable();
  sim.measure = scriptedMeasure(script);
  sim.changeSpec(REV2);
  sim.settle(REV2);
  await sim.step();
  return sim;
}

async function intervals(sim: Sim, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    sim.advance(10);
    await sim.step();
  }
}

describe('smoke tests', () => {
  it('fail the rollout with what the check saw', async () => {
    const sim = new Sim();
    await sim.reachStable();
    sim.changeSpec(REV2);
    sim.settle(REV2);
    sim.verifier.smokeScript.push({
      passed: false,
      message: 'store-date-of-birth on hello-x: expected 204, got 500',
    });
    const decision = await sim.step();
    expect(decision.rollback).toEqual({ reason: 'SmokeTestFailed' });
    expect(sim.status.lastRollback?.message).toBe('store-date-of-birth on hello-x: expected 204, got 500');
    expect(sim.status.verification?.lastMessage).toContain('expected 204, got 500');
    expect(sim.verifier.sampleCalls).toHaveLength(7); // REV1's baseline and six measurements only
  });

  it('fail, without crashing, when the verifier cannot reach the pods', async () => {
    const sim = new Sim();
    await sim.reachStable();
    sim.changeSpec(REV2);
    sim.settle(REV2);
    sim.verifier.smokeScript.push(new Error('pod proxy: 503 Service Unavailable'));
    const decision = await sim.step();
    expect(decision.rollback).toEqual({ reason: 'SmokeTestFailed' });
    expect(sim.status.lastRollback?.message).toBe(
      'smoke tests could not run: pod proxy: 503 Service Unavailable',
    );
  });

  it('run once per revision and only against ready pods of the new revision', async () => {
    const sim = new Sim();
    await sim.reachStable();
    sim.changeSpec(REV2);
    sim.settle(REV2);
    sim.pods = [...readyPods(REV1), ...readyPods(REV2), pod('hello-starting', REV2, { ready: false })];
    await sim.step();
    await intervals(sim, 3);
    expect(sim.verifier.smokeCalls).toHaveLength(2);
    expect(sim.verifier.smokeCalls[1]?.map((p) => p.name)).toEqual([`hello-${REV2}-0`, `hello-${REV2}-1`]);
  });

  it('wait for a ready pod, then give up after the progress deadline', async () => {
    const sim = new Sim();
    await sim.reachStable();
    sim.changeSpec(REV2);
    sim.deployment = rolling(REV2);
    sim.pods = [];
    await sim.step();
    sim.settle(REV2);
    sim.pods = [];
    const waiting = await sim.step();
    expect(sim.status.phase).toBe('Verifying');
    expect(waiting.requeueAfterMs).toBe(5000);
    expect(sim.status.verification?.lastMessage).toContain('waiting for a ready pod');
    sim.advance(121);
    const failed = await sim.step();
    expect(failed.rollback).toEqual({ reason: 'SmokeTestFailed' });
  });
});

describe('analysis', () => {
  it('fails after failureLimit consecutive failed measurements', async () => {
    const sim = await verifyingRev2({}, ['Pass', 'Fail', 'Fail']);
    await intervals(sim, 2);
    expect(sim.status.phase).toBe('Verifying');
    expect(sim.status.verification?.consecutiveFailures).toBe(1);
    sim.advance(10);
    const decision = await sim.step();
    expect(decision.rollback).toEqual({ reason: 'AnalysisFailed' });
    expect(sim.status.lastRollback?.message).toBe(
      '2 consecutive failed measurements (failureLimit 2); last: analysis measurement 3: Fail: error rate 20.0% exceeds 5.0%',
    );
  });

  it('passes with failures that are not consecutive', async () => {
    const sim = await verifyingRev2({}, ['Fail', 'Pass', 'Fail', 'Pass', 'Fail', 'Pass']);
    await intervals(sim, 6);
    expect(sim.status.phase).toBe('Available');
    expect(sim.status.stableRevision).toBe(REV2);
  });

  it('counts NoData as a pass with noData: Pass, and says so', async () => {
    const sim = await verifyingRev2({}, ['NoData', 'NoData', 'NoData', 'NoData', 'NoData', 'NoData']);
    await intervals(sim, 1);
    expect(sim.status.verification?.lastMessage).toBe(
      'analysis measurement 1: NoData: no /hello requests in the interval (counted as a pass: noData is Pass)',
    );
    await intervals(sim, 5);
    expect(sim.status.phase).toBe('Available');
    const success = sim.last?.events.find((e) => e.reason === 'RolloutSucceeded');
    expect(success?.message).toContain(
      'no /hello traffic during the whole window; passed because noData is Pass',
    );
  });

  it('counts NoData as a failure with noData: Fail', async () => {
    const spec = { rollout: { verification: { analysis: { noData: 'Fail' as const } } } };
    const sim = await verifyingRev2(spec, ['NoData', 'NoData']);
    await intervals(sim, 2);
    expect(sim.last?.rollback).toEqual({ reason: 'AnalysisFailed' });
    expect(sim.status.lastRollback?.message).toContain('counted as a failure: noData is Fail');
  });

  it('counts unreadable metrics as failed measurements', async () => {
    const sim = await verifyingRev2();
    sim.verifier.sampleScript.push(new Error('timeout after 5s'), new Error('timeout after 5s'));
    await intervals(sim, 2);
    expect(sim.last?.rollback).toEqual({ reason: 'AnalysisFailed' });
    expect(sim.status.lastRollback?.message).toContain('could not read metrics: timeout after 5s');
  });

  it('passes once the window has elapsed, and asks to be woken at each interval', async () => {
    const sim = await verifyingRev2({
      rollout: { verification: { analysis: { windowSeconds: 30, intervalSeconds: 15 } } },
    });
    expect(sim.last?.requeueAfterMs).toBe(15_000);
    sim.advance(6);
    const early = await sim.step(); // a watch event between intervals: no sample
    expect(early.requeueAfterMs).toBe(9_000);
    expect(sim.status.verification?.measurements).toBe(0);
    sim.advance(9);
    await sim.step();
    sim.advance(15);
    await sim.step();
    expect(sim.status.phase).toBe('Available');
    expect(sim.status.verification?.measurements).toBe(2);
  });

  it('uses the real analysis when none is injected', async () => {
    const sim = await verifyingRev2();
    sim.measure = undefined;
    sim.verifier.sampleScript.push(sample(1000, 0), sample(2000, 500), sample(3000, 1000));
    await intervals(sim, 3);
    expect(sim.last?.rollback).toEqual({ reason: 'AnalysisFailed' });
    expect(sim.status.lastRollback?.message).toContain('50.0%');
  });
});

describe('restart safety', () => {
  it('resumes verification from status alone, with the same outcome as an uninterrupted operator', async () => {
    const script = () => scriptedMeasure(['Pass', 'Fail', 'Pass', 'Pass', 'Pass', 'Pass']);
    const samples = [1, 2, 3, 4, 5, 6].map((i) => sample(10_000 + i * 100));
    const steady = await verifyingRev2();
    steady.measure = script();
    steady.verifier.sampleScript.push(...samples);
    await intervals(steady, 6);

    const before = await verifyingRev2();
    before.measure = script();
    before.verifier.sampleScript.push(...samples.slice(0, 3));
    await intervals(before, 3);
    // A new process: nothing but the persisted status, the annotations and the world carries over.
    const after = new Sim();
    Object.assign(after, {
      status: structuredClone(before.status),
      now: before.now,
      specRevision: before.specRevision,
      spec: before.spec,
      generation: before.generation,
      deployment: before.deployment,
      pods: before.pods,
      measure: before.measure,
    });
    after.verifier.sampleScript.push(...samples.slice(3));
    await intervals(after, 3);

    expect(after.status).toEqual(steady.status);
    expect(after.verifier.smokeCalls).toEqual([]);
    expect(after.events.map((e) => e.reason)).toEqual(['RolloutSucceeded']);
  });

  it('measures against the sample stored in status after a restart', async () => {
    const sim = await verifyingRev2();
    const stored = sim.status.verification?.lastSample;
    const measure = scriptedMeasure([]);
    sim.measure = measure;
    sim.verifier = new (sim.verifier.constructor as new () => typeof sim.verifier)();
    sim.advance(10);
    await sim.step();
    expect(measure.calls[0]?.[0]).toEqual(stored);
  });

  it('catches up after being down for longer than the window', async () => {
    const sim = await verifyingRev2();
    sim.advance(300);
    await sim.step();
    expect(sim.status.phase).toBe('Available');
    expect(sim.status.verification?.measurements).toBe(1);
  });
});

/** REV1 stable, REV2 rolled out and ready, its verification not started. */
async function rev2Ready(): Promise<Sim> {
  const sim = new Sim();
  await sim.reachStable();
  sim.changeSpec(REV2);
  sim.settle(REV2);
  return sim;
}

describe('verification running in the background', () => {
  it('keeps the rollout Verifying and looks again soon while the smoke tests run, then uses their result', async () => {
    const sim = await rev2Ready();
    sim.verifier.smokeScript.push(new VerificationPending('smoke tests running in the background'));
    const waiting = await sim.step();
    expect(sim.status.phase).toBe('Verifying');
    expect(waiting.requeueAfterMs).toBe(PENDING_POLL_MS);
    expect(sim.status.verification?.smokePassed).toBeUndefined();
    expect(sim.status.verification?.lastMessage).toBe('smoke tests running in the background on 2 pod(s)');

    sim.verifier.smokeScript.push({ passed: false, message: 'readiness on hello-x: expected 200, got 500' });
    const failed = await sim.step();
    expect(failed.rollback).toEqual({ reason: 'SmokeTestFailed' });
  });

  it('takes no measurement while a sample runs in the background', async () => {
    const sim = await verifyingRev2();
    const before = sim.status.verification;
    sim.advance(10);
    sim.verifier.sampleScript.push(new VerificationPending('metrics sample running in the background'));
    const waiting = await sim.step();
    expect(waiting.requeueAfterMs).toBe(PENDING_POLL_MS);
    expect(sim.status.verification).toEqual(before);
  });
});

describe('what pods say, in status', () => {
  it(`is cut to ${MAX_MESSAGE_CHARS} characters`, async () => {
    const sim = await rev2Ready();
    sim.verifier.smokeScript.push({ passed: false, message: `got ${'x'.repeat(100_000)}` });
    await sim.step();
    expect(sim.status.lastRollback?.message.length).toBe(MAX_MESSAGE_CHARS + 1);
  });

  it(`cuts a sample error to ${MAX_MESSAGE_CHARS} characters`, async () => {
    const sim = await verifyingRev2();
    sim.advance(10);
    sim.verifier.sampleScript.push(new Error(`bad metrics ${'y'.repeat(100_000)}`));
    await sim.step();
    expect(sim.status.verification?.lastMessage?.length).toBeLessThan(MAX_MESSAGE_CHARS + 100);
  });
});

describe('dry-run thresholds in the rollout', () => {
  it('promote the revision, with one DryRunWouldFail event for the metric, however often they fail', async () => {
    const sim = await verifyingRev2(
      { rollout: { verification: { analysis: { thresholds: { dryRun: true } } } } },
      ['Fail', 'Fail', 'Fail', 'Fail', 'Fail', 'Fail'],
    );
    await intervals(sim, 6);
    expect(sim.status.phase).toBe('Available');
    const dryRun = sim.events.filter((e) => e.reason === 'DryRunWouldFail');
    expect(dryRun).toEqual([
      {
        type: 'Warning',
        reason: 'DryRunWouldFail',
        message: `revision ${REV2}: dry run, would have failed: thresholds: error rate 20.0% exceeds 5.0%`,
        dryRunChecks: ['thresholds'],
      },
    ]);
    expect(sim.status.verification?.dryRunFailures).toMatchObject([{ check: 'thresholds', count: 6 }]);
  });
});
