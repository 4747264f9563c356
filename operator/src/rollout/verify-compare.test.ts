// The canary judged against the stable pods in the verification step (verifyStep with `baseline`): both
// sides sampled each interval, the comparison in status, failure by the failureLimit rule with its own
// reason, fair probe traffic, dry runs; and nothing of it without stable pods.
import { describe, expect, it } from '@jest/globals';
import { resolveSpec } from '../crd/defaults.js';
import type { AnalysisSpec, HelloCounts, HelloSample, VerificationStatus } from '../crd/types.js';
import { measure } from '../verification/analysis.js';
import type { PodRef, ProbeOrder, Prober, SmokeResult, Verifier } from '../verification/types.js';
import { newVerification, verifyStep, type VerifyOutcome } from './verify.js';

const T0 = new Date('2026-03-01T12:00:00.000Z');
const canaryPods: PodRef[] = [{ namespace: 'ns', name: 'hello-canary-0', port: 8080 }];
const stablePods: PodRef[] = [
  { namespace: 'ns', name: 'hello-0', port: 8080 },
  { namespace: 'ns', name: 'hello-1', port: 8080 },
];

/** Per interval: requests, 5xx and the seconds every request took, for one side. */
interface Traffic {
  requests: number;
  errors: number;
  seconds: number;
}
const fast: Traffic = { requests: 50, errors: 0, seconds: 0.003 };
const slow: Traffic = { requests: 50, errors: 0, seconds: 0.4 };

class Recorder implements Prober {
  readonly orders: { key: string; order: ProbeOrder | undefined }[] = [];
  set(key: string, order: ProbeOrder | undefined): void {
    this.orders.push({ key, order });
  }
  takeAnswered(): number {
    return 0;
  }
}

/** Cumulative counters of each side's pods, moved on by `interval()`; sampling reads them. */
class TwoSides implements Verifier {
  readonly prober = new Recorder();
  readonly sampled: string[][] = [];
  stableError: Error | undefined;
  smokeResult: SmokeResult = { passed: true, message: 'checks passed' };
  private readonly totals = new Map<string, HelloCounts>();

  constructor(
    public canary: Traffic,
    public stable: Traffic,
  ) {}

  interval(): void {
    for (const [pods, t] of [
      [canaryPods, this.canary],
      [stablePods, this.stable],
    ] as const) {
      for (const pod of pods) {
        const before = this.totals.get(pod.name) ?? { requests: 0, errors: 0, buckets: [] };
        const bounds = [0.001, 0.004, 0.01, 0.1, 0.5, 1, Infinity];
        const was = (le: number): number => before.buckets.find((b) => b.le === le)?.count ?? 0;
        this.totals.set(pod.name, {
          requests: before.requests + t.requests,
          errors: before.errors + t.errors,
          buckets: bounds.map((le) => ({ le, count: was(le) + (t.seconds <= le ? t.requests : 0) })),
        });
      }
    }
  }

  smoke(): Promise<SmokeResult> {
    return Promise.resolve(this.smokeResult);
  }

  sample(pods: PodRef[]): Promise<HelloSample> {
    this.sampled.push(pods.map((p) => p.name));
    if (pods === stablePods && this.stableError) return Promise.reject(this.stableError);
    const perPod = Object.fromEntries(
      pods.map((p) => [p.name, this.totals.get(p.name) ?? { requests: 0, errors: 0, buckets: [] }]),
    );
    const all = Object.values(perPod);
    return Promise.resolve({
      requests: all.reduce((n, c) => n + c.requests, 0),
      errors: all.reduce((n, c) => n + c.errors, 0),
      buckets: [],
      pods: Object.fromEntries(Object.entries(perPod).map(([name, c]) => [name, c.requests])),
      perPod,
    });
  }
}

const thresholdsOff: AnalysisSpec = {
  thresholds: { enabled: false },
  windowSeconds: 30,
  intervalSeconds: 10,
};

