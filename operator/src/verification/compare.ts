/**
 * The canary judged against the stable pods: both sides' /hello traffic over the same interval (deltas of
 * their samples), compared with a one-sided two-proportion test on the 5xx share and a one-sided
 * Mann-Whitney U test on the latency histogram. A difference fails only when it is both significant and
 * larger than a margin, so a tiny difference on huge traffic passes. Pure; hostile counts never throw and
 * never fail the canary: they make the comparison NoData.
 */
import type { ComparisonSide, HelloCounts } from '../crd/types.js';
import type { ResolvedSpec } from '../crd/defaults.js';
import { histogramQuantile } from './analysis.js';
import { mannWhitneyPValue, twoProportionPValue, type BucketPair } from './stats.js';
import type { MeasurementResult } from './types.js';

export type ComparisonPolicy = ResolvedSpec['rollout']['verification']['analysis']['comparison'];

/** More /hello requests than this in one interval is not a real count: the side is not judged. */
export const MAX_PLAUSIBLE_COUNT = 1e12;

export interface Comparison {
  result: MeasurementResult;
  /** What was compared and why the result: the numbers and p-values, in words. */
  message: string;
  canary: ComparisonSide;
  stable: ComparisonSide;
  errorRatePValue?: number;
  latencyPValue?: number;
}

interface Side {
  requests: number;
  errors: number;
  /** Cumulative counts by bound, rising, +Inf last; undefined when the histogram is unusable. */
  cumulative?: Map<number, number>;
}

/** Compares the canary's interval with the stable pods' interval under the policy. */
export function compare(
  canaryCounts: HelloCounts,
  stableCounts: HelloCounts,
  policy: ComparisonPolicy,
): Comparison {
  const canary = readSide(canaryCounts);
  const stable = readSide(stableCounts);
  const figures = { canary: sideFigures(canary), stable: sideFigures(stable) };
  if (typeof canary === 'string') {
    return { result: 'NoData', message: `cannot compare: the canary's counts ${canary}`, ...figures };
  }
  if (typeof stable === 'string') {
    return { result: 'NoData', message: `cannot compare: the stable pods' counts ${stable}`, ...figures };
  }
  if (canary.requests < policy.minRequests || stable.requests < policy.minRequests) {
    return {
      result: 'NoData',
      message: `not enough traffic to compare: canary ${canary.requests}, stable ${stable.requests} /hello requests (at least ${policy.minRequests} each needed)`,
      ...figures,
    };
  }
  // Two tests, one verdict: each gets half the error budget, so an identical canary fails at most
  // (1 - confidence) of the time (Bonferroni).
  const alpha = (1 - policy.confidence) / 2;
  const errors = judgeErrors(canary, stable, policy, alpha);
  const latency = judgeLatency(canary, stable, figures, policy, alpha);
  const failed = [errors, latency].filter((part) => part.failed);
  const parts = [errors.text, latency.text].join('; ');
  const pValues = {
    errorRatePValue: errors.pValue,
    ...(latency.pValue !== undefined && { latencyPValue: latency.pValue }),
  };
  if (failed.length > 0) {
    return { result: 'Fail', message: `canary worse than stable: ${parts}`, ...figures, ...pValues };
  }
  return {
    result: 'Pass',
    message: `canary not worse than stable (confidence ${percent(policy.confidence)}): ${parts}`,
    ...figures,
    ...pValues,
  };
}

interface Part {
  failed: boolean;
  text: string;
  pValue?: number;
}

function judgeErrors(canary: Side, stable: Side, policy: ComparisonPolicy, alpha: number): Part {
  const pValue = twoProportionPValue(canary.errors, canary.requests, stable.errors, stable.requests);
  const increase = canary.errors / canary.requests - stable.errors / stable.requests;
  const significant = pValue < alpha;
  const large = increase > policy.errorRateMargin;
  const text =
    `5xx ${percent(canary.errors / canary.requests)} (${canary.errors} of ${canary.requests}) vs ` +
    `${percent(stable.errors / stable.requests)} (${stable.errors} of ${stable.requests}), ` +
    `p=${pText(pValue)}${verdictNote(significant, large, alpha, `${percent(policy.errorRateMargin)} points`)}`;
  return { failed: significant && large, text, pValue };
}

