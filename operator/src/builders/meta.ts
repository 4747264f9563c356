/** Names, labels and owner references shared by every child a HelloWorld owns. */
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, KIND, type HelloWorld } from '../api/types.js';

export const MANAGED_BY = 'helloworld-operator';

export type Component = 'api' | 'redis';

/** The immutable labels a Deployment or StatefulSet selects its pods by. */
export function selectorLabels(hw: HelloWorld, component: Component): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'helloworld',
    'app.kubernetes.io/instance': hw.metadata.name,
    'app.kubernetes.io/component': component,
  };
}

export function labels(hw: HelloWorld, component: Component): Record<string, string> {
  return { ...selectorLabels(hw, component), 'app.kubernetes.io/managed-by': MANAGED_BY };
}

export function selectorString(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function ownerReference(hw: HelloWorld): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: hw.metadata.name,
    uid: hw.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function childMeta(hw: HelloWorld, name: string, component: Component): V1ObjectMeta {
  return {
    name,
    namespace: hw.metadata.namespace,
    labels: labels(hw, component),
    ownerReferences: [ownerReference(hw)],
  };
}

export const redisName = (hw: HelloWorld): string => `${hw.metadata.name}-redis`;
export const redisSecretName = (hw: HelloWorld): string => `${hw.metadata.name}-redis-auth`;

/** A child the HelloWorld should not have (e.g. the HPA after autoscaling was switched off). */
export interface AbsentChild {
  apiVersion: string;
  kind: string;
  name: string;
}