/** Runs verification from the start to its end (or `max` steps), one interval of traffic per step. */
async function verify(
  verifier: TwoSides,
  analysis: AnalysisSpec,
  options: { baseline?: PodRef[] | null; smokeChecks?: boolean } = {},
): Promise<{ outcomes: VerifyOutcome[]; v: VerificationStatus }> {
  const spec = resolveSpec({
    image: 'hello:2',
    rollout: { verification: { smoke: { enabled: options.smokeChecks ?? false }, analysis } },
  });
  let v = newVerification('rev2', T0);
  const outcomes: VerifyOutcome[] = [];
  const baseline = options.baseline === null ? undefined : (options.baseline ?? stablePods);
  for (let i = 0; i < 10; i++) {
    const now = new Date(T0.getTime() + i * 10_000);
    const outcome = await verifyStep({
      verification: v,
      spec,
      pods: canaryPods,
      ...(baseline !== undefined && { baseline }),
      verifier,
      measure,
      now,
    });
    outcomes.push(outcome);
    v = outcome.verification;
    if (outcome.kind !== 'waiting') break;
    verifier.interval();
  }
  return { outcomes, v };
}

describe('verifyStep with stable pods to compare with', () => {
  it('fails a slower canary on the comparison alone (thresholds off), with the numbers in status', async () => {
    const verifier = new TwoSides(slow, fast);
    const { outcomes, v } = await verify(verifier, thresholdsOff);
    const last = outcomes.at(-1)!;
    expect(last.kind).toBe('failed');
    expect(last).toMatchObject({ reason: 'CanaryWorseThanStable' });
    if (last.kind === 'failed') {
      expect(last.message).toMatch(
        /^2 consecutive failed measurements \(failureLimit 2\); last: analysis measurement 2: thresholds off; 50 \/hello requests; comparison: Fail: canary worse than stable: 5xx 0\.0% \(0 of 50\) vs 0\.0% \(0 of 100\), p=1\.0000; p99 \d+ ms vs \d\.\d ms, median \d+ ms vs \d\.\d ms, p=<0\.0001 < 0\.0050, beyond the margin of 20% and 10 ms/,
      );
    }
    expect(v.comparison).toMatchObject({
      result: 'Fail',
      counted: 'Fail',
      canary: { requests: 50, errorRate: 0 },
      stable: { requests: 100, errorRate: 0 },
    });
    expect(v.comparison?.canary.p99Ms).toBeGreaterThan(100);
    expect(v.comparison?.stable.p99Ms).toBeLessThan(10);
    expect(v.lastBaselineSample?.pods).toEqual({ 'hello-0': 100, 'hello-1': 100 });
    // Each measurement sampled both sides.
    expect(verifier.sampled).toEqual([
      ['hello-canary-0'],
      ['hello-0', 'hello-1'],
      ['hello-canary-0'],
      ['hello-0', 'hello-1'],
      ['hello-canary-0'],
      ['hello-0', 'hello-1'],
    ]);
  });

  it('passes a canary like the stable pods, showing the last comparison', async () => {
    const { outcomes, v } = await verify(new TwoSides(fast, fast), thresholdsOff);
    expect(outcomes.at(-1)?.kind).toBe('passed');
    expect(v.comparison).toMatchObject({ result: 'Pass', counted: 'Pass' });
    expect(v.comparison?.message).toMatch(/^canary not worse than stable \(confidence 99\.0%\)/);
  });

  it('still fails on the thresholds with the reason AnalysisFailed', async () => {
    const { outcomes } = await verify(new TwoSides(slow, slow), { windowSeconds: 30, maxP99LatencyMs: 100 });
    expect(outcomes.at(-1)).toMatchObject({ kind: 'failed', reason: 'AnalysisFailed' });
  });

  it('counts too little traffic as comparison.noData says', async () => {
    const thin = { ...fast, requests: 5 };
    const passed = await verify(new TwoSides(thin, thin), thresholdsOff);
    expect(passed.outcomes.at(-1)?.kind).toBe('passed');
    expect(passed.v.comparison).toMatchObject({ result: 'NoData', counted: 'Pass' });
    const failed = await verify(new TwoSides(thin, thin), {
      ...thresholdsOff,
      comparison: { noData: 'Fail' },
    });
    expect(failed.outcomes.at(-1)).toMatchObject({ kind: 'failed', reason: 'CanaryWorseThanStable' });
    expect(failed.v.lastMessage).toContain(
      'not enough traffic to compare: canary 5, stable 10 /hello requests (at least 20 each needed) (counted as a failure: comparison noData is Fail)',
    );
  });

  it('does not blame the canary when the stable pods cannot be read', async () => {
    const verifier = new TwoSides(fast, fast);
    verifier.stableError = new Error('pod ns/hello-0 did not answer /metrics');
    const { outcomes, v } = await verify(verifier, thresholdsOff);
    expect(outcomes.at(-1)?.kind).toBe('passed');
    expect(v.comparison?.message).toBe(
      "could not read the stable pods' metrics: pod ns/hello-0 did not answer /metrics",
    );
  });

  it('probes both sides at the same rate, and stops both at the verdict', async () => {
    const verifier = new TwoSides(slow, fast);
    await verify(verifier, thresholdsOff);
    const first = verifier.prober.orders.slice(0, 2);
    expect(first.map((o) => o.key)).toEqual(['ns/rev2', 'ns/rev2/stable']);
    expect(first[0]?.order).toMatchObject({ pods: canaryPods, ratePerSecond: 2 });
    expect(first[1]?.order).toMatchObject({ pods: stablePods, ratePerSecond: 2 });
    expect(verifier.prober.orders.slice(-2)).toEqual([
      { key: 'ns/rev2', order: undefined },
      { key: 'ns/rev2/stable', order: undefined },
    ]);
  });

  it('without stable pods, samples and probes the canary only and keeps no comparison', async () => {
    const verifier = new TwoSides(slow, fast);
    const { outcomes, v } = await verify(verifier, { windowSeconds: 30 }, { baseline: null });
    expect(outcomes.at(-1)?.kind).toBe('passed');
    expect(verifier.sampled.flat()).not.toContain('hello-0');
    expect(verifier.prober.orders.map((o) => o.key)).not.toContain('ns/rev2/stable');
    expect(v.comparison).toBeUndefined();
    expect(v.lastBaselineSample).toBeUndefined();
  });

  it('with comparison.enabled false, ignores the stable pods', async () => {
    const verifier = new TwoSides(slow, fast);
    const { outcomes } = await verify(verifier, { windowSeconds: 30, comparison: { enabled: false } });
    expect(outcomes.at(-1)?.kind).toBe('passed');
    expect(verifier.sampled.flat()).not.toContain('hello-0');
  });
});

