/**
 * What a canary rollout asks of the cluster at its current step, decided before anything is applied: the
 * stable Deployment keeps the stable revision's template until every step passed, and a second Deployment
 * runs the spec's revision with the step's number of canary pods, on top of the stable pods (capacity
 * never drops below the desired replicas, and removing the canary takes nothing from the stable pods).
 */
import type { ResolvedSpec, ResolvedStep } from '../crd/defaults.js';
import type { HelloWorldStatus } from '../crd/types.js';

export interface CanaryPlan {
  /** The stable Deployment keeps the stable revision's template: the steps are not through yet. */
  holdStable: boolean;
  /** The canary Deployment runs the spec's revision with this many pods; absent: no canary Deployment. */
  canaryReplicas?: number;
}

export const NO_CANARY: CanaryPlan = { holdStable: false };

export interface CanaryPlanInput {
  spec: Pick<ResolvedSpec, 'rollout'>;
  status: HelloWorldStatus;
  specRevision: string;
  /** The stable template stands in for the spec's anyway (the spec asks for a failed revision). */
  rollingBack: boolean;
  /** The stable Deployment's replicas (the HPA's count when autoscaling): what percentages are of. */
  stableReplicas: number;
}

export function planCanary(input: CanaryPlanInput): CanaryPlan {
  const { spec, status, specRevision, rollingBack, stableReplicas } = input;
  const { strategy, steps } = spec.rollout;
  const stable = status.stableRevision;
  // The first revision has nothing to be compared with: it rolls out as with the Rolling strategy.
  if (strategy !== 'Canary' || steps.length === 0 || rollingBack) return NO_CANARY;
  if (stable === undefined || stable === specRevision) return NO_CANARY;
  const canary = status.canary?.revision === specRevision ? status.canary : undefined;
  const stepIndex = canary?.stepIndex ?? 0;
  const replicas = canaryReplicasAt(steps, stepIndex, stableReplicas);
  // Every step passed: the stable Deployment takes the revision; the canary pods serve until it is done.
  if (stepIndex >= steps.length) return { holdStable: false, canaryReplicas: replicas };
  return { holdStable: true, canaryReplicas: replicas };
}

/** The canary pods at a step: those of the last canary step up to it (at least 1 of any percentage). */
export function canaryReplicasAt(
  steps: readonly ResolvedStep[],
  stepIndex: number,
  stableReplicas: number,
): number {
  const last = steps.slice(0, stepIndex + 1).findLast((step) => step.kind === 'canary');
  if (last?.kind !== 'canary') return 0;
  return resolveReplicas(last.replicas, stableReplicas);
}

export function resolveReplicas(replicas: number | string, stableReplicas: number): number {
  if (typeof replicas === 'number') return Math.max(1, replicas);
  const percent = Number(replicas.replace('%', ''));
  if (!Number.isFinite(percent)) return 1;
  return Math.max(1, Math.ceil((percent * Math.max(0, stableReplicas)) / 100));
}

/** How a step reads in status and `kubectl get hw -o wide`: "2/5: verify". */
export function describeStep(steps: readonly ResolvedStep[], stepIndex: number): string {
  const step = steps[stepIndex];
  const position = `${Math.min(stepIndex + 1, steps.length)}/${steps.length}`;
  if (step === undefined) return `${steps.length}/${steps.length}: promoting`;
  if (step.kind === 'canary') return `${position}: canary ${String(step.replicas)}`;
  if (step.kind === 'verify') return `${position}: verify`;
  if (step.durationSeconds !== undefined) return `${position}: pause ${step.durationSeconds}s`;
  return `${position}: pause until promoted`;
}
