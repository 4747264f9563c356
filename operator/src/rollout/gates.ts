/**
 * The hand gates of a rollout: hello.dev/pause, hello.dev/promote, hello.dev/abort and hello.dev/retry, and
 * who set them. Who is read from managedFields: the field manager that owns the annotation (kubectl
 * annotate, kubectl-hw, a GitOps tool), the same record `kubectl get -o yaml --show-managed-fields` shows.
 */
import type { V1ManagedFieldsEntry, V1ObjectMeta } from '@kubernetes/client-node';
import { ANNOTATION_ABORT, ANNOTATION_PAUSE, ANNOTATION_PROMOTE, ANNOTATION_RETRY } from '../crd/types.js';

export const GATE_ANNOTATIONS = [ANNOTATION_PAUSE, ANNOTATION_PROMOTE, ANNOTATION_ABORT, ANNOTATION_RETRY];

/** Whether hello.dev/pause holds the rollout: any value but an empty one and "false". */
export function pauseRequested(annotations: Record<string, string>): boolean {
  const value = annotations[ANNOTATION_PAUSE]?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== 'false';
}

/**
 * The managedFields entries that own a gate annotation, cut down to those annotations: all a cached
 * HelloWorld keeps of its field ownership (the rest is large and never read).
 */
export function gateManagedFields(metadata: V1ObjectMeta | undefined): V1ManagedFieldsEntry[] | undefined {
  const kept: V1ManagedFieldsEntry[] = [];
  for (const entry of metadata?.managedFields ?? []) {
    const owned = ownedAnnotations(entry).filter((key) => GATE_ANNOTATIONS.includes(key));
    if (owned.length === 0) continue;
    const annotations = Object.fromEntries(owned.map((key) => [`f:${key}`, {}]));
    kept.push({
      manager: entry.manager,
      operation: entry.operation,
      ...(entry.time !== undefined && { time: entry.time }),
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:metadata': { 'f:annotations': annotations } },
    });
  }
  return kept.length > 0 ? kept : undefined;
}

/** Who set a gate annotation, as "by MANAGER" for events and history; "" when unknown. */
export function gateActor(metadata: V1ObjectMeta | undefined, annotation: string): string {
  const entry = (metadata?.managedFields ?? []).find((e) => ownedAnnotations(e).includes(annotation));
  const manager = entry?.manager?.replace(/[^\x20-\x7e]/g, '').slice(0, 64);
  return manager ? ` by ${manager}` : '';
}

function ownedAnnotations(entry: V1ManagedFieldsEntry): string[] {
  const fields = entry.fieldsV1 as Record<string, unknown> | undefined;
  const metadata = fields?.['f:metadata'];
  if (typeof metadata !== 'object' || metadata === null) return [];
  const annotations = (metadata as Record<string, unknown>)['f:annotations'];
  if (typeof annotations !== 'object' || annotations === null) return [];
  return Object.keys(annotations)
    .filter((key) => key.startsWith('f:'))
    .map((key) => key.slice(2));
}
