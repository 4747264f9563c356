/**
 * The one table of the kinds the operator reads, writes or watches: where each lives in the API (its
 * apiVersion, plural and scope). The runtime's client resolves paths from it (runtime/rest.ts), the
 * builders stamp apiVersion and kind from it, the cache reader derives its informers' paths from it,
 * and monitoring its Prometheus Operator CRD names. Kinds missing here are found by API discovery.
 */
import { API_VERSION, KIND, PLURAL } from './types.js';

export interface Kind {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

const namespaced = <A extends string, K extends string>(apiVersion: A, kind: K, plural: string) =>
  ({ apiVersion, kind, plural, namespaced: true }) as const;

export const KINDS = {
  HelloWorld: namespaced(API_VERSION, KIND, PLURAL),
  Deployment: namespaced('apps/v1', 'Deployment', 'deployments'),
  ReplicaSet: namespaced('apps/v1', 'ReplicaSet', 'replicasets'),
  StatefulSet: namespaced('apps/v1', 'StatefulSet', 'statefulsets'),
  Pod: namespaced('v1', 'Pod', 'pods'),
  Service: namespaced('v1', 'Service', 'services'),
  Secret: namespaced('v1', 'Secret', 'secrets'),
  ServiceAccount: namespaced('v1', 'ServiceAccount', 'serviceaccounts'),
  PersistentVolumeClaim: namespaced('v1', 'PersistentVolumeClaim', 'persistentvolumeclaims'),
  CronJob: namespaced('batch/v1', 'CronJob', 'cronjobs'),
  HorizontalPodAutoscaler: namespaced(
    'autoscaling/v2',
    'HorizontalPodAutoscaler',
    'horizontalpodautoscalers',
  ),
  PodDisruptionBudget: namespaced('policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets'),
  NetworkPolicy: namespaced('networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies'),
  ServiceMonitor: namespaced('monitoring.coreos.com/v1', 'ServiceMonitor', 'servicemonitors'),
  PrometheusRule: namespaced('monitoring.coreos.com/v1', 'PrometheusRule', 'prometheusrules'),
} as const satisfies Record<string, Kind>;

export type KindName = keyof typeof KINDS;

export const ALL_KINDS: readonly Kind[] = Object.values(KINDS);

/** `{ apiVersion, kind }` of a table entry, to spread into an object being built. */
export function typeMeta<K extends Kind>(kind: K): { apiVersion: K['apiVersion']; kind: K['kind'] } {
  return { apiVersion: kind.apiVersion, kind: kind.kind };
}

/** The CRD name of a kind: `<plural>.<group>`. */
export function crdName(kind: Kind): string {
  return `${kind.plural}.${kind.apiVersion.split('/')[0] ?? ''}`;
}
