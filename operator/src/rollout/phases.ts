import type { Phase } from '../crd/types.js';

/** A rollout is under way: rolling, verifying, or standing still at a pause. */
export function isMoving(phase: Phase | undefined): boolean {
  return phase === 'Progressing' || phase === 'Verifying' || phase === 'Paused';
}
