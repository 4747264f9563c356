/**
 * The status of a HelloWorld whose reconcile is blocked (someone else's child, an unusable Redis Secret)
 * or runs around a conflict. Pure: reconcile.ts writes what these return.
 */
import type { HelloWorld, HelloWorldStatus } from '../crd/types.js';
import { BlockedReason, Reason, setCondition } from '../rollout/conditions.js';
import type { ChildPlan } from './ownership.js';
import { conflictMessage } from './ownership.js';

/** The reasons a reconcile sets on Degraded itself, which a later reconcile clears once they are gone. */
const BLOCKING_REASONS: ReadonlySet<string> = new Set(Object.values(BlockedReason));

/**
 * The stored status without a Degraded condition that a blocked reconcile set: the rollout machine
 * keeps Degraded as it finds it, and the block is over when this runs.
 */
export function withoutBlockedDegraded(status: HelloWorldStatus): HelloWorldStatus {
  const degraded = status.conditions?.find((c) => c.type === 'Degraded');
  if (degraded === undefined || !BLOCKING_REASONS.has(degraded.reason)) return status;
  return { ...status, conditions: status.conditions?.filter((c) => c !== degraded) };
}

/**
 * The conditions of a reconcile that applied the Deployment while some other child is someone else's:
 * Reconciled=False names the conflicts, and so does Degraded unless a failed rollout is on it.
 */
export function withConflicts(
  plan: ChildPlan,
  hw: HelloWorld,
  conditions: HelloWorldStatus['conditions'],
  now: Date,
): NonNullable<HelloWorldStatus['conditions']> {
  if (plan.conflicts.length === 0) return conditions ?? [];
  // The rollout machine started from a status without the conflict's Degraded: put the stored one back,
  // so that a conflict that goes on keeps its transition time and makes no write.
  const stored = hw.status?.conditions?.find((c) => c.type === 'Degraded');
  const list = (conditions ?? []).map((c) =>
    c.type === 'Degraded' && c.status === 'False' && stored?.reason === Reason.ChildConflict ? stored : c,
  );
  const generation = hw.metadata.generation ?? 0;
  const update = { status: 'True', reason: Reason.ChildConflict, message: conflictMessage(plan) } as const;
  const degraded = list.find((c) => c.type === 'Degraded');
  const rolloutFailed = degraded?.status === 'True' && !BLOCKING_REASONS.has(degraded.reason);
  const withDegraded = rolloutFailed
    ? list
    : setCondition(list, { type: 'Degraded', ...update }, generation, now);
  return setCondition(withDegraded, { type: 'Reconciled', ...update, status: 'False' }, generation, now);
}

/** Whether `next` reports a conflict the stored status did not, or other objects. */
export function isConflictNew(stored: HelloWorldStatus, next: HelloWorldStatus): boolean {
  const before = stored.conditions?.find((c) => c.type === 'Reconciled');
  const after = next.conditions?.find((c) => c.type === 'Reconciled');
  return before?.reason !== after?.reason || before?.message !== after?.message;
}

/**
 * A blocked reconcile's status: Degraded=True and Reconciled=False with the block's reason, the rest
 * as it was (the rollout is not judged while blocked).
 */
export function blockedStatus(
  hw: HelloWorld,
  block: { reason: string; message: string },
  now: Date,
): HelloWorldStatus {
  const generation = hw.metadata.generation ?? 0;
  const degraded = setCondition(
    hw.status?.conditions ?? [],
    { type: 'Degraded', status: 'True', ...block },
    generation,
    now,
  );
  return {
    ...hw.status,
    phase: hw.status?.phase ?? 'Pending',
    conditions: setCondition(degraded, { type: 'Reconciled', status: 'False', ...block }, generation, now),
    observedGeneration: generation,
  };
}
