// Properties of the analysis over random traffic: the p99 estimate lies in the bucket of the true p99, and
// a delta of cumulative samples is exactly the traffic in between, restarts or not.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { resolveSpec } from '../crd/defaults.js';
import type { HelloCounts, HelloSample } from '../crd/types.js';
import { deltaCounts, histogramQuantile, measure, sumSamples } from './analysis.js';

const BOUNDS = [
  0.0005,
  0.001,
  0.002,
  0.004,
  0.006,
  0.008,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  Infinity,
];
const policy = resolveSpec({ image: 'hello:1' }).rollout.verification.analysis;

interface Request {
  seconds: number;
  error: boolean;
}

const requests = (max: number): fc.Arbitrary<Request[]> =>
  fc.array(fc.record({ seconds: fc.double({ min: 0, max: 5, noNaN: true }), error: fc.boolean() }), {
    maxLength: max,
  });

function counts(traffic: readonly Request[]): HelloCounts {
  return {
    requests: traffic.length,
    errors: traffic.filter((r) => r.error).length,
    buckets: BOUNDS.map((le) => ({ le, count: traffic.filter((r) => r.seconds <= le).length })),
  };
}

function sample(pods: Record<string, readonly Request[]>): HelloSample {
  return sumSamples(
    Object.entries(pods).map(([pod, traffic]) => {
      const c = counts(traffic);
      return { ...c, pods: { [pod]: c.requests }, perPod: { [pod]: c } };
    }),
  );
}

describe('histogramQuantile', () => {
  it('estimates p99 within the bucket that holds the true p99', () => {
    fc.assert(
      fc.property(requests(300), (traffic) => {
        fc.pre(traffic.length > 0);
        const estimate = histogramQuantile(0.99, counts(traffic).buckets);
        const sorted = traffic.map((r) => r.seconds).sort((a, b) => a - b);
        const truth = sorted[Math.ceil(0.99 * sorted.length) - 1] ?? 0;
        const upper = BOUNDS.find((le) => truth <= le) ?? Infinity;
        const lower = [0, ...BOUNDS].filter((le) => le < upper).at(-1) ?? 0;
        expect(estimate).toBeDefined();
        if (upper === Infinity) {
          expect(estimate).toEqual({ seconds: 2.5, aboveRange: true });
        } else {
          expect(estimate?.aboveRange).toBe(false);
          expect(estimate?.seconds).toBeGreaterThanOrEqual(lower - 1e-12);
          expect(estimate?.seconds).toBeLessThanOrEqual(upper + 1e-12);
        }
      }),
    );
  });
});

function wentDown(before: HelloCounts, after: HelloCounts): boolean {
  return (
    after.requests < before.requests ||
    after.errors < before.errors ||
    before.buckets.some((bucket, i) => (after.buckets[i]?.count ?? 0) < bucket.count)
  );
}

describe('deltaCounts', () => {
  it('is exactly the traffic between two samples, counting restarted and new pods from zero', () => {
    fc.assert(
      fc.property(
        requests(60),
        requests(60),
        requests(60),
        requests(60),
        fc.boolean(),
        (aBefore, aAfter, bAfter, cBefore, aRestarted) => {
          // Pod a: restarted (only its new traffic remains) or not; pod b: new; pod c: gone.
          const prev = sample({ a: aBefore, c: cBefore });
          const cur = sample({ a: aRestarted ? aAfter : [...aBefore, ...aAfter], b: bAfter });
          const delta = deltaCounts(prev, cur);
          // A restart shows only where a counter went down; otherwise it reads as more traffic.
          if (!aRestarted || wentDown(counts(aBefore), counts(aAfter))) {
            expect(delta).toEqual(counts([...aAfter, ...bAfter]));
          }
          const m = measure(prev, cur, policy);
          expect(m.result === 'NoData').toBe(delta.requests === 0);
          if (m.result !== 'NoData') expect(m.requests).toBe(delta.requests);
        },
      ),
    );
  });
});
