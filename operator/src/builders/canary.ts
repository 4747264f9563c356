/**
 * The canary Deployment `NAME-canary` (strategy Canary): the spec's revision next to the stable pods. Its
 * pods carry every label of the stable ones, so the Service (and the PDB, and the HPA's metrics) count
 * them, plus the canary label its own selector adds, so it never adopts the stable pods.
 */
import type { V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { ResolvedSpec } from '../crd/defaults.js';
import { KINDS, typeMeta } from '../crd/kinds.js';
import { CANARY_TRACK, TRACK_LABEL, selectorLabels } from '../crd/labels.js';
import type { HelloWorld } from '../crd/types.js';
import { childMeta } from './meta.js';

export const canaryName = (hw: HelloWorld): string => `${hw.metadata.name}-canary`;

export function buildCanaryDeployment(
  hw: HelloWorld,
  spec: ResolvedSpec,
  template: V1PodTemplateSpec,
  replicas: number,
): V1Deployment {
  const meta = childMeta(hw, canaryName(hw), 'api');
  return {
    ...typeMeta(KINDS.Deployment),
    metadata: { ...meta, labels: { ...meta.labels, [TRACK_LABEL]: CANARY_TRACK } },
    spec: {
      replicas,
      selector: { matchLabels: { ...selectorLabels(hw, 'api'), [TRACK_LABEL]: CANARY_TRACK } },
      // Only a new revision replaces pods here (the spec changed mid-canary); the step count moves by scale.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '100%', maxUnavailable: 0 } },
      progressDeadlineSeconds: spec.rollout.progressDeadlineSeconds,
      revisionHistoryLimit: 1,
      template: {
        ...template,
        metadata: {
          ...template.metadata,
          labels: { ...template.metadata?.labels, [TRACK_LABEL]: CANARY_TRACK },
        },
      },
    },
  };
}
