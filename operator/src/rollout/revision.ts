/**
 * Revisions: each distinct pod template is one revision, named by a stable hash of the template. The
 * Deployment builder writes the hash on the pod template as an annotation, so ReplicaSets and pods carry
 * it and the rollout logic can tell which pods belong to which revision without re-hashing what the API
 * server defaulted.
 */
import type { V1Deployment, V1Pod, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import { canonicalJson, sha256Hex } from '../runtime/hash.js';

export const REVISION_ANNOTATION = 'hello.dev/revision';

/** 10 hex characters of sha256: short enough for `kubectl get`, long enough never to collide in practice. */
const REVISION_LENGTH = 10;

/** The revision of a pod template as the builder produced it; ignores its own annotation. */
export function revisionOf(template: V1PodTemplateSpec): string {
  const annotations = Object.fromEntries(
    Object.entries(template.metadata?.annotations ?? {}).filter(([key]) => key !== REVISION_ANNOTATION),
  );
  const hashed = { metadata: Object.assign({}, template.metadata, { annotations }), spec: template.spec };
  return sha256Hex(canonicalJson(hashed), REVISION_LENGTH);
}

/** The revision a pod, ReplicaSet or Deployment template carries, if any. */
export function podRevision(pod: V1Pod): string | undefined {
  return pod.metadata?.annotations?.[REVISION_ANNOTATION];
}

export function replicaSetRevision(replicaSet: V1ReplicaSet): string | undefined {
  return replicaSet.spec?.template?.metadata?.annotations?.[REVISION_ANNOTATION];
}

export function deploymentRevision(deployment: V1Deployment): string | undefined {
  return deployment.spec?.template.metadata?.annotations?.[REVISION_ANNOTATION];
}
