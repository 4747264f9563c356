/**
 * The statistics of the canary comparison, pure and small: the normal distribution's upper tail, a
 * one-sided two-proportion z-test and a one-sided Mann-Whitney U test on histogram buckets. Every
 * function returns a p-value in [0, 1]; input it cannot judge (empty, not finite) gives 1, "no evidence".
 */

/**
 * erfc(x), Numerical Recipes' Chebyshev fit (fractional error below 1.2e-7 everywhere): accurate in the
 * far tail too, where 1 - erf(x) would lose every digit.
 */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const value = t * Math.exp(poly);
  return x >= 0 ? value : 2 - value;
}

/** P(Z ≥ z) for a standard normal Z; 1 for NaN (no evidence). */
export function upperTail(z: number): number {
  if (Number.isNaN(z)) return 1;
  return Math.min(1, Math.max(0, 0.5 * erfc(z / Math.SQRT2)));
}

/**
 * One-sided two-proportion z-test with the pooled variance: the p-value of "the first proportion is
 * higher", e.g. the canary's 5xx share above the stable pods'. Both shares equal (including all 0 or all
 * 1) is no evidence: p = 1 when the pooled variance is 0.
 */
export function twoProportionPValue(
  successes1: number,
  trials1: number,
  successes2: number,
  trials2: number,
): number {
  if (!(trials1 > 0 && trials2 > 0)) return 1;
  const p1 = successes1 / trials1;
  const p2 = successes2 / trials2;
  const pooled = (successes1 + successes2) / (trials1 + trials2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / trials1 + 1 / trials2));
  if (!(se > 0)) return 1;
  return upperTail((p1 - p2) / se);
}

/** How many observations of each sample fall into one bucket (not cumulative); buckets in rising order. */
export interface BucketPair {
  first: number;
  second: number;
}

export interface RankTest {
  /** P(first > second) + P(tie)/2 over every pair: 0.5 when neither tends to be larger. */
  effect: number;
  pValue: number;
}

/**
 * One-sided Mann-Whitney U test of "the first sample tends to be larger", from counts per bucket. The
 * observations of one bucket are ties (the histogram cannot order them), so they share the mid-rank, and
 * the normal approximation uses the variance corrected for ties and a continuity correction of 1/2.
 */
export function mannWhitneyPValue(buckets: readonly BucketPair[]): RankTest {
  let n1 = 0;
  let n2 = 0;
  for (const b of buckets) {
    n1 += b.first;
    n2 += b.second;
  }
  if (!(n1 > 0 && n2 > 0)) return { effect: 0.5, pValue: 1 };
  // U of the first sample: pairs where it is larger, plus half the ties, bucket by bucket.
  let u = 0;
  let secondBelow = 0;
  let tieTerm = 0;
  for (const { first, second } of buckets) {
    u += first * (secondBelow + second / 2);
    secondBelow += second;
    const t = first + second;
    tieTerm += t * t * t - t;
  }
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const effect = u / (n1 * n2);
  if (!(variance > 0)) return { effect, pValue: 1 };
  const z = (u - mean - 0.5) / Math.sqrt(variance);
  return { effect, pValue: upperTail(z) };
}
