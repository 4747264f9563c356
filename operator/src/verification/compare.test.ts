// The canary comparison on known distributions (seeded, reproducible): a worse canary fails, an identical
// one passes at the promised rate, thin traffic is NoData, and hostile counts never throw nor fail.
import { describe, expect, it } from '@jest/globals';
import { resolveSpec } from '../crd/defaults.js';
import type { HelloCounts } from '../crd/types.js';
import { API_DURATION_BUCKETS } from './analysis.js';
import { compare, type ComparisonPolicy } from './compare.js';
import { mannWhitneyPValue, twoProportionPValue, upperTail } from './stats.js';

const policy: ComparisonPolicy = resolveSpec({ image: 'hello:1' }).rollout.verification.analysis.comparison;
const BOUNDS = [...API_DURATION_BUCKETS, Infinity];

/** mulberry32: a small seeded PRNG, so every run of the suite sees the same traffic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Traffic {
  requests: number;
  errorRate: number;
  /** Seconds of one request, from a uniform random number. */
  latency: (u: number) => number;
}

/** Log-normal-ish latency around `medianMs`, as a healthy API shows: most fast, a tail. */
const healthy =
  (medianMs: number) =>
  (u: number): number =>
    (medianMs / 1000) * Math.exp(1.2 * (u - 0.5) + (u > 0.98 ? 2 : 0));

function counts(random: () => number, traffic: Traffic): HelloCounts {
  const seconds = Array.from({ length: traffic.requests }, () => traffic.latency(random()));
  const errors = seconds.filter(() => random() < traffic.errorRate).length;
  return {
    requests: traffic.requests,
    errors,
    buckets: BOUNDS.map((le) => ({ le, count: seconds.filter((s) => s <= le).length })),
  };
}

/** Counts with cumulative buckets given as [le, count] pairs. */
function histogram(requests: number, errors: number, ...buckets: [number, number][]): HelloCounts {
  return { requests, errors, buckets: buckets.map(([le, count]) => ({ le, count })) };
}

describe('compare: clearly worse canaries fail', () => {
  it('fails a canary with 30% 5xx against a clean stable, with the numbers', () => {
    const random = prng(1);
    const canary = counts(random, { requests: 40, errorRate: 0.3, latency: healthy(3) });
    const stable = counts(random, { requests: 40, errorRate: 0, latency: healthy(3) });
    const c = compare(canary, stable, policy);
    expect(c.result).toBe('Fail');
    expect(c.message).toMatch(
      /^canary worse than stable: 5xx \d+\.\d% \(\d+ of 40\) vs 0\.0% \(0 of 40\), p=/,
    );
    expect(c.message).toContain('beyond the margin of 2.0% points');
    expect(c.errorRatePValue).toBeLessThan(0.005);
    expect(c.canary.requests).toBe(40);
    expect(c.stable.errorRate).toBe(0);
  });

  it('fails a canary that adds 900 ms to every request, from 20 requests a side (the probe rate)', () => {
    const random = prng(2);
    const canary = counts(random, { requests: 20, errorRate: 0, latency: (u) => healthy(3)(u) + 0.9 });
    const stable = counts(random, { requests: 20, errorRate: 0, latency: healthy(3) });
    const c = compare(canary, stable, policy);
    expect(c.result).toBe('Fail');
    expect(c.message).toMatch(
      /p99 \d+ ms vs \d+(\.\d)? ms, median \d+ ms vs \d\.\d ms, p=<0\.0001 < 0\.0050/,
    );
    expect(c.latencyPValue).toBeLessThan(1e-4);
    expect(c.canary.p99Ms).toBeGreaterThan(900);
  });

  it('fails a canary twice as slow over the whole distribution', () => {
    const random = prng(3);
    const canary = counts(random, { requests: 200, errorRate: 0, latency: healthy(20) });
    const stable = counts(random, { requests: 200, errorRate: 0, latency: healthy(10) });
    expect(compare(canary, stable, policy).result).toBe('Fail');
  });
});

describe('compare: identical canary and stable pass', () => {
  // Each verdict may fail an identical canary at most 1 - confidence = 1% of the time; measured 0.1% to
  // 0.7% over 4000 seeds for these shapes. 2000 runs keep the check's own noise well inside the 1%.
  const RUNS = 2000;
  it.each([
    { requests: 20, errorRate: 0.01 },
    { requests: 100, errorRate: 0.05 },
    { requests: 2000, errorRate: 0.02 },
  ])('passes in at least 99% of 2000 seeded runs ($requests requests a side, $errorRate 5xx)', (t) => {
    let failures = 0;
    for (let seed = 0; seed < RUNS; seed++) {
      const random = prng(1000 + seed);
      const traffic = { ...t, latency: healthy(5) };
      if (compare(counts(random, traffic), counts(random, traffic), policy).result === 'Fail') failures += 1;
    }
    expect(failures / RUNS).toBeLessThanOrEqual(0.01);
  });

  it('passes a tiny but significant difference on huge traffic (the margins)', () => {
    const M = 1_000_000;
    const stable = histogram(M, 1000, [0.004, 500_000], [0.006, 990_000], [0.008, M], [Infinity, M]);
    // 0.2% 5xx instead of 0.1%, and somewhat more requests in the slower bucket: both significant.
    const canary = histogram(M, 2000, [0.004, 480_000], [0.006, 990_000], [0.008, M], [Infinity, M]);
    const c = compare(canary, stable, policy);
    expect(c.errorRatePValue).toBeLessThan(1e-4);
    expect(c.latencyPValue).toBeLessThan(1e-4);
    expect(c.result).toBe('Pass');
    expect(c.message).toContain('but within the margin of 2.0% points');
    expect(c.message).toContain('but within the margin of 20% and 10 ms');
  });
});

