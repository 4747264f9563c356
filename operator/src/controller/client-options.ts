/** How the operator uses the runtime's KubeClient: its field manager, hash annotation and kinds. */
import { ALL_KINDS } from '../crd/kinds.js';
import { DESIRED_HASH_ANNOTATION, FIELD_MANAGER } from '../crd/labels.js';
import type { KubeClientOptions } from '../runtime/kube.js';

export const CLIENT_OPTIONS = {
  fieldManager: FIELD_MANAGER,
  desiredHashAnnotation: DESIRED_HASH_ANNOTATION,
  kinds: ALL_KINDS,
} as const satisfies KubeClientOptions;
