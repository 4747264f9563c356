/**
 * Shared shapes of post-deploy verification: how the rollout logic asks for smoke checks and metric
 * samples of the new revision's pods, without knowing how they are reached.
 */
import type { ResolvedSmokeCheck } from '../api/defaults.js';

/** A pod to verify; the port is the API container's port. */
export interface PodRef {
  namespace: string;
  name: string;
  port: number;
}

export interface SmokeResult {
  passed: boolean;
  /** Which check failed on which pod and what it saw; or a summary of what passed. */
  message: string;
}

/**
 * Cumulative /hello counters of the API's Prometheus metrics, summed over the pods sampled.
 * `buckets` are the histogram's cumulative counts by upper bound in seconds (`le`), +Inf last.
 */
export interface HelloSample {
  requests: number;
  errors: number;
  buckets: { le: number; count: number }[];
  /** Per-pod request counts, so a restarted pod (counter reset) is noticed. */
  pods: Record<string, number>;
  /**
   * Per-pod counters, so a restarted or new pod's delta counts from zero without disturbing the others.
   * Optional: without it, any reset makes the whole measurement count from zero.
   */
  perPod?: Record<string, HelloCounts>;
}

/** One pod's cumulative /hello counters, shaped like the sum. */
export interface HelloCounts {
  requests: number;
  errors: number;
  buckets: { le: number; count: number }[];
}

export type MeasurementResult = 'Pass' | 'Fail' | 'NoData';

export interface Measurement {
  result: MeasurementResult;
  requests: number;
  errorRate?: number;
  p99Ms?: number;
  message: string;
}

/** The I/O the rollout logic needs; the real one goes through the API server's pod proxy. */
export interface Verifier {
  smoke(pods: PodRef[], checks: ResolvedSmokeCheck[]): Promise<SmokeResult>;
  sample(pods: PodRef[]): Promise<HelloSample>;
}