describe('compare: not enough traffic', () => {
  it('is NoData when either side has fewer than minRequests, saying how many', () => {
    const random = prng(4);
    const few = counts(random, { requests: 19, errorRate: 1, latency: () => 2 });
    const many = counts(random, { requests: 500, errorRate: 0, latency: healthy(3) });
    expect(compare(few, many, policy)).toMatchObject({
      result: 'NoData',
      message:
        'not enough traffic to compare: canary 19, stable 500 /hello requests (at least 20 each needed)',
    });
    expect(compare(many, few, policy).result).toBe('NoData');
    expect(compare(few, many, { ...policy, minRequests: 10 }).result).toBe('Fail');
  });
});

describe('compare: hostile counts', () => {
  const good = counts(prng(5), { requests: 100, errorRate: 0, latency: healthy(3) });
  const hostile: [string, HelloCounts][] = [
    ['NaN requests', { ...good, requests: NaN }],
    ['negative errors', { ...good, errors: -5 }],
    ['more errors than requests', { ...good, errors: 101 }],
    ['huge counts', { requests: 1e300, errors: 1e300, buckets: [{ le: Infinity, count: 1e300 }] }],
    ['Infinity', { ...good, requests: Infinity }],
    ['a string', { ...good, requests: '100' as unknown as number }],
    ['no buckets field', { requests: 100, errors: 0 } as HelloCounts],
    ['NaN bucket', { ...good, buckets: [{ le: 0.1, count: NaN }] }],
    ['negative bucket', { ...good, buckets: [{ le: 0.1, count: -1 }] }],
    ['null entries', { ...good, buckets: [null, 3] as unknown as HelloCounts['buckets'] }],
  ];
  it.each(hostile)('never throws and never fails on %s', (_what, bad) => {
    for (const [canary, stable] of [
      [bad, good],
      [good, bad],
      [bad, bad],
    ] as const) {
      expect(() => compare(canary, stable, policy)).not.toThrow();
      expect(compare(canary, stable, policy).result).not.toBe('Fail');
    }
  });

  it('reads buckets in any order and with null (+Inf) bounds as the sorted histogram', () => {
    const random = prng(6);
    const canary = counts(random, { requests: 50, errorRate: 0, latency: () => 0.9 });
    const stable = counts(random, { requests: 50, errorRate: 0, latency: healthy(3) });
    const shuffled = {
      ...canary,
      buckets: [...canary.buckets]
        .reverse()
        .map((b) => (b.le === Infinity ? { le: null as unknown as number, count: b.count } : b)),
    };
    expect(compare(shuffled, stable, policy)).toEqual(compare(canary, stable, policy));
    expect(compare(shuffled, stable, policy).result).toBe('Fail');
  });

  it('compares different bucket layouts on the bounds they share', () => {
    const stable = histogram(100, 0, [0.005, 100], [0.01, 100], [Infinity, 100]);
    const canary = histogram(100, 0, [0.004, 0], [0.01, 0], [1, 100], [Infinity, 100]);
    expect(compare(canary, stable, policy).result).toBe('Fail');
  });
});

describe('stats', () => {
  it('upperTail matches the standard normal', () => {
    expect(upperTail(0)).toBeCloseTo(0.5, 6);
    expect(upperTail(1.6448536)).toBeCloseTo(0.05, 6);
    expect(upperTail(2.5758293)).toBeCloseTo(0.005, 6);
    expect(upperTail(-1.959964)).toBeCloseTo(0.975, 6);
    expect(upperTail(NaN)).toBe(1);
  });

  it('twoProportionPValue: textbook value, and no evidence without variance', () => {
    // 30/100 vs 20/100: pooled 0.25, z = 0.1 / sqrt(0.25·0.75·0.02) = 1.633
    expect(twoProportionPValue(30, 100, 20, 100)).toBeCloseTo(upperTail(1.63299), 6);
    expect(twoProportionPValue(0, 100, 0, 100)).toBe(1);
    expect(twoProportionPValue(5, 0, 0, 10)).toBe(1);
  });

  it('mannWhitneyPValue: every canary above every stable observation, with ties corrected', () => {
    // 3 canary in bucket 2, 3 stable in bucket 1: U = 9, mean 4.5, tie-corrected variance 27/12 - ...
    const { effect, pValue } = mannWhitneyPValue([
      { first: 0, second: 3 },
      { first: 3, second: 0 },
    ]);
    expect(effect).toBe(1);
    const variance = (9 / 12) * (7 - (24 + 24) / 30);
    expect(pValue).toBeCloseTo(upperTail((9 - 4.5 - 0.5) / Math.sqrt(variance)), 10);
    expect(mannWhitneyPValue([{ first: 5, second: 5 }]).pValue).toBe(1);
  });
});
