/** The contract between the reconciler and the rollout state machine. */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { ResolvedSpec } from '../crd/defaults.js';
import type { DryRunCheck, HelloSample, HelloWorldStatus } from '../crd/types.js';
import type { Measurement, Verifier } from '../verification/types.js';

export type AnalysisPolicy = ResolvedSpec['rollout']['verification']['analysis'];
export type MeasureFn = (prev: HelloSample, cur: HelloSample, policy: AnalysisPolicy) => Measurement;

/** The part of the status the state machine owns; the reconciler adds replica counts and the rest. */
export type RolloutStatus = Pick<
  HelloWorldStatus,
  | 'phase'
  | 'currentRevision'
  | 'stableRevision'
  | 'stableImage'
  | 'failedRevision'
  | 'observedRetry'
  | 'observedAbort'
  | 'observedPromote'
  | 'pausedAt'
  | 'canary'
  | 'rolloutStartedAt'
  | 'verification'
  | 'lastRollback'
  | 'history'
  | 'conditions'
>;

export interface RolloutInput {
  now: Date;
  /** metadata.generation of the HelloWorld. */
  generation: number;
  annotations: Record<string, string>;
  /** The status as last persisted: everything the machine knows about the past. */
  status: HelloWorldStatus;
  /** The spec as resolved; `spec.image` is the image of the spec's revision. */
  spec: ResolvedSpec;
  /** Revision of the pod template the spec asks for. */
  specRevision: string;
  /** Revision of the pod template now in the Deployment (the stable one while rolled back). */
  appliedRevision: string;
  deployment?: V1Deployment;
  /**
   * `deployment` was just read from the API server, not from the informer cache. Only such a read may
   * fail a rollout with ProgressDeadlineExceeded (see RolloutDecision.needsLiveDeployment).
   */
  deploymentIsLive?: boolean;
  /** This instance's API pods, every revision. */
  pods: V1Pod[];
  verifier: Verifier;
  /**
   * The canary Deployment as planned (strategy Canary, a new revision under way): its pod count, and
   * whether the stable Deployment still holds the stable template (the steps are not through).
   */
  canary?: { replicas: number; holdStable: boolean };
  /** Who set each gate annotation (" by MANAGER", from managedFields), for events and history. */
  gateActors?: Record<string, string>;
  /** Judges one analysis interval; the real analysis unless a test injects one. */
  measure?: MeasureFn;
}

export interface RolloutEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** DryRunWouldFail: the dry-run checks it reports, for the metric. */
  dryRunChecks?: DryRunCheck[];
}

export interface RolloutDecision {
  status: RolloutStatus;
  /** Only for transitions; at most one per reason. */
  events: RolloutEvent[];
  requeueAfterMs?: number;
  /** Set when a rollback was decided now (count it once). */
  rollback?: { reason: string };
  /** The Deployment's template must change now (a rollback was decided): apply again at once. */
  templateChanged?: boolean;
  /**
   * The Deployment as given is past its progress deadline, but it came from a cache that can lag behind a
   * rollout that completed: read it from the API server and decide again with `deploymentIsLive`. The
   * rest of this decision is provisional (nothing was failed, no verifier was called); discard it.
   */
  needsLiveDeployment?: boolean;
}

export type TemplateChoice = { use: 'spec' } | { use: 'stable'; revision: string };
