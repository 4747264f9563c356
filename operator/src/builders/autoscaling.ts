import type { V1PodDisruptionBudget, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { ResolvedSpec } from '../crd/defaults.js';
import { KINDS, typeMeta } from '../crd/kinds.js';
import { selectorLabels } from '../crd/labels.js';
import type { HelloWorld, IntOrString } from '../crd/types.js';
import { childMeta } from './meta.js';

/** The HPA when `autoscaling` is set; undefined tells the reconciler to delete any existing one. */
export function buildHpa(hw: HelloWorld, spec: ResolvedSpec): V2HorizontalPodAutoscaler | undefined {
  if (!spec.autoscaling) return undefined;
  return {
    ...typeMeta(KINDS.HorizontalPodAutoscaler),
    metadata: childMeta(hw, hw.metadata.name, 'api'),
    spec: {
      scaleTargetRef: { ...typeMeta(KINDS.Deployment), name: hw.metadata.name },
      minReplicas: spec.autoscaling.minReplicas,
      maxReplicas: spec.autoscaling.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: {
              type: 'Utilization',
              averageUtilization: spec.autoscaling.targetCPUUtilizationPercentage,
            },
          },
        },
      ],
    },
  };
}

/** The least number of replicas the API runs with: what the PDB must never make undrainable. */
export function minimumReplicas(spec: ResolvedSpec): number {
  return spec.autoscaling ? spec.autoscaling.minReplicas : spec.replicas;
}

function requiresAPod(value: IntOrString): boolean {
  return typeof value === 'number' ? value >= 1 : Number.parseInt(value, 10) > 0;
}

/**
 * The PDB. With a single replica, "minAvailable: 1" would block every node drain forever, so the
 * budget becomes "maxUnavailable: 1" there: a drain may briefly take the only pod down, which is the
 * honest availability of one replica. Unhealthy pods never block a drain (AlwaysAllow).
 */
export function buildPdb(hw: HelloWorld, spec: ResolvedSpec): V1PodDisruptionBudget {
  const budget = spec.disruptionBudget;
  const singleReplica = minimumReplicas(spec) <= 1;
  const bounds =
    'minAvailable' in budget && singleReplica && requiresAPod(budget.minAvailable)
      ? { maxUnavailable: 1 }
      : budget;
  return {
    ...typeMeta(KINDS.PodDisruptionBudget),
    metadata: childMeta(hw, hw.metadata.name, 'api'),
    spec: {
      ...bounds,
      selector: { matchLabels: selectorLabels(hw, 'api') },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}
