/**
 * The one write each gate verb makes: a JSON merge patch of one annotation of the HelloWorld, sent with
 * the field manager `kubectl-hw`, so managedFields records who asked and RBAC stays `patch helloworlds`.
 * The operator acts on the annotations (docs/rollouts.md); the plugin never touches spec or status.
 *
 * promote, abort and retry are tokens: a new value acts once and status records the value acted on, so
 * each request carries a fresh value, the time it was made. pause is a presence: any value but "false".
 */
import { ANNOTATION_ABORT, ANNOTATION_PAUSE, ANNOTATION_PROMOTE, ANNOTATION_RETRY } from '../crd/types.js';
import type { Verb } from './args.js';

export const FIELD_MANAGER = 'kubectl-hw';

export type GateVerb = Exclude<Verb, 'status' | 'history'>;

export interface AnnotationChange {
  annotation: string;
  /** null: the annotation is removed. */
  value: string | null;
}

export function annotationChange(verb: GateVerb, now: Date): AnnotationChange {
  const token = now.toISOString();
  switch (verb) {
    case 'promote':
      return { annotation: ANNOTATION_PROMOTE, value: token };
    case 'abort':
      return { annotation: ANNOTATION_ABORT, value: token };
    case 'retry':
      return { annotation: ANNOTATION_RETRY, value: token };
    case 'pause':
      return { annotation: ANNOTATION_PAUSE, value: token };
    case 'resume':
      return { annotation: ANNOTATION_PAUSE, value: null };
  }
}

/** The merge patch body: only metadata.annotations[annotation]. */
export function mergePatch(change: AnnotationChange): object {
  return { metadata: { annotations: { [change.annotation]: change.value } } };
}

export function isGateVerb(verb: Verb): verb is GateVerb {
  return verb !== 'status' && verb !== 'history';
}
