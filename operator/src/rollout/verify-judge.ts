/**
 * One analysis interval judged: the fixed thresholds on the canary's own traffic, and (when stable pods are
 * given) the comparison of the canary with them over the same interval. Each can be a dry run: measured
 * and recorded as "would have failed", never counted. Pure: verify.ts does the sampling.
 */
import type { ResolvedSpec } from '../crd/defaults.js';
import type { DryRunCheck, HelloSample, VerificationStatus } from '../crd/types.js';
import { deltaCounts, measurementVerdict } from '../verification/analysis.js';
import { compare } from '../verification/compare.js';
import { truncate } from '../verification/pod-http.js';
import type { Measurement } from '../verification/types.js';
import { FailureReason } from './conditions.js';

type AnalysisPolicy = ResolvedSpec['rollout']['verification']['analysis'];

/**
 * The longest message kept in status and events: pods write part of it (bodies, metric lines), and a
 * status that grows with what a pod says could grow until its writes fail.
 */
export const MAX_MESSAGE_CHARS = 1024;

/** A dry-run check that would have failed in this step; `first` when it is its first in the verification. */
export interface DryRunHit {
  check: DryRunCheck;
  message: string;
  first: boolean;
}

/** The stable pods' side of an interval: their sample now, or why there is none. */
export type BaselineRead = { sample: HelloSample } | { error: string };

export interface IntervalVerdict {
  failed: boolean;
  /** Why, when failed: the thresholds (AnalysisFailed) or the comparison alone (CanaryWorseThanStable). */
  reason: typeof FailureReason.AnalysisFailed | typeof FailureReason.CanaryWorseThanStable;
  /** The measurement in words, for lastMessage. */
  text: string;
  /** The stable pods' requests in the interval (for probing), when compared. */
  baselineRequests?: number;
  dryRun: DryRunHit[];
}

/**
 * Judges the interval from `v.lastSample` (and `v.lastBaselineSample`) to the samples now, and moves the
 * stored samples on. `m` is the thresholds' measurement of the canary's interval.
 */
export function judgeInterval(
  v: VerificationStatus,
  m: Measurement,
  policy: AnalysisPolicy,
  canary: { prev: HelloSample; cur: HelloSample },
  baseline: BaselineRead | undefined,
  now: Date,
): IntervalVerdict {
  const dryRun: DryRunHit[] = [];
  const thresholds = policy.thresholds;
  const thresholdsFail = thresholds.enabled && measurementVerdict(m, policy) === 'Fail';
  const counted =
    m.result === 'NoData' && thresholds.enabled
      ? ` (counted as a ${thresholdsFail ? 'failure' : 'pass'}: noData is ${policy.noData})`
      : '';
  let text = thresholds.enabled
    ? `${m.result}: ${m.message}${counted}`
    : `thresholds off; ${m.requests} /hello requests`;
  if (thresholdsFail && thresholds.dryRun) {
    dryRun.push(hit(v, 'thresholds', m.message, now));
    text += ' (dry run: would have failed, not counted)';
  }

  if (baseline === undefined) {
    return {
      failed: thresholdsFail && !thresholds.dryRun,
      reason: FailureReason.AnalysisFailed,
      text,
      dryRun,
    };
  }
  const comparison = compareInterval(v, canary, baseline, policy, now);
  text += `; comparison: ${comparison.status.result}: ${comparison.status.message}`;
  const comparisonFail = comparison.status.counted === 'Fail';
  if (comparison.status.result === 'NoData') {
    text += ` (counted as a ${comparisonFail ? 'failure' : 'pass'}: comparison noData is ${policy.comparison.noData})`;
  }
  if (comparisonFail && policy.comparison.dryRun) {
    dryRun.push(hit(v, 'comparison', comparison.status.message, now));
    text += ' (dry run: would have failed, not counted)';
    v.comparison = { ...comparison.status, counted: 'Pass' };
  } else v.comparison = comparison.status;
  const countedThresholds = thresholdsFail && !thresholds.dryRun;
  const countedComparison = comparisonFail && !policy.comparison.dryRun;
  return {
    failed: countedThresholds || countedComparison,
    reason: countedThresholds ? FailureReason.AnalysisFailed : FailureReason.CanaryWorseThanStable,
    text,
    ...(comparison.baselineRequests !== undefined && { baselineRequests: comparison.baselineRequests }),
    dryRun,
  };
}

function compareInterval(
  v: VerificationStatus,
  canary: { prev: HelloSample; cur: HelloSample },
  baseline: BaselineRead,
  policy: AnalysisPolicy,
  now: Date,
): { status: NonNullable<VerificationStatus['comparison']>; baselineRequests?: number } {
  const base = {
    measuredAt: now.toISOString(),
    ...(policy.comparison.dryRun && { dryRun: true }),
  };
  const noData = (message: string): NonNullable<VerificationStatus['comparison']> => ({
    ...base,
    result: 'NoData',
    counted: policy.comparison.noData,
    message: truncate(message, MAX_MESSAGE_CHARS),
    canary: { requests: 0 },
    stable: { requests: 0 },
  });
  if ('error' in baseline) {
    return { status: noData(`could not read the stable pods' metrics: ${baseline.error}`) };
  }
  const previous = v.lastBaselineSample;
  v.lastBaselineSample = baseline.sample;
  if (previous === undefined) {
    return {
      status: noData("the stable pods' first sample was taken now; they are compared from the next interval"),
    };
  }
  const stableDelta = deltaCounts(previous, baseline.sample);
  const c = compare(deltaCounts(canary.prev, canary.cur), stableDelta, policy.comparison);
  const counted = c.result === 'NoData' ? policy.comparison.noData : c.result;
  return {
    status: { ...base, ...c, counted, message: truncate(c.message, MAX_MESSAGE_CHARS) },
    baselineRequests: stableDelta.requests,
  };
}

/** Records a dry-run check that would have failed; one entry per check kind, counting repeats. */
export function hit(v: VerificationStatus, check: DryRunCheck, message: string, now: Date): DryRunHit {
  const text = truncate(message, MAX_MESSAGE_CHARS);
  const list = v.dryRunFailures ?? [];
  const seen = list.find((f) => f.check === check);
  v.dryRunFailures = seen
    ? list.map((f) => (f === seen ? { ...f, count: f.count + 1, message: text } : f))
    : [...list, { check, firstAt: now.toISOString(), count: 1, message: text }];
  return { check, message: text, first: seen === undefined };
}