function judgeLatency(
  canary: Side,
  stable: Side,
  figures: { canary: ComparisonSide; stable: ComparisonSide },
  policy: ComparisonPolicy,
  alpha: number,
): Part {
  const pairs = alignBuckets(canary.cumulative, stable.cumulative);
  if (pairs === undefined)
    return { failed: false, text: 'latency not compared (no usable histogram on both sides)' };
  const { pValue } = mannWhitneyPValue(pairs);
  const significant = pValue < alpha;
  const over = (c: number | undefined, s: number | undefined): boolean =>
    c !== undefined &&
    s !== undefined &&
    c - s > policy.latencyMarginMs &&
    c > s * (1 + policy.latencyMarginPercent / 100);
  const large =
    over(figures.canary.p99Ms, figures.stable.p99Ms) ||
    over(figures.canary.medianMs, figures.stable.medianMs);
  const text =
    `p99 ${ms(figures.canary.p99Ms)} vs ${ms(figures.stable.p99Ms)}, median ${ms(figures.canary.medianMs)} vs ` +
    `${ms(figures.stable.medianMs)}, p=${pText(pValue)}` +
    verdictNote(
      significant,
      large,
      alpha,
      `${policy.latencyMarginPercent}% and ${policy.latencyMarginMs} ms`,
    );
  return { failed: significant && large, text, pValue };
}

/** Why a part passed or failed, when the p-value alone does not say it. */
function verdictNote(significant: boolean, large: boolean, alpha: number, margin: string): string {
  if (significant && large) return ` < ${pText(alpha)}, beyond the margin of ${margin}`;
  if (significant) return ` < ${pText(alpha)} but within the margin of ${margin}`;
  return '';
}

/** A side's counts as numbers that can be judged, or why not. */
function readSide(counts: HelloCounts): Side | string {
  const { requests, errors } = counts as Partial<HelloCounts>;
  if (!isCount(requests) || !isCount(errors)) {
    return `are not valid (requests ${String(requests)}, errors ${String(errors)})`;
  }
  if (errors > requests) return `are not valid (${errors} errors of ${requests} requests)`;
  return { requests, errors, ...(readHistogram(counts.buckets) ?? {}) };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_PLAUSIBLE_COUNT;
}

/**
 * Cumulative counts by bound, in rising order whatever order they came in; a bound stored as null (JSON
 * has no Infinity) is +Inf. Counts that fall from one bound to the next are raised (a racy scrape), as
 * histogramQuantile does. Any count that is not a count makes the histogram unusable.
 */
function readHistogram(buckets: unknown): { cumulative: Map<number, number> } | undefined {
  if (!Array.isArray(buckets) || buckets.length === 0) return undefined;
  const byBound = new Map<number, number>();
  for (const bucket of buckets as unknown[]) {
    const { le, count } = (bucket ?? {}) as { le?: unknown; count?: unknown };
    if (!isCount(count)) return undefined;
    const bound = typeof le === 'number' && !Number.isNaN(le) ? le : Infinity;
    byBound.set(bound, (byBound.get(bound) ?? 0) + count);
  }
  let runningMax = 0;
  const cumulative = new Map<number, number>();
  for (const bound of [...byBound.keys()].sort((a, b) => a - b)) {
    runningMax = Math.max(runningMax, byBound.get(bound) ?? 0);
    cumulative.set(bound, runningMax);
  }
  return { cumulative };
}

/**
 * Per-bucket counts of both sides over the bounds they share (a build with other bounds is compared on
 * the coarser common ones), +Inf last holding what lies above the highest shared bound.
 */
export function alignBuckets(
  canary: Map<number, number> | undefined,
  stable: Map<number, number> | undefined,
): BucketPair[] | undefined {
  if (canary === undefined || stable === undefined) return undefined;
  const shared = [...canary.keys()].filter((le) => le !== Infinity && stable.has(le)).sort((a, b) => a - b);
  const total = (side: Map<number, number>): number => Math.max(0, ...side.values());
  const pairs: BucketPair[] = [];
  let below = { first: 0, second: 0 };
  for (const le of [...shared, Infinity]) {
    const first = le === Infinity ? total(canary) : (canary.get(le) ?? 0);
    const second = le === Infinity ? total(stable) : (stable.get(le) ?? 0);
    pairs.push({ first: first - below.first, second: second - below.second });
    below = { first, second };
  }
  return pairs;
}

function sideFigures(side: Side | string): ComparisonSide {
  if (typeof side === 'string') return { requests: 0 };
  const buckets = side.cumulative && [...side.cumulative].map(([le, count]) => ({ le, count }));
  const quantile = (q: number): number | undefined => {
    const estimate = buckets && histogramQuantile(q, buckets);
    return estimate === undefined ? undefined : Math.round(estimate.seconds * 1e4) / 10;
  };
  const p99Ms = quantile(0.99);
  const medianMs = quantile(0.5);
  return {
    requests: side.requests,
    ...(side.requests > 0 && { errorRate: side.errors / side.requests }),
    ...(p99Ms !== undefined && { p99Ms }),
    ...(medianMs !== undefined && { medianMs }),
  };
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

function ms(value: number | undefined): string {
  if (value === undefined) return 'unknown';
  return `${value >= 10 ? String(Math.round(value)) : value.toFixed(1)} ms`;
}

function pText(p: number): string {
  return p < 0.0001 ? '<0.0001' : p.toFixed(4);
}
