/**
 * Metrics analysis of a new revision: read the API's /hello counters from its Prometheus metrics, take the
 * delta between two samples and judge its error rate and p99 latency. Pure: the caller does the I/O and
 * decides what a NoData measurement counts as.
 */
import type { ResolvedSpec } from '../crd/defaults.js';
import type { HelloCounts, HelloSample } from '../crd/types.js';
import { parseExposition, parseSampleValue } from './exposition.js';
import { truncate } from './pod-http.js';
import type { Measurement } from './types.js';

export type AnalysisPolicy = ResolvedSpec['rollout']['verification']['analysis'];
type Bucket = HelloCounts['buckets'][number];

const REQUESTS_METRIC = 'http_requests_total';
const BUCKET_METRIC = 'http_request_duration_seconds_bucket';
const QUANTILE = 0.99;

/** The bounds of the API's latency histogram (api/src/metrics.ts DURATION_BUCKETS). */
export const API_DURATION_BUCKETS = [
  0.0005, 0.001, 0.002, 0.004, 0.006, 0.008, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
] as const;
/** prom-client's default bounds, which a build of the API without its own buckets would export. */
const PROM_CLIENT_DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/**
 * The only bounds kept from a pod's histogram (+Inf besides): a pod that exports thousands of other
 * bounds cannot grow the samples kept in status. Unknown bounds are skipped, not an error: the
 * interpolation only needs some bounds, and the +Inf bucket still counts every request.
 */
const KNOWN_BOUNDS: ReadonlySet<number> = new Set([
  ...API_DURATION_BUCKETS,
  ...PROM_CLIENT_DEFAULT_BUCKETS,
  Infinity,
]);

/** A pod's /metrics answer that cannot be read as the API's metrics. */
export class MetricsFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsFormatError';
  }
}

/** The API labels routes by template (`/hello/:username`); malformed /hello paths count too. */
function isHelloRoute(route: string | undefined): boolean {
  return route?.startsWith('/hello') ?? false;
}

function isServerError(statusCode: string | undefined): boolean {
  return statusCode !== undefined && /^5\d\d$/.test(statusCode);
}

