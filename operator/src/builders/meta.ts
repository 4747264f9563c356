/** Names, metadata and owner references shared by every child a HelloWorld owns (labels: api/labels.ts). */
import type { V1ObjectMeta, V1OwnerReference, V1SecurityContext } from '@kubernetes/client-node';
import { KINDS } from '../crd/kinds.js';
import { labels, type Component } from '../crd/labels.js';
import type { HelloWorld } from '../crd/types.js';

export function ownerReference(hw: HelloWorld): V1OwnerReference {
  return {
    apiVersion: KINDS.HelloWorld.apiVersion,
    kind: KINDS.HelloWorld.kind,
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
/** The ServiceAccount a HelloWorld creates (spec.serviceAccount.create): a cloud role's trust policy names it. */
export const createdServiceAccountName = (hw: HelloWorld): string => hw.metadata.name;

/** A child the HelloWorld should not have (e.g. the HPA after autoscaling was switched off). */
export interface AbsentChild {
  apiVersion: string;
  kind: string;
  name: string;
}

/** Every container the operator builds: non-root, read-only root filesystem, no capabilities. */
export const RESTRICTED_CONTAINER: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};
