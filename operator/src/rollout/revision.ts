/**
 * Revisions: each distinct pod template is one revision, named by a stable hash of the template. The
 * Deployment builder writes the hash on the pod template as an annotation, so ReplicaSets and pods carry
 * it and the rollout logic can tell which pods belong to which revision without re-hashing what the API
 * server defaulted.
 */
import { createHash } from 'node:crypto';
import type { V1Deployment, V1Pod, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';

export const REVISION_ANNOTATION = 'hello.dev/revision';

/** 10 hex characters of sha256: short enough for `kubectl get`, long enough never to collide in practice. */
const REVISION_LENGTH = 10;

/** The revision of a pod template as the builder produced it; ignores its own annotation. */
export function revisionOf(template: V1PodTemplateSpec): string {
  const annotations = Object.fromEntries(
    Object.entries(template.metadata?.annotations ?? {}).filter(([key]) => key !== REVISION_ANNOTATION),
  );
  const hashed = { metadata: Object.assign({}, template.metadata, { annotations }), spec: template.spec };
  return createHash('sha256').update(canonicalJson(hashed)).digest('hex').slice(0, REVISION_LENGTH);
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

/**
 * JSON with object keys sorted at every level. Empty objects and arrays, null and undefined are dropped,
 * as the API server omits them: `annotations: {}` and no annotations are the same template.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalize(value) ?? null);
}

function normalize(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) {
    const items = value.map((item) => normalize(item) ?? null);
    return items.length === 0 ? undefined : items;
  }
  if (typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => [key, normalize((value as Record<string, unknown>)[key])] as const)
      .filter(([, v]) => v !== undefined);
    return entries.length === 0 ? undefined : Object.fromEntries(entries);
  }
  return value;
}