describe('dry runs', () => {
  it('a dry-run comparison reports that it would have failed, once, and the canary passes', async () => {
    const { outcomes, v } = await verify(new TwoSides(slow, fast), {
      ...thresholdsOff,
      comparison: { dryRun: true },
    });
    expect(outcomes.at(-1)?.kind).toBe('passed');
    expect(v.comparison).toMatchObject({ result: 'Fail', counted: 'Pass', dryRun: true });
    expect(v.lastMessage).toContain('(dry run: would have failed, not counted)');
    const hits = outcomes.flatMap((o) => o.dryRun);
    expect(hits.map((h) => [h.check, h.first])).toEqual([
      ['comparison', true],
      ['comparison', false],
      ['comparison', false],
    ]);
    expect(v.dryRunFailures).toEqual([
      {
        check: 'comparison',
        firstAt: '2026-03-01T12:00:10.000Z',
        count: 3,
        message: expect.stringMatching(/^canary worse than stable/) as unknown as string,
      },
    ]);
  });

  it('dry-run thresholds measure and report, and never fail', async () => {
    const { outcomes, v } = await verify(
      new TwoSides(slow, slow),
      { windowSeconds: 30, maxP99LatencyMs: 100, thresholds: { dryRun: true } },
      { baseline: null },
    );
    expect(outcomes.at(-1)?.kind).toBe('passed');
    expect(v.dryRunFailures?.[0]).toMatchObject({ check: 'thresholds', count: 3 });
    expect(v.dryRunFailures?.[0]?.message).toMatch(/^p99 \d+ ms exceeds 100 ms$/);
  });

  it('a smoke run that passed with failed dry-run checks records them', async () => {
    const verifier = new TwoSides(fast, fast);
    verifier.smokeResult = {
      passed: true,
      message: 'smoke checks passed on 1 pod: a, b; dry run, would have failed: b',
      dryRunFailures: ['smoke check "b" failed'],
    };
    const { outcomes, v } = await verify(verifier, { windowSeconds: 30 }, { smokeChecks: true });
    expect(outcomes[0]?.dryRun).toEqual([{ check: 'smoke', message: 'smoke check "b" failed', first: true }]);
    expect(outcomes.at(-1)?.kind).toBe('passed');
    expect(v.dryRunFailures).toMatchObject([{ check: 'smoke', count: 1 }]);
  });
});
