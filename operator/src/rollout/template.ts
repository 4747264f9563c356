/**
 * Which pod template the Deployment runs, decided before it is applied: the spec's, or, while the spec
 * asks for the revision that failed, the stable revision's, taken from the Deployment's ReplicaSet
 * history (like `kubectl rollout undo`). The state machine then judges the revision that was applied.
 */
import type { V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import { ANNOTATION_RETRY, type HelloWorldStatus } from '../crd/types.js';
import { CANARY_TRACK, TRACK_LABEL } from '../crd/labels.js';
import { replicaSetRevision } from './revision.js';
import type { TemplateChoice } from './types.js';

/** A pod template and its revision (the hash it carries in its hello.dev/revision annotation). */
export interface TemplateRevision {
  revision: string;
  template: V1PodTemplateSpec;
}

/** What decides whether the stable revision runs instead of the spec's, and where its template is. */
export interface RolloutHistory {
  /** The status as stored: the stable and the failed revision. */
  status: HelloWorldStatus;
  /** The HelloWorld's annotations (hello.dev/retry). */
  annotations: Record<string, string>;
  /** The API Deployment's ReplicaSets: the pod templates of the revisions it ran. */
  replicaSets: readonly V1ReplicaSet[];
  /** The stable Deployment's replicas as stored (the HPA's count): canary percentages are of it. */
  stableReplicas?: number;
}

/**
 * The template the Deployment runs: the stable revision's while chooseTemplate says so and the ReplicaSet
 * history still holds it, else the spec's.
 */
export function templateToRun(
  spec: TemplateRevision,
  history: RolloutHistory,
  autoRollback: boolean,
  holdStable = false,
): TemplateRevision {
  const { status, annotations, replicaSets } = history;
  const choice = chooseTemplate({ status, specRevision: spec.revision, annotations, autoRollback });
  const revision = choice.use === 'stable' ? choice.revision : holdStable ? status.stableRevision : undefined;
  if (revision === undefined) return spec;
  const template = stableTemplate(replicaSets, revision);
  return template === undefined ? spec : { revision, template };
}

/**
 * Which pod template the Deployment should run: the stable revision's while the spec asks for the
 * revision that failed (until the spec or hello.dev/retry changes), else the spec's.
 */
export function chooseTemplate(input: {
  status: HelloWorldStatus;
  specRevision: string;
  annotations: Record<string, string>;
  autoRollback: boolean;
}): TemplateChoice {
  const { status, specRevision, annotations, autoRollback } = input;
  const stable = status.stableRevision;
  if (
    autoRollback &&
    stable !== undefined &&
    stable !== specRevision &&
    status.failedRevision === specRevision &&
    !retryRequested(status, annotations)
  ) {
    return { use: 'stable', revision: stable };
  }
  return { use: 'spec' };
}

/** Whether hello.dev/retry has a value the status has not acted on yet. */
export function retryRequested(status: HelloWorldStatus, annotations: Record<string, string>): boolean {
  const retry = annotations[ANNOTATION_RETRY];
  return retry !== undefined && retry !== status.observedRetry;
}

/** The pod template of `revision` from the ReplicaSet history. */
function stableTemplate(
  replicaSets: readonly V1ReplicaSet[],
  revision: string,
): V1PodTemplateSpec | undefined {
  // The canary Deployment's ReplicaSets carry the canary label: never a template for the stable Deployment.
  const template = replicaSets.find(
    (rs) =>
      replicaSetRevision(rs) === revision &&
      rs.spec?.template?.metadata?.labels?.[TRACK_LABEL] !== CANARY_TRACK,
  )?.spec?.template;
  if (!template) return undefined;
  // The Deployment controller adds pod-template-hash itself; carrying it over would change the hash.
  const labels = Object.fromEntries(
    Object.entries(template.metadata?.labels ?? {}).filter(([key]) => key !== 'pod-template-hash'),
  );
  return { ...template, metadata: { ...template.metadata, labels } };
}