/** One pod's cumulative /hello counters; metrics the API has not exported yet count as zero. */
export function parseHelloSample(metricsText: string, podName: string): HelloSample {
  let samples;
  try {
    samples = parseExposition(metricsText);
  } catch (error) {
    throw new MetricsFormatError(
      `metrics of pod ${podName}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const invalid = (what: string): MetricsFormatError =>
    new MetricsFormatError(`metrics of pod ${podName}: ${what} is not a valid count`);

  let requests = 0;
  let errors = 0;
  const buckets = new Map<number, number>();
  for (const { name, labels, value } of samples) {
    if (!isHelloRoute(labels.route)) continue;
    if (name === REQUESTS_METRIC) {
      if (!isCount(value)) throw invalid(`${REQUESTS_METRIC} ${String(value)}`);
      requests += value;
      if (isServerError(labels.status_code)) errors += value;
    } else if (name === BUCKET_METRIC) {
      const le = parseSampleValue(labels.le ?? '');
      if (le === undefined || Number.isNaN(le))
        throw invalid(
          `bucket bound le=${labels.le === undefined ? 'null' : JSON.stringify(truncate(labels.le, 40))}`,
        );
      if (!isCount(value)) throw invalid(`${BUCKET_METRIC} ${String(value)}`);
      if (KNOWN_BOUNDS.has(le)) buckets.set(le, (buckets.get(le) ?? 0) + value);
    }
  }
  const counts: HelloCounts = { requests, errors, buckets: toBuckets(buckets) };
  return { ...counts, pods: { [podName]: requests }, perPod: { [podName]: counts } };
}

function isCount(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

function toBuckets(byBound: Map<number, number>): Bucket[] {
  return [...byBound].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/**
 * A bound read back from a stored sample: JSON has no Infinity, so the +Inf bucket's bound comes back as
 * null (or is dropped by the API server); anything not a finite number is that bucket.
 */
function normalizeBuckets(buckets: readonly Bucket[]): Bucket[] {
  const byBound = new Map<number, number>();
  for (const { le, count } of buckets) {
    const stored: unknown = le;
    const bound = typeof stored === 'number' && !Number.isNaN(stored) ? stored : Infinity;
    byBound.set(bound, (byBound.get(bound) ?? 0) + count);
  }
  return toBuckets(byBound);
}

function sumCounts(all: readonly HelloCounts[]): HelloCounts {
  const buckets = new Map<number, number>();
  let requests = 0;
  let errors = 0;
  for (const counts of all) {
    requests += counts.requests;
    errors += counts.errors;
    for (const { le, count } of normalizeBuckets(counts.buckets))
      buckets.set(le, (buckets.get(le) ?? 0) + count);
  }
  return { requests, errors, buckets: toBuckets(buckets) };
}

/** The samples of several pods as one; per-pod detail is kept only if every sample has it. */
export function sumSamples(samples: readonly HelloSample[]): HelloSample {
  const pods: Record<string, number> = {};
  const perPod: Record<string, HelloCounts> = {};
  for (const sample of samples) {
    for (const [pod, requests] of Object.entries(sample.pods)) pods[pod] = (pods[pod] ?? 0) + requests;
    for (const [pod, counts] of Object.entries(sample.perPod ?? {})) {
      const seen = perPod[pod];
      perPod[pod] = seen ? sumCounts([seen, counts]) : counts;
    }
  }
  const detailed = samples.every((sample) => sample.perPod !== undefined);
  return { ...sumCounts(samples), pods, ...(detailed && { perPod }) };
}

/** A counter that went down, or a bucket layout that changed, means a new process: count from zero. */
function isReset(before: HelloCounts, after: HelloCounts): boolean {
  if (after.requests < before.requests || after.errors < before.errors) return true;
  const afterBuckets = new Map(normalizeBuckets(after.buckets).map((b) => [b.le, b.count]));
  return normalizeBuckets(before.buckets).some(({ le, count }) => {
    const now = afterBuckets.get(le);
    return now === undefined || now < count;
  });
}

function subtract(after: HelloCounts, before: HelloCounts): HelloCounts {
  const beforeBuckets = new Map(normalizeBuckets(before.buckets).map((b) => [b.le, b.count]));
  return {
    requests: after.requests - before.requests,
    errors: after.errors - before.errors,
    buckets: normalizeBuckets(after.buckets).map(({ le, count }) => ({
      le,
      count: count - (beforeBuckets.get(le) ?? 0),
    })),
  };
}

/** What happened between two samples; a pod without a (valid) previous sample counts from zero. */
export function deltaCounts(prev: HelloSample | undefined, cur: HelloSample): HelloCounts {
  if (prev === undefined) return sumCounts([cur]);
  const { perPod: before } = prev;
  const { perPod: after } = cur;
  if (before !== undefined && after !== undefined) {
    return sumCounts(
      Object.entries(after).map(([pod, counts]) => {
        const previous = before[pod];
        return previous !== undefined && !isReset(previous, counts) ? subtract(counts, previous) : counts;
      }),
    );
  }
  // Without per-pod detail only the whole can be judged: any reset or new pod restarts the count.
  const podRestarted = Object.entries(cur.pods).some(([pod, requests]) => {
    const previous = prev.pods[pod];
    return previous === undefined || requests < previous;
  });
  return podRestarted || isReset(prev, cur) ? sumCounts([cur]) : subtract(cur, prev);
}

export interface QuantileEstimate {
  seconds: number;
  /** The quantile lies in the +Inf bucket: the true value is above `seconds`, the highest finite bound. */
  aboveRange: boolean;
}

/**
 * The q-quantile of cumulative histogram buckets, like PromQL's histogram_quantile: find the bucket
 * holding the q·total-th observation and interpolate linearly within it (the first bucket starts at 0).
 * Undefined when the histogram is empty or has no finite bound.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): QuantileEstimate | undefined {
  const sorted = normalizeBuckets(buckets);
  // Cumulative counts never fall; a racy scrape can make a delta do so, which PromQL also irons out.
  let runningMax = 0;
  const cumulative = sorted.map(({ le, count }) => {
    runningMax = Math.max(runningMax, count);
    return { le, count: runningMax };
  });
  const total = cumulative.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  const index = cumulative.findIndex((bucket) => bucket.count >= rank);
  const bucket = cumulative[index];
  if (bucket === undefined) return undefined;
  const below = cumulative[index - 1];
  if (bucket.le === Infinity)
    return below === undefined ? undefined : { seconds: below.le, aboveRange: true };
  if (below === undefined && bucket.le <= 0) return { seconds: bucket.le, aboveRange: false };
  const start = below?.le ?? 0;
  const countBelow = below?.count ?? 0;
  const inBucket = bucket.count - countBelow;
  const seconds = start + (bucket.le - start) * ((rank - countBelow) / inBucket);
  return { seconds, aboveRange: false };
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

function milliseconds(ms: number): string {
  return `${ms >= 10 ? String(Math.round(ms)) : ms.toFixed(1)} ms`;
}

/** Judges the traffic between two samples against the analysis thresholds. */
export function measure(
  prev: HelloSample | undefined,
  cur: HelloSample,
  policy: AnalysisPolicy,
): Measurement {
  const delta = deltaCounts(prev, cur);
  if (delta.requests <= 0) {
    return { result: 'NoData', requests: 0, message: 'no /hello requests in the interval' };
  }
  const errorRate = delta.errors / delta.requests;
  const errorText = `error rate ${percent(errorRate)} (${delta.errors} of ${delta.requests} /hello requests)`;
  const failures: string[] = [];
  if (errorRate > policy.maxErrorRate) failures.push(`${errorText} exceeds ${percent(policy.maxErrorRate)}`);

  const p99 = histogramQuantile(QUANTILE, delta.buckets);
  const p99Ms = p99 === undefined ? undefined : Math.round(p99.seconds * 1e4) / 10;
  const p99Text =
    p99Ms === undefined
      ? 'p99 unknown (no latency histogram for /hello)'
      : `p99 ${p99?.aboveRange ? '> ' : ''}${milliseconds(p99Ms)}`;
  if (p99Ms !== undefined && p99Ms > policy.maxP99LatencyMs) {
    failures.push(`${p99Text} exceeds ${milliseconds(policy.maxP99LatencyMs)}`);
  }

  const base = { requests: delta.requests, errorRate, ...(p99Ms !== undefined && { p99Ms }) };
  if (failures.length > 0) return { ...base, result: 'Fail', message: failures.join('; ') };
  return {
    ...base,
    result: 'Pass',
    message: `${errorText}, ${p99Text}: within ${percent(policy.maxErrorRate)} and ${milliseconds(policy.maxP99LatencyMs)}`,
  };
}

/**
 * What a measurement counts as: Pass or Fail as measured, and NoData as the policy's `noData` setting says,
 * so an idle revision is judged deliberately rather than passed by accident.
 */
export function measurementVerdict(
  measurement: Measurement,
  policy: Pick<AnalysisPolicy, 'noData'>,
): 'Pass' | 'Fail' {
  return measurement.result === 'NoData' ? policy.noData : measurement.result;
}
