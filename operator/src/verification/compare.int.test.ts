// The canary judged against the stable pods through the real API server's pod proxy (the test cluster) to
// real API processes of this repo on a real redis-server, with no user traffic: the operator's probes go
// to both sides at the same rate, and verifyStep compares them with the fixed thresholds switched off. A
// canary that adds 200 ms to every request fails as CanaryWorseThanStable; an equal one passes; as a dry
// run, the slow one passes and is reported as "would have failed".
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { startApiPods, type ApiPods } from '../../../test/support/api-pods.js';
import { resolveSpec } from '../crd/defaults.js';
import type { AnalysisSpec } from '../crd/types.js';
import { newVerification, verifyStep, type VerifyOutcome } from '../rollout/verify.js';
import { measure } from './analysis.js';
import { PROBE_LIMITS } from './probe-schedule.js';
import { createProber, type RunningProber } from './prober.js';
import type { PodRef } from './types.js';
import { createVerifier } from './verifier.js';

jest.setTimeout(180_000);

let pods: ApiPods | undefined;
const probers: RunningProber[] = [];
const apiPod = (name: string, env?: Record<string, string>): Promise<PodRef> => pods!.apiPod(name, env);

beforeAll(async () => {
  pods = await startApiPods('compare');
});

afterAll(async () => {
  for (const prober of probers) prober.close();
  await pods?.cleanup();
});

/**
 * Short intervals, probes at 5/s to each side (the test's prober lifts the per-namespace cap, as both
 * sides share this namespace), and 10 requests a side to compare.
 */
const analysis = (extra: AnalysisSpec = {}): AnalysisSpec => ({
  windowSeconds: 12,
  intervalSeconds: 4,
  thresholds: { enabled: false },
  probe: { ratePerSecond: 5 },
  ...extra,
  comparison: { minRequests: 10, ...extra.comparison },
});

/** verifyStep on the real clock, from the start to its verdict, as the reconciler would call it. */
async function verifyAgainstStable(
  canary: PodRef,
  stable: PodRef,
  spec: AnalysisSpec,
): Promise<VerifyOutcome> {
  const prober = createProber(pods!.proxy, { limits: { ...PROBE_LIMITS, maxPerSecondPerNamespace: 50 } });
  probers.push(prober);
  const verifier = { ...createVerifier(pods!.proxy), prober };
  const resolved = resolveSpec({
    image: 'hello:2',
    rollout: { verification: { smoke: { enabled: false }, analysis: spec } },
  });
  let verification = newVerification(`rev-${canary.name}`, new Date());
  for (let step = 0; step < 60; step++) {
    const outcome = await verifyStep({
      verification,
      spec: resolved,
      pods: [canary],
      baseline: [stable],
      verifier,
      measure,
      now: new Date(),
    });
    if (outcome.kind !== 'waiting') return outcome;
    verification = outcome.verification;
    await sleep(Math.min(Math.max(outcome.requeueAfterMs, 100), 5000));
  }
  throw new Error('verification did not end within 60 steps');
}

describe('the canary compared with the stable pods through the API server proxy', () => {
  it('fails a canary that adds 200 ms to every request, with the fixed thresholds off', async () => {
    const [canary, stable] = await Promise.all([
      apiPod('slow-canary', { CHAOS_LATENCY_MS: '200' }),
      apiPod('stable-a'),
    ]);
    const outcome = await verifyAgainstStable(canary, stable, analysis());
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'CanaryWorseThanStable' });
    const comparison = outcome.verification.comparison;
    expect(comparison).toMatchObject({ result: 'Fail', counted: 'Fail' });
    expect(comparison?.canary.p99Ms).toBeGreaterThan(200);
    expect(comparison?.stable.p99Ms).toBeLessThan(100);
    expect(comparison?.canary.requests).toBeGreaterThanOrEqual(10);
    expect(comparison?.stable.requests).toBeGreaterThanOrEqual(10);
    expect(comparison?.message).toMatch(/^canary worse than stable: .*beyond the margin of 20% and 10 ms/);
  });

  it('passes a canary as fast as the stable pods', async () => {
    const [canary, stable] = await Promise.all([apiPod('equal-canary'), apiPod('stable-b')]);
    const outcome = await verifyAgainstStable(canary, stable, analysis());
    expect(outcome.kind).toBe('passed');
    expect(outcome.verification.comparison).toMatchObject({ result: 'Pass', counted: 'Pass' });
    expect(outcome.verification.comparison?.canary.requests).toBeGreaterThanOrEqual(10);
  });

  it('as a dry run, passes the slow canary and reports that the comparison would have failed', async () => {
    const [canary, stable] = await Promise.all([
      apiPod('slow-canary-dry', { CHAOS_LATENCY_MS: '200' }),
      apiPod('stable-c'),
    ]);
    const outcome = await verifyAgainstStable(canary, stable, analysis({ comparison: { dryRun: true } }));
    expect(outcome.kind).toBe('passed');
    expect(outcome.verification.comparison).toMatchObject({ result: 'Fail', counted: 'Pass', dryRun: true });
    expect(outcome.verification.dryRunFailures).toMatchObject([{ check: 'comparison' }]);
    expect(outcome.verification.dryRunFailures?.[0]?.message).toMatch(/^canary worse than stable/);
  });
});
