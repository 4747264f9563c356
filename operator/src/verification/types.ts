/**
 * Shared shapes of post-deploy verification: how the rollout logic asks for smoke checks and metric
 * samples of the new revision's pods, without knowing how they are reached.
 */
import type { ResolvedSmokeCheck } from '../crd/defaults.js';
import type { HelloSample } from '../crd/types.js';

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
  /** Dry-run checks that failed (each a message like `message`); they never fail the smoke test. */
  dryRunFailures?: string[];
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
  /** Probe traffic for analysis windows without enough organic traffic; absent, nothing is probed. */
  readonly prober?: Prober;
}

/** One verification's probe traffic: to these pods, at this rate, until then (epoch ms). */
export interface ProbeOrder {
  pods: readonly PodRef[];
  ratePerSecond: number;
  until: number;
}

/** Sends probe traffic to pods under judgement (prober.ts); reconciles only place orders, never wait. */
export interface Prober {
  /** Starts, updates or (undefined) stops one verification's probe traffic; returns at once. */
  set(key: string, order: ProbeOrder | undefined): void;
  /** Probes the pods answered for `key` since the last call. */
  takeAnswered(key: string): number;
}
